"""Reading stored records in the order of their last change, for the office and exports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, column, or_, select, table
from sqlalchemy.orm import Session

from .schema import record

MAX_LIMIT = 1000
accounts = table("user_account", column("id"), column("login"))


class BadCursor(ValueError):
    """A records cursor this server did not make."""


def read_after(cursor: str | None) -> tuple[int, str]:
    """Read a records cursor `<sequence>:<id>` (none: from the start)."""
    if not cursor:
        return 0, ""
    seq, _, ident = cursor.partition(":")
    # ASCII digits only ("²" is a digit to isdigit, not to int), and within SQLite's integers.
    if not (seq.isascii() and seq.isdigit() and len(seq) <= 18):
        raise BadCursor("Curseur inconnu.")
    return int(seq), ident


def list_records(
    session: Session, form: str | None, after: str | None, limit: int
) -> dict[str, Any]:
    """Return stored records after a cursor, by server sequence of their last change."""
    seq, ident = read_after(after)
    limit = min(limit, MAX_LIMIT)
    query = (
        select(record, accounts.c.login)
        .join(accounts, accounts.c.id == record.c.recorded_by)
        .where(record.c.deleted.is_(False))
        .where(or_(record.c.change_seq > seq,
                   and_(record.c.change_seq == seq, record.c.id > ident)))
        .order_by(record.c.change_seq, record.c.id)
        .limit(limit + 1)
    )
    if form:
        query = query.where(record.c.form == form)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    records = [
        {
            "id": row.id, "form": row.form, "form_version": row.form_version,
            "revision": row.revision, "parent_id": row.parent_id,
            "recorded_at": row.recorded_at.isoformat(), "received_at": row.received_at.isoformat(),
            "recorded_by": row.login, "data": row.data,
        }
        for row in rows
    ]
    cursor = f"{rows[-1].change_seq}:{rows[-1].id}" if rows else (after or "0:")
    return {"records": records, "cursor": cursor, "more": more}
