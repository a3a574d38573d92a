"""What people decide about records the engine could not store as sent.

A rejected record is corrected (checked again, then stored through the push path) or discarded
with a reason; a conflict is resolved by choosing the data of the new revision. Each decision is
kept on its row (who, when, what), and a resolution is a new revision that tablets pull.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import sequence
from .content import content_hash
from .push import Actor, Forms, apply_push, check, history_row
from .schema import quarantine, record, record_conflict, record_revision, utcnow


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
    if checked.errors:
        return None, checked.errors
    [result] = apply_push(session, actor, kept["device_id"], [item], forms,
                          author=kept["recorded_by"])
    session.execute(update(quarantine).where(quarantine.c.id == quarantine_id).values(
        status="corrected", decided_at=utcnow(), decided_by=actor.id,
        reason=f"corrigée : {result['status']}"))
    session.commit()
    return result, {}


def discard_rejected(session: Session, actor: Actor, quarantine_id: int, reason: str) -> None:
    """Set a rejected record aside for good, with the reason (it stays in quarantine)."""
    _open_rejected(session, quarantine_id)
    if not reason.strip():
        raise DecisionError("Donnez la raison de l'abandon.")
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
) -> tuple[int | None, dict[str, list[str]]]:
    """Make the chosen data the record's new revision: (revision, errors if invalid)."""
    conflict, current = open_conflict(session, conflict_id)
    clean, errors = forms.validate(current["form"], current["form_version"], data)
    if errors:
        return None, errors
    now = utcnow()
    seq = sequence.reserve(session, 1)
    # Read again under the counter's lock: a push may have made a revision meanwhile.
    current = dict(session.execute(select(record).where(record.c.id == current["id"])).one()
                   ._mapping)
    session.execute(insert(record_revision).values(history_row(current, now)))
    revision = current["revision"] + 1
    session.execute(update(record).where(record.c.id == current["id"]).values(
        data=clean, revision=revision, change_seq=seq, received_at=now, revised_by=actor.id,
        device_id=None,
        content_hash=content_hash({
            "form": current["form"], "form_version": current["form_version"],
            "parent_id": current["parent_id"],
            "recorded_at": current["recorded_at"].isoformat(), "data": clean})))
    session.execute(update(record_conflict).where(record_conflict.c.id == conflict_id).values(
        resolved_at=now, resolved_by=actor.id, resolution=f"révision {revision}"))
    session.commit()
    return revision, {}
