"""The tables of the central database."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync import schema
from sync.schema import UTCDateTime, utcnow

from .db import db


class User(UserMixin, db.Model):
    """A person who logs in: an agent, a volunteer, a social worker, a coordinateur or an admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Changing it ends every session opened before (a reset password logs the old tablet out).
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_active(self) -> bool:
        """Tell Flask-Login whether the account may hold a session."""
        return self.active

    def get_id(self) -> str:
        """Return the session identity: the id and the session version, so a reset logs out."""
        return f"{self.id}:{self.session_version}"


class Record(db.Model):
    """One filled form: a rencontre, a visite, an accueil… at its current revision."""

    __table__ = schema.record

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[schema.record.c.recorded_by])


class ReferenceItem(db.Model):
    """One entry of a reference list a form's choices come from (sites, lieux…)."""

    __tablename__ = "reference_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_reference_item_list_value", "list_key", "value", unique=True),)


class LoginAttempt(db.Model):
    """One login attempt, kept for throttling and as the connection log (one year)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempt_login_at", "login", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )


class AuditEvent(db.Model):
    """Who did what to which record or account, and when; never the personal data itself."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AppState(db.Model):
    """A small key-value store for facts about this installation (demo loaded, and so on)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
