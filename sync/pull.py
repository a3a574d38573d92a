"""Building a pull: what this user may have offline, incrementally after a cursor.

A cursor is `<sequence>.<fingerprint>`: the server sequence already seen, and a fingerprint of the
forms and reference lists sent. Forms and lists travel whole, and only when they changed.
"""

from __future__ import annotations

import hashlib
from time import perf_counter
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import sequence
from .access import people_visible
from .content import canonical_json
from .push import Actor
from .schema import record, sync_log, utcnow

PAGE_SIZE = 500


class BadCursor(ValueError):
    """A cursor this server did not make."""


def fingerprint(forms: list[dict], reference: dict[str, list[dict]]) -> str:
    """Return a short fingerprint of the forms and reference lists a user receives."""
    payload = canonical_json({"forms": forms, "reference": reference})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def make_cursor(seq: int, forms_fingerprint: str) -> str:
    """Write a pull cursor."""
    return f"{seq}.{forms_fingerprint}"


def read_cursor(cursor: str | None) -> tuple[int, str | None]:
    """Read a pull cursor: (sequence seen, fingerprint); no cursor means everything."""
    if cursor is None or cursor == "":
        return 0, None
    seq, _, known = cursor.partition(".")
    if not seq.isdigit() or not known:
        raise BadCursor("Curseur inconnu : refaites une synchronisation complète (sans curseur).")
    return int(seq), known


def build_pull(
    session: Session,
    actor: Actor,
    cursor: str | None,
    forms: list[dict],
    reference: dict[str, list[dict]],
    device_id: str | None = None,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """Return what this actor may have offline after `cursor`, a page at a time."""
    started = perf_counter()
    seen, known = read_cursor(cursor)
    current_fingerprint = fingerprint(forms, reference)
    upper = sequence.current(session)
    rows = session.execute(
        select(record.c.id, record.c.revision, record.c.data, record.c.deleted,
               record.c.change_seq)
        .where(record.c.form == "personne", record.c.change_seq > seen,
               record.c.change_seq <= upper, people_visible(actor))
        .order_by(record.c.change_seq, record.c.id)
        .limit(page_size + 1)
    ).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    people = [
        {"id": row.id, "deleted": True} if row.deleted
        else {"id": row.id, "revision": row.revision, "data": row.data}
        for row in rows
    ]
    # While pages remain, the cursor stops at the last person sent; after the last one it moves
    # to the end of the sequence, past changes this user may not see.
    next_seq = rows[-1].change_seq if more else max(upper, seen)
    unchanged = known == current_fingerprint
    session.execute(insert(sync_log).values(
        at=utcnow(), user_id=actor.id, device_id=device_id, kind="pull",
        counts={"people": len(people)}, duration_ms=round((perf_counter() - started) * 1000),
    ))
    session.commit()
    return {
        "forms": [] if unchanged else forms,
        "reference": {} if unchanged else reference,
        "people": people,
        "cursor": make_cursor(next_seq, current_fingerprint),
        "more": more,
    }
