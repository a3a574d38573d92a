"""What the pull carries for a visiteur: their seniors, when each is due, the last visit's notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import catalog
from outreach.core.forms.html import show_value
from outreach.core.models import User
from outreach.visits import rules as visits
from outreach.visits.models import VisitAssignment
from sync.push import Actor
from sync.schema import record

LAST_VISIT_FIELDS = ("mode", "personne_vue", "etat_general", "besoins", "alerte", "notes")


def visit_changes(session: Session, actor: Actor, seen: int, upper: int,
                  limit: int) -> list[tuple[int, dict]]:
    """Return this visiteur's assignments changed in (seen, upper]; ended ones as tombstones."""
    rows = session.scalars(
        select(VisitAssignment)
        .where(VisitAssignment.visiteur_id == actor.id, VisitAssignment.change_seq > seen,
               VisitAssignment.change_seq <= upper)
        .order_by(VisitAssignment.change_seq)
        .limit(limit)
    ).all()
    return [(row.change_seq, _visit(session, row)) for row in rows]


def _visit(session: Session, assignment: VisitAssignment) -> dict:
    if not assignment.active:
        return {"id": assignment.id, "deleted": True}
    return {"id": assignment.id, "revision": assignment.revision, "data": {
        "person_id": assignment.person_id,
        "rhythm": assignment.rhythm, "rhythm_label": visits.RHYTHMS[assignment.rhythm],
        "mode": assignment.mode, "mode_label": visits.MODES[assignment.mode],
        "next_due": assignment.next_due.isoformat(),
        "last_visit": last_visit(session, assignment.person_id),
    }}


def last_visit(session: Session, person_id: str) -> dict | None:
    """Return the last visite made to this senior, by anyone, as the next visiteur reads it."""
    found = session.execute(
        select(record.c.id, record.c.form_version, record.c.data, record.c.recorded_by)
        .where(record.c.form == "visite.visite", record.c.deleted.is_(False),
               record.c.data["personne"].as_string() == person_id)
        .order_by(record.c.data["date"].as_string().desc(), record.c.recorded_at.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    definition = catalog.registry().get("visite.visite", found.form_version)
    labels = catalog.labels_for(definition)
    # Label and value, as the visiteur reads them; "Alerte : Aucune" says nothing.
    shown = [
        [spec["label"], show_value(spec, found.data[spec["key"]], labels.get(spec["key"]))]
        for spec in definition.fields
        if spec["key"] in LAST_VISIT_FIELDS and spec["key"] in found.data
        and not (spec["key"] == "alerte" and found.data["alerte"] == "aucune")
    ]
    author = session.get(User, found.recorded_by)
    # Whether the senior was seen: one who was not stays due, and "Mes visites" says so.
    return {"id": found.id, "date": found.data.get("date"), "by": author.name if author else "",
            "seen": visits.seen(found.data), "shown": shown}
