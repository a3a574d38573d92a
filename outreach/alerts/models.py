"""The alerts feature's tables."""


from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.db import db
from outreach.core.models import User
from sync.schema import UTCDateTime


class Alert(db.Model):
    """An alert raised by a record from the field (a fall at a visite, an urgent rencontre…).

    One per record and kind, whatever path stored the record; followed from "nouvelle" to
    "prise en charge" to "close" by the coordinateur, and sent back to whoever raised it.
    """

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="nouvelle", index=True)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    raiser: Mapped[User] = relationship(foreign_keys=[raised_by], lazy="joined")
    taker: Mapped[User | None] = relationship(foreign_keys=[taken_by], lazy="joined")
    closer: Mapped[User | None] = relationship(foreign_keys=[closed_by], lazy="joined")

    __table_args__ = (Index("uq_alert_record_kind", "record_id", "kind", unique=True),)
