"""What the pull carries beside people, for the CCAS's own work (DESIGN §3, §4).

Each kind is read by the sync engine's pull under the same cursor: `visits` (a visiteur's
seniors, when each is due, and the last visit's notes), `alerts` (the alerts this person raised,
and what became of them), `sessions` and `appointments` (a travailleur social's), `encounters` (a
maraude team's known people) and `calls` (the calls of an alert plan given to this person).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.pull import KindReader
from sync.push import Actor
from sync.schema import record

from . import catalog, visits
from .alert_plans import call_changes
from .alerts import alerts_for_pull
from .forms.html import show_value
from .models import User, VisitAssignment
from .permanences import appointment_changes, session_changes

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


def alert_changes(session: Session, actor: Actor, seen: int, upper: int,
                  limit: int) -> list[tuple[int, dict]]:
    """Return the alerts this person raised that changed in (seen, upper]."""
    return alerts_for_pull(session, actor.id, seen, upper)[:limit]


def encounter_changes(session: Session, actor: Actor, seen: int, upper: int,
                      limit: int) -> list[tuple[int, dict]]:
    """Return, for a maraude team, each known person's last encounter when it may have changed.

    An item's id is the person's; it says when and where they were last met, their needs and
    what was handed out or oriented, as the team reads it offline before going out.
    """
    if actor.role != "maraude":
        return []
    team = select(User.id).where(User.role == "maraude")
    named = session.execute(
        select(record.c.data["personne"].as_string(), record.c.change_seq)
        .where(record.c.form == "maraude.rencontre", record.c.recorded_by.in_(team),
               record.c.change_seq > seen, record.c.change_seq <= upper,
               record.c.data["personne"].as_string().is_not(None))
        .order_by(record.c.change_seq).limit(limit)
    ).all()
    # One entry per rencontre read (the pull counts them to know whether more remain), each
    # saying the person's last encounter, read once per person.
    last: dict[str, dict] = {}
    changes = []
    for person, seq in named:
        if person not in last:
            last[person] = _last_met(session, person, team)
        changes.append((seq, last[person]))
    return changes


def _last_met(session: Session, person_id: str, team) -> dict:
    found = session.execute(
        select(record.c.form_version, record.c.data, record.c.recorded_at, record.c.revision)
        .where(record.c.form == "maraude.rencontre", record.c.deleted.is_(False),
               record.c.recorded_by.in_(team),
               record.c.data["personne"].as_string() == person_id)
        .order_by(record.c.recorded_at.desc()).limit(1)
    ).first()
    if found is None:
        return {"id": person_id, "deleted": True}
    definition = catalog.registry().get("maraude.rencontre", found.form_version)
    labels = catalog.labels_for(definition)
    said = {key: [labels.get(key, {}).get(v, v) for v in found.data.get(key, [])]
            for key in ("besoins", "prestations", "orientations")}
    return {"id": person_id, "revision": found.revision, "data": {
        "date": found.recorded_at.isoformat(), "lieu": (found.data.get("lieu") or {}).get("label"),
        **said}}


KINDS: dict[str, KindReader] = {"visits": visit_changes, "alerts": alert_changes,
                                "sessions": session_changes, "appointments": appointment_changes,
                                "encounters": encounter_changes, "calls": call_changes}
