"""What every path that stores records goes through, and the follow-up it sets off.

A tablet's push, online entry, an import and a correction all store through `store`. After the
commit, `catch_up` reads the records changed since it last ran, in the order of the server
sequence, and hands them to the features in one `signals.records_stored`: none is missed whatever
path stored it, and none is followed twice (each feature's receiver is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import catalog, signals
from outreach.core.models import move_watermark, take_watermark
from sync import sequence
from sync.push import Actor, apply_batch
from sync.schema import record

log = logging.getLogger(__name__)
WATERMARK = "followed_seq"


class Written(NamedTuple):
    """A row just written by this process, handed to the follow-up as the database would."""

    id: str
    form: str
    data: dict
    recorded_by: int
    recorded_at: datetime
    received_at: datetime
    deleted: bool


FOLLOWED = (record.c.id, record.c.form, record.c.data, record.c.recorded_by,
            record.c.recorded_at, record.c.received_at, record.c.deleted)
_followed_values = itemgetter(*(column.name for column in FOLLOWED))


def catch_up(session: Session, written: Iterable[dict] = ()) -> int:
    """Follow the records stored since the last run; return how many were looked at.

    `written` are rows this process has just stored (`Applied.written`): those still at the
    revision they were written at are followed as they are, the others read from the database.
    """
    seen = take_watermark(session, WATERMARK)
    upper = sequence.current(session)
    since = (record.c.change_seq > seen, record.c.change_seq <= upper)
    known = {(row["id"], row["change_seq"]): row for row in written}
    if known:
        changed = session.execute(
            select(record.c.id, record.c.change_seq).where(*since).order_by(record.c.change_seq)
        ).all()
        unknown = [ident for ident, seq in changed if (ident, seq) not in known]
        read = {row.id: row for row in session.execute(
            select(*FOLLOWED).where(*since, record.c.id.in_(unknown)))} if unknown else {}
        rows = []
        for ident, seq in changed:
            if (ident, seq) in known:
                rows.append(Written._make(_followed_values(known[ident, seq])))
            elif ident in read:  # else changed again since: the next run follows it
                rows.append(read[ident])
    else:
        rows = session.execute(select(*FOLLOWED).where(*since).order_by(record.c.change_seq)).all()
    if rows:
        signals.records_stored.send(session, records=rows)
    move_watermark(session, WATERMARK, upper)
    session.commit()
    return len(rows)


def after_store(session: Session, written: Iterable[dict] = ()) -> None:
    """Follow what was just stored; a failure never undoes the storing (the next run catches up)."""
    try:
        catch_up(session, written)
    except Exception:
        session.rollback()
        log.exception("following stored records failed; the next store will catch up")


def store(session: Session, actor: Actor, device_id: str | None, items: list[dict],
          author: int | None = None, waiting: int | None = None) -> list[dict]:
    """Store records through the sync engine, then follow them: every path that stores does so."""
    applied = apply_batch(session, actor, device_id, items, catalog.engine_forms(), author=author,
                          waiting=waiting)
    _refused_for_whom_they_name(session, items, applied.results, author or actor.id)
    after_store(session, applied.written)
    return applied.results


def _refused_for_whom_they_name(session: Session, items: list[dict], results: list[dict],
                                author: int) -> None:
    """Tell the features of the records kept apart only for whom they name.

    Their author may not see that person's file, so each waits in quarantine; a fall or an urgent
    situation in it must not wait with it.
    """
    refused = [
        item for item, result in zip(items, results, strict=True)
        if result["status"] == "rejected" and result["errors"]
        and all(messages == [catalog.OUTSIDE_WORK] for messages in result["errors"].values())
    ]
    if refused:
        signals.records_refused.send(session, items=refused, author=author)
        session.commit()


def store_change(session: Session, actor: Actor, stored, data: dict,
                 base_revision: int | None) -> dict:
    """Store new data for a stored record, as a tablet's edit would; return its push result.

    The observation keeps its time and its parent; the history says who changed it and when.
    """
    item = {"id": stored.id, "form": stored.form, "form_version": stored.form_version,
            "parent_id": stored.parent_id, "recorded_at": stored.recorded_at.isoformat(),
            "base_revision": base_revision, "data": data}
    [result] = store(session, actor, None, [item])
    return result
