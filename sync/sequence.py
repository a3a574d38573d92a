"""The server sequence: monotonic change numbers for cursors, never a clock."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .schema import sync_counter


def reserve(session: Session, count: int) -> int:
    """Take `count` new sequence numbers; return the first. Locks the counter until commit.

    Called first in a writing transaction: the row lock orders writers, so that every number
    below a committed one is committed too, and a reader never skips a late commit.
    """
    last = session.execute(update(sync_counter).where(sync_counter.c.id == 1)
                           .values(value=sync_counter.c.value + count)
                           .returning(sync_counter.c.value)).scalar_one()
    return last - count + 1


def current(session: Session) -> int:
    """Return the last committed sequence number."""
    return session.scalar(select(sync_counter.c.value).where(sync_counter.c.id == 1)) or 0
