"""Applying one pushed batch: exactly one result per record, nothing lost, nothing overwritten.

One transaction per batch. The sequence counter is taken first, which orders concurrent pushes;
the insert still says "on conflict do nothing" and is checked, so that a race can never make a
second row nor an error: the loser rolls back and reads the winner's row on its retry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import sequence
from .bulk import EncodedJSON, insert_rows
from .content import content_hash, fingerprint_and_data
from .protocol import as_uuid, check_record
from .schema import quarantine, record, record_conflict, record_revision, sync_log, utcnow

RETRIES = 3


@dataclass(frozen=True)
class Actor:
    """Who pushes or pulls: a user id and role, and whether they work at the office."""

    id: int
    role: str
    office: bool = False


class Forms(Protocol):
    """What the engine needs to know of forms: who may fill one, and how to check its data."""

    def may_fill(self, role: str, form: str) -> bool:
        """Tell whether a role may fill a form."""

    def validate(self, form: str, version: int, data: Any) -> tuple[dict, dict[str, list[str]]]:
        """Check a record's data against its form version: (clean data, errors by field)."""

    # Optional: `may_replace(form, stored_data, incoming_data) -> errors by field`, the rules
    # between a stored version and a new one (empty: the change may be stored); and
    # `may_store(record, actor) -> errors by field`, a valid record's rules that need more than
    # its data (it names something that must exist).


class LostRace(Exception):
    """Another transaction stored one of this batch's records first: retry the batch."""


@dataclass
class Checked:
    """One pushed record after its checks: normalised, fingerprinted, or with its errors."""

    raw: dict
    record: dict
    content_hash: str
    errors: dict[str, list[str]]
    data_json: EncodedJSON | None = None  # the clean data as stored, encoded with its fingerprint
    moment: datetime | None = None  # `recorded_at` read once, in UTC


def check(items: list[dict], actor: Actor, forms: Forms, now: datetime) -> list[Checked]:
    """Check every record of a batch, each alone; one bad record never fails another."""
    checked = []
    for item in items:
        found, errors = check_record(item, now)
        if not errors and not forms.may_fill(actor.role, found["form"]):
            errors = {"form": ["Votre rôle ne permet pas de remplir ce formulaire."]}
        if not errors:
            clean, errors = forms.validate(found["form"], found["form_version"], found["data"])
            found["data"] = clean
        store_rule = getattr(forms, "may_store", None)
        if not errors and store_rule:
            errors = store_rule(found, actor)
        if errors:
            checked.append(Checked(item, found, content_hash(item), errors))
            continue
        # One moment, one fingerprint: "…+01:00" and "…Z" name the same time.
        moment = _recorded_at(found["recorded_at"]).astimezone(UTC)
        found["recorded_at"] = moment.isoformat()
        fingerprint, data_json = fingerprint_and_data(found)
        checked.append(Checked(item, found, fingerprint, errors, EncodedJSON(data_json), moment))
    return checked


@dataclass
class Applied:
    """A batch once committed: one result per record, and the rows it wrote as they now stand.

    `written` holds, for each record created or updated, the columns the follow-up reads (`id,
    form, data, recorded_by, recorded_at, received_at, deleted`) and its `change_seq`: what was
    just stored need not be read back from the database to be followed.
    """

    results: list[dict]
    written: list[dict]


def apply_batch(
    session: Session,
    actor: Actor,
    device_id: str | None,
    items: list[dict],
    forms: Forms,
    author: int | None = None,
    waiting: int | None = None,
) -> Applied:
    """Apply one pushed batch and commit it; return its results (in request order) and rows.

    `author` stores new records in another person's name (a coordinateur correcting an agent's
    rejected record); by default the author is whoever pushes. `waiting` is how many records
    the tablet said it held, kept in the sync log.
    """
    started = perf_counter()
    now = utcnow()
    checked = check(items, actor, forms, now)
    for attempt in range(RETRIES):
        try:
            results, written = _write(session, actor, device_id, checked, now, author, forms)
        except LostRace:
            session.rollback()
            if attempt == RETRIES - 1:
                raise
            continue
        counts: dict[str, int] = defaultdict(int)
        for result in results:
            counts[result["status"]] += 1
        session.execute(insert(sync_log).values(
            at=now, user_id=actor.id, device_id=device_id, kind="push", counts=dict(counts),
            duration_ms=round((perf_counter() - started) * 1000), waiting=waiting,
        ))
        session.commit()
        return Applied(results, written)
    raise AssertionError("unreachable")


def _write(session: Session, actor: Actor, device_id: str | None, checked: list[Checked],
           now: datetime, author: int | None, forms: Forms) -> tuple[list[dict], list[dict]]:
    next_seq = sequence.reserve(session, max(1, len(checked)))
    ids = list({c.record["id"] for c in checked})
    current = _stored(session, actor, checked, ids)
    kept = defaultdict(set)
    # Versions kept in conflict exist only beside a stored record: a batch of new records
    # (a tablet's usual push) has none to look up.
    for record_id, kept_hash in session.execute(
        select(record_conflict.c.record_id, record_conflict.c.content_hash)
        .where(record_conflict.c.record_id.in_(list(current)))
    ) if current else ():
        kept[record_id].add(kept_hash)
    quarantined = {(row.record_id, row.content_hash) for row in session.execute(
        select(quarantine.c.record_id, quarantine.c.content_hash)
        .where(quarantine.c.record_id.in_(ids), quarantine.c.status == "open"))}

    batch = _Batch(actor, device_id, now, author or actor.id)
    results = []
    for item in checked:
        ident = item.record["id"]
        stored = current.get(ident)
        if not item.errors and stored is not None:
            item.errors = may_change(stored, item.record, actor, forms)
        if not item.errors and stored is not None and item.content_hash != stored["content_hash"]:
            # Rules between two versions of one record, the form's own (a level that only rises).
            replace = getattr(forms, "may_replace", None)
            item.errors = replace(stored["form"], stored["data"], item.record["data"]) \
                if replace else {}
        if item.errors:
            if (ident, item.content_hash) not in quarantined:
                quarantined.add((ident, item.content_hash))
                batch.quarantine(item)
            results.append(_result(item.raw["id"], "rejected", None, item.errors))
        elif stored is None:
            current[ident] = batch.create(item, next_seq)
            next_seq += 1
            results.append(_result(item.raw["id"], "created", 1))
        elif item.content_hash == stored["content_hash"] or item.content_hash in kept[ident]:
            results.append(_result(item.raw["id"], "unchanged", stored["revision"]))
        elif item.record["base_revision"] == stored["revision"]:
            current[ident] = batch.update(stored, item, next_seq)
            next_seq += 1
            results.append(_result(item.raw["id"], "updated", current[ident]["revision"]))
        else:
            kept[ident].add(item.content_hash)
            batch.conflict(stored, item)
            results.append(_result(item.raw["id"], "conflict", stored["revision"]))
    batch.execute(session)
    _close_corrected(session, actor, now, results, {ident for ident, _ in quarantined})
    return results, [*batch.inserts.values(), *batch.updates.values()]


def _stored(session: Session, actor: Actor, checked: list[Checked], ids: list[str]) -> dict:
    """Return the stored rows of these ids; their data only where the batch may need it.

    A replay (the same records sent again by their author) needs no stored data: decoding it
    was most of a replay's cost. It is read for a record whose content differs (rules between
    two versions, history, conflicts) or that someone else made (what it shares, `may_change`).
    """
    without_data = [column for column in record.c if column.name != "data"]
    current = {row.id: dict(row._mapping) for row in session.execute(
        select(*without_data).where(record.c.id.in_(ids)))}
    wanted = {item.record["id"] for item in checked
              if (stored := current.get(item.record["id"])) is not None
              and (item.content_hash != stored["content_hash"]
                   or (not actor.office and stored["recorded_by"] != actor.id))}
    if wanted:
        for ident, data in session.execute(
                select(record.c.id, record.c.data).where(record.c.id.in_(wanted))):
            current[ident]["data"] = data
    return current


def _close_corrected(session: Session, actor: Actor, now: datetime, results: list[dict],
                     quarantined: set[str]) -> None:
    """Mark as corrected the refusals of records that a tablet fixed and sent again."""
    stored = {as_uuid(r["id"]) for r in results if r["status"] in ("created", "updated")}
    fixed = stored & quarantined
    if fixed:
        session.execute(
            update(quarantine)
            .where(quarantine.c.record_id.in_(fixed), quarantine.c.status == "open")
            .values(status="corrected", decided_at=now, decided_by=actor.id,
                    reason="Corrigée sur la tablette et renvoyée."))


def may_change(stored: dict, incoming: dict, actor: Actor,
               forms: Forms | None = None) -> dict[str, list[str]]:
    """Say why this actor may not change a stored record this way (empty: they may).

    Its author and the office may; others only where the forms say a record is shared (the
    optional hook `shared_with(stored, actor)`: a maraude team's rounds).
    """
    if stored["form"] != incoming["form"]:
        return {"form": ["Une fiche ne change pas de formulaire."]}
    shared = getattr(forms, "shared_with", None)
    if not actor.office and stored["recorded_by"] != actor.id \
            and not (shared and shared(stored, actor)):
        return {"id": ["Cette fiche a été faite par une autre personne : modification refusée."]}
    return {}


def history_row(stored: dict, replaced_at: datetime) -> dict:
    """Return the history row that keeps a revision about to be replaced (who wrote it, when)."""
    return {
        "record_id": stored["id"], "revision": stored["revision"],
        "form_version": stored["form_version"], "parent_id": stored["parent_id"],
        "data": stored["data"], "recorded_at": stored["recorded_at"],
        "received_at": stored["received_at"],
        "recorded_by": stored["revised_by"] or stored["recorded_by"],
        "device_id": stored["device_id"], "content_hash": stored["content_hash"],
        "replaced_at": replaced_at,
    }


def _result(ident: str, status: str, revision: int | None, errors: dict | None = None) -> dict:
    return {"id": ident, "status": status, "revision": revision, "errors": errors or {}}


def _recorded_at(value: str) -> datetime:
    return datetime.fromisoformat(value)


class _Batch:
    """The writes of one batch, gathered so that each table gets one statement."""

    def __init__(self, actor: Actor, device_id: str | None, now: datetime, author: int) -> None:
        self.actor, self.device_id, self.now, self.author = actor, device_id, now, author
        self.inserts: dict[str, dict] = {}
        self.encoded: dict[str, EncodedJSON] = {}  # the data of each staged insert, as stored
        self.updates: dict[str, dict] = {}
        self.history: list[dict] = []
        self.conflicts: list[dict] = []
        self.rejected: list[dict] = []

    def create(self, item: Checked, seq: int) -> dict:
        """Stage a new record at revision 1."""
        row = self._content(item) | {
            "id": item.record["id"], "revision": 1, "recorded_by": self.author,
            "revised_by": None if self.author == self.actor.id else self.actor.id,
            "change_seq": seq, "deleted": False,
        }
        self.inserts[row["id"]] = row
        self.encoded[row["id"]] = item.data_json
        return row

    def update(self, stored: dict, item: Checked, seq: int) -> dict:
        """Stage a new revision, keeping the one it replaces in the history."""
        self.history.append(history_row(stored, self.now))
        row = stored | self._content(item) | {
            "revision": stored["revision"] + 1, "change_seq": seq,
            "revised_by": None if self.actor.id == stored["recorded_by"] else self.actor.id,
        }
        if row["id"] in self.inserts:
            self.inserts[row["id"]] = row
            self.encoded[row["id"]] = item.data_json
        else:
            self.updates[row["id"]] = row | {"expected_revision": stored["revision"]}
        return row

    def conflict(self, stored: dict, item: Checked) -> None:
        """Keep an incoming version made on a stale revision beside the current one."""
        self.conflicts.append(self._content(item) | {
            "record_id": item.record["id"], "base_revision": item.record["base_revision"],
            "current_revision": stored["revision"], "recorded_by": self.actor.id,
        })

    def quarantine(self, item: Checked) -> None:
        """Keep a rejected record raw, with its errors."""
        form = item.raw.get("form")
        self.rejected.append({
            "record_id": item.record["id"], "form": form if isinstance(form, str) else None,
            "raw": item.raw, "content_hash": item.content_hash, "errors": item.errors,
            "recorded_by": self.actor.id, "device_id": self.device_id,
            "received_at": self.now, "status": "open",
        })

    def _content(self, item: Checked) -> dict:
        found = item.record
        return {
            "form": found["form"], "form_version": found["form_version"],
            "parent_id": found["parent_id"], "data": found["data"],
            "recorded_at": item.moment, "received_at": self.now,
            "device_id": self.device_id, "content_hash": item.content_hash,
        }

    def execute(self, session: Session) -> None:
        """Write everything staged: one statement per table."""
        if self.inserts:
            rows = [row | {"data": self.encoded[ident]} for ident, row in self.inserts.items()]
            if insert_rows(session, record, rows, skip_existing=("id",)) != len(rows):
                raise LostRace
        if self.history:
            session.execute(insert(record_revision), self.history)
        if self.updates:
            columns = ("form_version", "parent_id", "data", "recorded_at", "received_at",
                       "device_id", "content_hash", "revision", "change_seq", "revised_by")
            statement = (
                update(record)
                .where(record.c.id == bindparam("b_id"),
                       record.c.revision == bindparam("b_expected"))
                .values({column: bindparam(f"b_{column}") for column in columns})
            )
            params = [{f"b_{key}": row[key] for key in columns}
                      | {"b_id": row["id"], "b_expected": row["expected_revision"]}
                      for row in self.updates.values()]
            changed = session.connection().execute(statement, params)
            if session.get_bind().dialect.supports_sane_multi_rowcount and (
                changed.rowcount != len(params)
            ):
                raise LostRace
        if self.conflicts:
            session.execute(insert(record_conflict), self.conflicts)
        if self.rejected:
            session.execute(insert(quarantine), self.rejected)

