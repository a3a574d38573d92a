"""What people decide about records the engine could not store as sent.

A rejected record is corrected (checked again, then stored through the push path) or discarded
with a reason; a conflict is resolved by choosing the data of the new revision. Each decision is
kept on its row (who, when, what), and a resolution is a new revision that tablets pull.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import sequence
from .content import content_hash
from .push import Actor, Forms, apply_batch, check, history_row, may_change
from .schema import quarantine, record, record_conflict, record_revision, utcnow

CORRECTED = {
    "created": "Corrigée et enregistrée.",
    "updated": "Corrigée : nouvelle révision de la fiche.",
    "unchanged": "Corrigée : la fiche était déjà enregistrée ainsi.",
    "conflict": "Corrigée : gardée en conflit pour un coordinateur.",
}
REASON_MAX = 500


class DecisionError(ValueError):
    """A decision that cannot be made; the message says why, in French."""


def _open_rejected(session: Session, quarantine_id: int) -> dict:
    row = session.execute(select(quarantine).where(quarantine.c.id == quarantine_id)).first()
    if row is None:
        raise DecisionError("Fiche en quarantaine introuvable.")
    if row.status != "open":
        raise DecisionError("Cette fiche a déjà été traitée.")
    return dict(row._mapping)


def correct_rejected(
    session: Session, actor: Actor, quarantine_id: int, data: dict, forms: Forms,
    form_version: int | None = None,
) -> tuple[dict | None, dict[str, list[str]]]:
    """Check a corrected rejected record and store it: (push result, errors if still wrong)."""
    kept = _open_rejected(session, quarantine_id)
    raw = kept["raw"]
    item = {
        "id": kept["record_id"], "form": raw.get("form"),
        "form_version": form_version or raw.get("form_version"),
        "recorded_at": raw.get("recorded_at"), "parent_id": raw.get("parent_id"),
        "base_revision": raw.get("base_revision"), "data": data,
    }
    [checked] = check([item], actor, forms, utcnow())
    stored = session.execute(select(record).where(record.c.id == item["id"])).first()
    if not checked.errors and stored is not None:
        checked.errors = may_change(dict(stored._mapping), checked.record, actor)
    if checked.errors:
        return None, checked.errors
    [result] = apply_batch(session, actor, kept["device_id"], [item], forms,
                           author=kept["recorded_by"]).results
    session.execute(update(quarantine).where(quarantine.c.id == quarantine_id).values(
        status="corrected", decided_at=utcnow(), decided_by=actor.id,
        reason=CORRECTED[result["status"]]))
    session.commit()
    return result, {}


def discard_rejected(session: Session, actor: Actor, quarantine_id: int, reason: str) -> None:
    """Set a rejected record aside for good, with the reason (it stays in quarantine)."""
    _open_rejected(session, quarantine_id)
    if not reason.strip():
        raise DecisionError("Donnez la raison de l'abandon.")
    if len(reason) > REASON_MAX:
        raise DecisionError(f"{REASON_MAX} caractères au plus pour la raison.")
    session.execute(update(quarantine).where(quarantine.c.id == quarantine_id).values(
        status="discarded", decided_at=utcnow(), decided_by=actor.id, reason=reason.strip()))
    session.commit()


def open_conflict(session: Session, conflict_id: int) -> tuple[dict, dict]:
    """Return an unresolved conflict and the record's current row."""
    row = session.execute(
        select(record_conflict).where(record_conflict.c.id == conflict_id)).first()
    if row is None:
        raise DecisionError("Conflit introuvable.")
    if row.resolved_at is not None:
        raise DecisionError("Ce conflit est déjà résolu.")
    current = session.execute(select(record).where(record.c.id == row.record_id)).first()
    return dict(row._mapping), dict(current._mapping)


def resolve_conflict(
    session: Session, actor: Actor, conflict_id: int, data: dict, forms: Forms,
    expected_revision: int | None = None,
) -> tuple[int | None, dict[str, list[str]]]:
    """Make the chosen data the record's new revision: (revision, errors if invalid).

    :raises DecisionError: when the record changed since `expected_revision` was shown.
    """
    conflict, current = open_conflict(session, conflict_id)
    clean, errors = forms.validate(current["form"], current["form_version"], data)
    if errors:
        return None, errors
    now = utcnow()
    seq = sequence.reserve(session, 1)
    # Read again under the counter's lock: a push may have made a revision meanwhile.
    current = dict(session.execute(select(record).where(record.c.id == current["id"])).one()
                   ._mapping)
    if expected_revision is not None and current["revision"] != expected_revision:
        session.rollback()
        raise DecisionError("La fiche a changé entre-temps : revoyez le conflit.")
    revision = write_revision(session, actor, current, clean, seq, now)
    session.execute(update(record_conflict).where(record_conflict.c.id == conflict_id).values(
        resolved_at=now, resolved_by=actor.id, resolution=f"révision {revision}"))
    session.commit()
    return revision, {}


def write_revision(session: Session, actor: Actor, current: dict, data: dict, seq: int,
                   now: datetime, deleted: bool | None = None) -> int:
    """Keep the current version in history and store `data` as the next revision; return it.

    The caller holds the sequence (`seq` reserved first) and commits.
    """
    session.execute(insert(record_revision).values(history_row(current, now)))
    revision = current["revision"] + 1
    values = {
        "data": data, "revision": revision, "change_seq": seq, "received_at": now,
        "revised_by": actor.id, "device_id": None,
        "content_hash": content_hash({
            "form": current["form"], "form_version": current["form_version"],
            "parent_id": current["parent_id"],
            "recorded_at": current["recorded_at"].isoformat(), "data": data}),
    }
    if deleted is not None:
        values["deleted"] = deleted
    session.execute(update(record).where(record.c.id == current["id"]).values(**values))
    return revision
