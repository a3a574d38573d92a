"""Building a pull: what this user may have offline, incrementally after a cursor.

A cursor is `<sequence>.<fingerprint>`: the server sequence already seen, and a fingerprint of the
forms and reference lists sent. Forms and lists travel whole, and only when they changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from time import perf_counter
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import sequence
from .access import access_change, merged_view, people_offline, through_merge_only
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
    # ASCII digits only ("²" is a digit to isdigit, not to int), and within SQLite's integers.
    if not (seq.isascii() and seq.isdigit() and len(seq) <= 18) or not known:
        raise BadCursor("Curseur inconnu : refaites une synchronisation complète (sans curseur).")
    return int(seq), known


# A kind of thing a pull carries beside the forms: a reader gives, for this actor, the changes
# in (seen, upper] as (sequence number, item) in sequence order, at most `limit` of them. An item
# is {"id", "revision", "data"}, or {"id", "deleted": True} for one withdrawn.
KindReader = Callable[[Session, Actor, int, int, int], list[tuple[int, dict]]]


def people_changes(session: Session, actor: Actor, seen: int, upper: int,
                   limit: int) -> list[tuple[int, dict]]:
    """Return the personne records changed for this actor.

    Changed ones, and those they started or stopped seeing (an assignment made or ended): sent
    again, or as a tombstone.
    """
    visible = people_offline(actor)
    # A file reached only through a merge travels at its alias level, as its page shows it.
    merged_only = through_merge_only(actor).label("merged_only")
    changed = session.execute(
        select(record.c.id, record.c.revision, record.c.data, record.c.deleted,
               record.c.change_seq, merged_only)
        .where(record.c.form == "personne", record.c.change_seq > seen,
               record.c.change_seq <= upper, visible)
        .order_by(record.c.change_seq, record.c.id)
        .limit(limit)
    ).all()
    items = [(row.change_seq, _person(row)) for row in changed]
    moved = session.execute(
        select(access_change.c.person_id, access_change.c.change_seq)
        .where(access_change.c.user_id == actor.id, access_change.c.change_seq > seen,
               access_change.c.change_seq <= upper)
        .order_by(access_change.c.change_seq)
        .limit(limit)
    ).all()
    if moved:
        still = {
            row.id: row for row in session.execute(
                select(record.c.id, record.c.revision, record.c.data, record.c.deleted,
                       merged_only)
                .where(record.c.id.in_([m.person_id for m in moved]),
                       record.c.form == "personne", visible)
            )
        }
        items += [
            (m.change_seq, _person(still[m.person_id]) if m.person_id in still
             else {"id": m.person_id, "deleted": True})
            for m in moved
        ]
    return sorted(items, key=lambda pair: pair[0])[:limit]


def _person(row) -> dict:
    if row.deleted:
        return {"id": row.id, "deleted": True}
    return {"id": row.id, "revision": row.revision,
            "data": merged_view(row.data) if row.merged_only else row.data}


def build_pull(
    session: Session,
    actor: Actor,
    cursor: str | None,
    forms: list[dict],
    reference: dict[str, list[dict]],
    device_id: str | None = None,
    page_size: int = PAGE_SIZE,
    kinds: dict[str, KindReader] | None = None,
    waiting: int | None = None,
) -> dict[str, Any]:
    """Return what this actor may have offline after `cursor`, a page at a time.

    `kinds` adds, beside `people`, what the app's domain sends (visits, alerts…), in the same
    shape and under the same cursor. `waiting` (what the tablet said it held) goes to the log.
    """
    started = perf_counter()
    seen, known = read_cursor(cursor)
    current_fingerprint = fingerprint(forms, reference)
    upper = sequence.current(session)
    readers: dict[str, KindReader] = {"people": people_changes, **(kinds or {})}
    # Every kind's changes carry a number of the one sequence: none past the cursor, nothing to
    # read (the pull a tablet makes every minute while nothing happens).
    changes = sorted(
        ((seq, name, item)
         for name, read in readers.items()
         for seq, item in read(session, actor, seen, upper, page_size + 1)),
        key=lambda change: change[0],
    ) if upper > seen else []
    more = len(changes) > page_size
    changes = changes[:page_size]
    # While pages remain, the cursor stops at the last change sent (sequence numbers are unique);
    # after the last one it moves to the end of the sequence, past changes this user may not see.
    next_seq = changes[-1][0] if more else max(upper, seen)
    unchanged = known == current_fingerprint
    answer: dict[str, Any] = {
        "forms": [] if unchanged else forms,
        "reference": {} if unchanged else reference,
    }
    for name in readers:
        # One entry per id and page, the latest (a person both changed and newly seen).
        latest = {item["id"]: item for _, kind, item in changes if kind == name}
        answer[name] = list(latest.values())
    session.execute(insert(sync_log).values(
        at=utcnow(), user_id=actor.id, device_id=device_id, kind="pull",
        counts={name: len(answer[name]) for name in readers},
        duration_ms=round((perf_counter() - started) * 1000), waiting=waiting,
    ))
    session.commit()
    return answer | {"cursor": make_cursor(next_seq, current_fingerprint), "more": more}
