"""The tables the sync engine owns. The app maps its models onto them; nothing here needs Flask."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

# Named constraints: Alembic can then alter them on every engine, SQLite included.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store in UTC; refuse a time without a timezone."""
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: give it a timezone")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        """Read back as UTC, timezone-aware."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _user() -> ForeignKey:
    return ForeignKey("user_account.id")


# One row per record at its current revision. The id is made on the tablet and is the primary key:
# a second row with the same id is impossible at the database level.
record = Table(
    "record",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("form", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("parent_id", String(36), index=True),
    Column("data", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False, default=utcnow),
    # The author: who made the record; only they (or the office) may change it.
    Column("recorded_by", _user(), nullable=False),
    # Who wrote the current revision when it is not the author (a coordinateur's correction).
    Column("revised_by", _user()),
    Column("device_id", String(36)),
    Column("content_hash", String(64), nullable=False),
    # Server sequence of the last change: what pulls and incremental readers follow.
    Column("change_seq", BigInteger, nullable=False, default=0),
    # A tombstone: removed or merged, kept so that tablets learn it at their next pull.
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_record_form_recorded_at", "form", "recorded_at"),
    Index("ix_record_recorded_by", "recorded_by"),
    Index("ix_record_form_change_seq", "form", "change_seq"),
    Index("ix_record_change_seq", "change_seq"),
)

# Earlier revisions of updated records: who sent each, when, from which device.
record_revision = Table(
    "record_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(36), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("parent_id", String(36)),
    Column("data", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("recorded_by", _user(), nullable=False),
    Column("device_id", String(36)),
    Column("content_hash", String(64), nullable=False),
    Column("replaced_at", UTCDateTime, nullable=False, default=utcnow),
)

# Incoming versions that were based on a stale revision, kept beside the current one until a
# coordinateur resolves them. Nothing is overwritten silently.
record_conflict = Table(
    "record_conflict",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(36), nullable=False, index=True),
    Column("form", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("parent_id", String(36)),
    Column("data", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("base_revision", Integer),
    Column("current_revision", Integer, nullable=False),
    Column("recorded_by", _user(), nullable=False),
    Column("device_id", String(36)),
    Column("received_at", UTCDateTime, nullable=False, default=utcnow),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", _user()),
    Column("resolution", Text),
)

# Records that did not validate, kept raw with their errors: rejected is never dropped.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(36), nullable=False, index=True),
    Column("form", String(64)),
    Column("raw", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("errors", JSON, nullable=False),
    Column("recorded_by", _user(), nullable=False),
    Column("device_id", String(36)),
    Column("received_at", UTCDateTime, nullable=False, default=utcnow),
    Column("status", String(16), nullable=False, default="open"),
    Column("decided_at", UTCDateTime),
    Column("decided_by", _user()),
    Column("reason", Text),
)

# One row per push and per pull: who, from which device, what happened, how long it took.
sync_log = Table(
    "sync_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, default=utcnow, index=True),
    Column("user_id", _user(), nullable=False),
    Column("device_id", String(36)),
    Column("kind", String(8), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    # How many records waited on the tablet when it called (X-Outreach-Waiting), when it said.
    Column("waiting", Integer),
)

# The server sequence: one row, bumped inside each writing transaction. Its row lock orders the
# writers, so a sequence number is never visible before every smaller one is committed.
sync_counter = Table(
    "sync_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)
