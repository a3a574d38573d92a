"""The visits feature's tables."""


from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.db import db
from outreach.core.models import User


class VisitAssignment(db.Model):
    """A senior given to a visiteur, with a rhythm: what "Mes visites" and the planning show.

    A senior may have several visiteurs (one row each). `next_due` and `last_visit_id` follow the
    visites as they sync (visits.follow); `change_seq` is the server sequence of the last change,
    so the pull sends an assignment again when it moved.
    """

    __tablename__ = "visit_assignment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    visiteur_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    rhythm: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date] = mapped_column(Date)
    next_due: Mapped[date] = mapped_column(Date)
    last_visit_id: Mapped[str | None] = mapped_column(String(36))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    visiteur: Mapped[User] = relationship(foreign_keys=[visiteur_id], lazy="joined")
