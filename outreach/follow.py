"""What a stored record sets off at the office: alerts, and the next visit due.

It runs after every path that stores records (a tablet's push, online entry, an import, a
correction), reading the records changed since it last ran in the order of the server sequence:
none is missed whatever path stored it, and none is counted twice (one alert per record and kind).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import sequence
from sync.push import Actor, apply_push
from sync.schema import record, utcnow

from . import alert_plans, catalog, permanences, visits
from .models import Alert, AppState, VisitAssignment, take_watermark

log = logging.getLogger(__name__)
WATERMARK = "followed_seq"
FOLLOWED_FORMS = ("visite.visite", "maraude.rencontre", "permanence.accueil", "maraude.lieu",
                  "plan.appel", "registre.inscription", "permanence.session")
ALERT_KINDS = {
    "chute": "Chute",
    "absence_reponse": "Absence de réponse",
    "degradation": "Dégradation",
    "canicule_grand_froid": "Canicule / grand froid",
    "maltraitance": "Maltraitance",
    "autre": "Autre",
    "situation_urgente": "Situation urgente",
    "injoignable": "Injoignable pendant un plan d'alerte",
}


def alert_kinds() -> dict[str, str]:
    """Return kind → French name of every alert, kinds an admin added to the visite included."""
    kinds = dict(ALERT_KINDS)
    for definition in catalog.registry().versions("visite.visite"):
        for choice in (definition.field("alerte") or {}).get("choices", ()):
            kinds.setdefault(choice["value"], choice["label"])
    return kinds


ALERT_STATUSES = {"nouvelle": "Nouvelle", "prise_en_charge": "Prise en charge", "close": "Close"}


def alert_of(form: str, data: dict) -> tuple[str, str | None] | None:
    """Return the (kind, detail) of the alert a record raises, or None."""
    if form == "visite.visite" and data.get("alerte") not in (None, "aucune"):
        return data["alerte"], data.get("detail_alerte")
    if form in ("maraude.rencontre", "permanence.accueil") and data.get("situation_urgente"):
        return "situation_urgente", data.get("detail_urgence")
    return None


def catch_up(session: Session) -> int:
    """Follow the records stored since the last run; return how many were looked at."""
    seen = take_watermark(session, WATERMARK)
    upper = sequence.current(session)
    rows = session.execute(
        select(record.c.id, record.c.form, record.c.data, record.c.recorded_by,
               record.c.recorded_at, record.c.received_at, record.c.deleted)
        .where(record.c.change_seq > seen, record.c.change_seq <= upper,
               record.c.form.in_(FOLLOWED_FORMS))
        .order_by(record.c.change_seq)
    ).all()
    # A session recorded (or removed) sends its planned session again, read once for all.
    permanences.sessions_recorded(session, [row for row in rows
                                            if row.form == permanences.SESSION_FORM])
    for row in rows:
        if row.deleted:
            continue
        raised = alert_of(row.form, row.data)
        if raised:
            _raise(session, row, *raised)
        if row.form == "visite.visite":
            _visit_made(session, row)
        if row.form == "maraude.lieu":
            _place_named(session, row)
        if row.form == "plan.appel":
            alert_plans.call_recorded(session, row)
        if row.form == "registre.inscription":
            alert_plans.entry_changed(session, row.id)
    session.get(AppState, WATERMARK).value = str(upper)
    session.commit()
    return len(rows)


def _raise(session: Session, row, kind: str, detail: str | None) -> None:
    exists = session.scalar(
        select(Alert.id).where(Alert.record_id == row.id, Alert.kind == kind)
    )
    if exists:
        return
    session.add(Alert(
        id=str(uuid.uuid4()), record_id=row.id, kind=kind, form=row.form,
        person_id=row.data.get("personne"), detail=detail, raised_by=row.recorded_by,
        raised_at=row.recorded_at, received_at=row.received_at or utcnow(),
        status="nouvelle", change_seq=sequence.reserve(session, 1),
    ))


def _visit_made(session: Session, row) -> None:
    """Move the senior's assignments on a visite: last visit, and the next one due.

    A visite where the senior was not seen moves nothing (unless it set "Prochaine visite"):
    they stay due. One corrected to say so no longer counts: the plan goes back to the visite
    before it.
    """
    person = row.data.get("personne")
    day = _day(row.data.get("date"))
    if not person or day is None:
        return
    assigned = list(session.scalars(
        select(VisitAssignment).where(VisitAssignment.person_id == person,
                                      VisitAssignment.active.is_(True))
    ))
    # The author's own round moves; a visit by someone without one (the coordinateur) moves all.
    own = [a for a in assigned if a.visiteur_id == row.recorded_by] or assigned
    asked = _day(row.data.get("prochaine_visite"))
    for assignment in assigned:
        moved = visits.moved_to(day, assignment.rhythm, asked, visits.seen(row.data))
        if assignment in own and moved is not None and _is_latest(session, assignment, day):
            assignment.last_visit_id = row.id
            assignment.next_due = moved
        elif moved is None and assignment.last_visit_id == row.id:
            _replan(session, assignment)
        # Every visiteur of the senior sees the last visit's notes: send the assignment again.
        assignment.revision += 1
        assignment.change_seq = sequence.reserve(session, 1)


def _replan(session: Session, assignment: VisitAssignment) -> None:
    """Plan again from the senior's latest visite that moves the plan (none: from the start)."""
    rows = session.execute(
        select(record.c.id, record.c.data).where(
            record.c.form == "visite.visite", record.c.deleted.is_(False),
            record.c.id != assignment.last_visit_id,
            record.c.data["personne"].as_string() == assignment.person_id)
        .order_by(record.c.data["date"].as_string().desc(), record.c.recorded_at.desc())
    ).all()
    for ident, data in rows:
        day = _day(data.get("date"))
        moved = day and visits.moved_to(day, assignment.rhythm,
                                        _day(data.get("prochaine_visite")), visits.seen(data))
        if moved:
            assignment.last_visit_id, assignment.next_due = ident, moved
            return
    assignment.last_visit_id, assignment.next_due = None, assignment.starts_on


def _place_named(session: Session, row) -> None:
    """Add a lieu a team named on a tablet to the list every team's tablets offer."""
    details = " — ".join(part for part in (row.data.get("secteur"), row.data.get("reperes"))
                         if part)
    if catalog.add_reference_entry(session, "lieux", row.data["nom"], details):
        session.flush()


def _is_latest(session: Session, assignment: VisitAssignment, day: date) -> bool:
    if assignment.last_visit_id is None:
        return True
    last = session.scalar(select(record.c.data).where(record.c.id == assignment.last_visit_id))
    last_day = _day((last or {}).get("date"))
    return last_day is None or day >= last_day


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def after_store(session: Session) -> None:
    """Follow what was just stored; a failure never undoes the storing (the next run catches up)."""
    try:
        catch_up(session)
    except Exception:
        session.rollback()
        log.exception("following stored records failed; the next store will catch up")


def store(session: Session, actor: Actor, device_id: str | None, items: list[dict],
          author: int | None = None, waiting: int | None = None) -> list[dict]:
    """Store records through the sync engine, then follow them: every path that stores does so."""
    from . import catalog

    results = apply_push(session, actor, device_id, items, catalog.engine_forms(), author=author,
                         waiting=waiting)
    _alert_from_quarantine(session, items, results, author or actor.id)
    after_store(session)
    return results


def _alert_from_quarantine(session: Session, items: list[dict], results: list[dict],
                           author: int) -> None:
    """Raise the alert of a record kept apart only for whom it names: the office still hears.

    Its author may not see that person's file, so the record waits in quarantine; a fall or an
    urgent situation in it must not wait with it.
    """
    refused = [
        item for item, result in zip(items, results, strict=True)
        if result["status"] == "rejected" and result["errors"]
        and all(messages == [catalog.OUTSIDE_WORK] for messages in result["errors"].values())
    ]
    for item in refused:
        raised = alert_of(item["form"], item["data"])
        recorded_at = catalog.moment(item["recorded_at"])
        if raised and recorded_at is not None:
            row = SimpleNamespace(id=str(item["id"]), form=item["form"], data=item["data"],
                                  recorded_by=author, recorded_at=recorded_at,
                                  received_at=utcnow())
            _raise(session, row, *raised)
    if refused:
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
