"""The people feature's tables."""


from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import db
from sync.schema import UTCDateTime, utcnow


class PersonMerge(db.Model):
    """Two files of one person made one: what moved, so that the merge can be undone."""

    __tablename__ = "person_merge"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kept_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    # Ids only: the records, assignments and alerts that pointed at the merged file.
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    merged_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
