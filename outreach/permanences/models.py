"""The permanences feature's tables."""


from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.db import db
from outreach.core.models import User


class PlannedSession(db.Model):
    """A permanence délocalisée planned in the calendar: site, day, hours, travailleur social.

    It appears on their tablet; the session itself is recorded there when it is held.
    """

    __tablename__ = "planned_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str | None] = mapped_column(String(5))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id], lazy="joined")
