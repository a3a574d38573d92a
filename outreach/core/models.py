"""The tables of the central database."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.db import db
from sync import schema
from sync.schema import UTCDateTime, utcnow


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
    # No longer read: sessions live in login_session (outreach.sessions). Kept so that an
    # upgraded database needs no rebuild of the accounts table.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_active(self) -> bool:
        """Tell Flask-Login whether the account may hold a session."""
        return self.active

    def get_id(self) -> str:
        """Return the identity Flask-Login keeps; the session row decides whether it holds."""
        return str(self.id)


class LoginSession(db.Model):
    """One login: the cookie carries only its random key, the row says whether it still holds.

    Revoked on logout, a new password, a disabled account, a changed role and a lost tablet;
    `token_hash` is the key's SHA-256, so a copy of the database opens no session.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(36), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(64))


class Tablet(db.Model):
    """A tablet (a browser profile) that has called the server: what the office sees of it.

    Known by the device id the tablet draws once and sends with every call. Declared lost, its
    calls are refused (403 `tablette_perdue`) and its escrow keys deleted; the row stays, with
    how many records it said were waiting at its last contact (given up with it).
    """

    __tablename__ = "tablet"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user_agent: Mapped[str | None] = mapped_column(String(120))
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")


class TabletKey(db.Model):
    """The escrow key of one person on one tablet: the server's copy of what opens their data.

    So a forgotten code and password never lose what waits on the tablet. Handed over only at
    that person's login from that tablet; deleted when the tablet is declared lost.
    """

    __tablename__ = "tablet_key"
    __table_args__ = (Index("uq_tablet_key_device_user", "device_id", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("tablet.device_id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(80), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # From which tablet (X-Outreach-Device, else the session's) and which login session.
    device_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[int | None] = mapped_column(Integer)


class AppState(db.Model):
    """A small key-value store for facts about this installation (demo loaded, and so on)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def take_watermark(session, key: str) -> int:
    """Lock a "done up to" mark of the server sequence and return it (0 the first time).

    Taking the row first makes two runs of the same follower wait for each other (SQLite and
    PostgreSQL alike); the caller moves the mark (`move_watermark`) and commits.
    """
    state = AppState.__table__
    locked = session.execute(
        update(state).where(state.c.key == key).values(value=state.c.value)
        .returning(state.c.value)
    ).scalar()
    if locked is None:
        session.add(AppState(key=key, value="0"))
        session.flush()
        return 0
    return int(locked)


def move_watermark(session, key: str, upper: int) -> None:
    """Say that a follower is done up to `upper` (the row is the caller's: taken above)."""
    state = AppState.__table__
    session.execute(update(state).where(state.c.key == key).values(value=str(upper)))


class AccessChange(db.Model):
    """A person this user started or stopped seeing (an assignment made or ended, a merge).

    The pull resends such a person, or a tombstone when it is no longer theirs.
    """

    __tablename__ = "access_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[str] = mapped_column(String(36))
    change_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_access_change_user_seq", "user_id", "change_seq"),)


class FormVersion(db.Model):
    """A version of a form an admin made at /admin/formulaires (shipped versions are files).

    Rows are never changed nor deleted: records made with a version are read with it for ever.
    """

    __tablename__ = "form_definition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (Index("uq_form_definition_key_version", "key", "version", unique=True),)
