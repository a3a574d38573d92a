"""Permanences délocalisées planned in a calendar (/permanences).

A travailleur social's tablet receives their sessions to come, and the follow-up appointments
they gave at their accueils ("À venir").

A session is held once: the record of a planned session has an id derived from its planning
(`record_id`, uuid5 as a plan's calls have), so opening it twice on the tablet reopens the same
record. A second session record for the same site, day and agent, with another id (an older
tablet, a session opened outside the plan), is refused and kept in quarantine, with a French
error saying to add the accueils to the existing one: two sessions would count the same
permanence twice, and a refusal loses nothing (the office sees it, the agent in "À corriger").
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from outreach.core import audit, catalog
from outreach.core.db import db
from outreach.core.models import ReferenceItem, User
from outreach.core.roles import OFFICE_ROLES, restrict
from outreach.permanences.models import PlannedSession
from sync import sequence
from sync.push import Actor
from sync.schema import record

bp = Blueprint("permanences", __name__, url_prefix="/permanences", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKS_SHOWN = 8
SESSION_FORM = "permanence.session"
# A planned session's record id is derived from this namespace and the planning's id (uuid5).
SESSION_NAMESPACE = uuid.UUID("3c1f5e0a-7b2d-4f6e-9a84-5d0c2e1b9f37")
SECOND_SESSION = ("Cette permanence a déjà sa session (même site, même jour) : ajoutez les "
                  "accueils à celle-ci (« Reprendre » sur l'accueil) plutôt que d'en ouvrir une "
                  "seconde. Cette fiche est gardée : le coordinateur décidera.")


def record_id(planned_id: str) -> str:
    """Return the record id of a planned session once held: the same on every tablet."""
    return str(uuid.uuid5(SESSION_NAMESPACE, planned_id))


def _sites() -> dict[str, ReferenceItem]:
    return {item.value: item for item in db.session.scalars(
        select(ReferenceItem).where(ReferenceItem.list_key == "sites",
                                    ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.position, ReferenceItem.label))}


def _workers() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == "travailleur_social", User.active.is_(True)).order_by(User.name)))


def plan(session: Session, site: str, day: date | None, starts: str, ends: str | None,
         worker_id: int | None, notes: str | None, by_user_id: int,
         today: date) -> tuple[PlannedSession | None, dict[str, str]]:
    """Plan a session; return it, or the French error of each wrong field (nothing written)."""
    errors: dict[str, str] = {}
    if site not in _sites():
        errors["site"] = "Choisissez un site."
    if day is None:
        errors["date"] = "Date invalide (AAAA-MM-JJ)."
    elif day < today:
        errors["date"] = "Une permanence se planifie à partir d'aujourd'hui."
    if not HOUR.match(starts or ""):
        errors["debut"] = "Heure attendue (HH:MM)."
    if ends and not HOUR.match(ends):
        errors["fin"] = "Heure attendue (HH:MM)."
    elif ends and HOUR.match(starts or "") and ends <= starts:
        errors["fin"] = "La fin vient après le début."
    worker = session.get(User, worker_id) if worker_id else None
    if worker is None or worker.role != "travailleur_social" or not worker.active:
        errors["travailleur"] = "Choisissez un travailleur social."
    elif day is not None and session.scalar(select(PlannedSession.id).where(
            PlannedSession.site == site, PlannedSession.day == day,
            PlannedSession.worker_id == worker.id, PlannedSession.cancelled.is_(False))):
        # One session for a site, a day and an agent: its record is one too.
        errors["date"] = f"{worker.name} a déjà une permanence à ce site ce jour-là."
    if errors:
        return None, errors
    planned = PlannedSession(
        id=str(uuid.uuid4()), site=site, day=day, starts=starts, ends=ends or None,
        worker_id=worker.id, notes=(notes or "").strip() or None, created_by=by_user_id,
        revision=1, change_seq=sequence.reserve(session, 1))
    session.add(planned)
    return planned, {}


def held_by(session: Session, planned: list[PlannedSession]) -> dict[str, str]:
    """Return planned session id → the id of the session record that holds it, if any.

    Held by the record of its derived id, or by a session recorded for the same site, day and
    worker (an older tablet's, or one opened outside the plan).
    """
    if not planned:
        return {}
    derived = {record_id(p.id): p.id for p in planned}
    rows = session.execute(select(record.c.id, record.c.recorded_by, record.c.data).where(
        record.c.form == SESSION_FORM, record.c.deleted.is_(False),
        or_(record.c.id.in_(derived),
            record.c.data["date"].as_string().in_({p.day.isoformat() for p in planned}))))
    held: dict[str, str] = {}
    by_key = {}
    for ident, by, data in rows:
        if ident in derived:
            held[derived[ident]] = ident
        else:
            by_key.setdefault((by, data.get("site"), data.get("date")), ident)
    for p in planned:
        if p.id not in held and (p.worker_id, p.site, p.day.isoformat()) in by_key:
            held[p.id] = by_key[(p.worker_id, p.site, p.day.isoformat())]
    return held


def may_hold(session: Session, item: dict, actor: Actor) -> dict[str, list[str]]:
    """Refuse a second session record for the same site, day and agent (empty: it may be stored).

    The same record again (its id) is a replay or a change, never a second session.
    """
    data = item["data"]
    other = session.scalar(select(record.c.id).where(
        record.c.form == SESSION_FORM, record.c.deleted.is_(False),
        record.c.recorded_by == actor.id, record.c.id != str(item["id"]),
        record.c.data["site"].as_string() == data.get("site"),
        record.c.data["date"].as_string() == data.get("date")).limit(1))
    return {"_schema": [SECOND_SESSION]} if other else {}


def sessions_recorded(session: Session, rows: list) -> None:
    """Send planned sessions again when their session is recorded: the tablet offers "Reprendre".

    `rows` are session records (with `recorded_by` and `data`); their planned sessions are read
    in one query.
    """
    held = {(row.recorded_by, row.data.get("site"), row.data.get("date")) for row in rows}
    if not held:
        return
    days = set()
    for _, _, day in held:
        try:
            days.add(date.fromisoformat(day or ""))
        except (TypeError, ValueError):
            continue
    for planned in session.scalars(select(PlannedSession).where(PlannedSession.day.in_(days))):
        if (planned.worker_id, planned.site, planned.day.isoformat()) in held:
            planned.revision += 1
            planned.change_seq = sequence.reserve(session, 1)


@bp.route("", methods=["GET", "POST"])
def calendar():
    """List the sessions planned from two weeks ago to eight weeks ahead; plan a new one."""
    today = date.today()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            day = date.fromisoformat(request.form.get("date", ""))
        except ValueError:
            day = None
        planned, errors = plan(
            db.session, request.form.get("site", ""), day, request.form.get("debut", ""),
            request.form.get("fin") or None, request.form.get("travailleur", type=int),
            request.form.get("notes"), current_user.id, today)
        if planned:
            audit.log("session.plan", planned.id, worker=planned.worker_id)
            db.session.commit()
            flash(f"Permanence planifiée le {planned.day.strftime('%d/%m/%Y')} pour "
                  f"{planned.worker.name}.")
            return redirect(url_for("permanences.calendar"))
    start = today - timedelta(days=today.weekday(), weeks=2)
    planned = list(db.session.scalars(
        select(PlannedSession).where(PlannedSession.day >= start,
                                     PlannedSession.day < start + timedelta(weeks=WEEKS_SHOWN + 2))
        .order_by(PlannedSession.day, PlannedSession.starts)))
    return render_template(
        "permanences.html", planned=planned, held=held_by(db.session, planned), sites=_sites(),
        workers=_workers(), errors=errors, values=request.form, today=today,
    ), 400 if errors else 200


@bp.post("/<session_id>/annuler")
def cancel(session_id: str):
    """Cancel a planned session: it leaves the travailleur social's tablet at the next sync."""
    planned = db.session.get(PlannedSession, session_id) or abort(404, "Permanence introuvable.")
    if planned.cancelled:
        flash("Cette permanence est déjà annulée.")
        return redirect(url_for("permanences.calendar"))
    planned.cancelled = True
    planned.revision += 1
    planned.change_seq = sequence.reserve(db.session, 1)
    audit.log("session.cancel", planned.id)
    db.session.commit()
    flash("Permanence annulée.")
    return redirect(url_for("permanences.calendar"))


# --- What the pull carries for a travailleur social ----------------------------------------


def session_changes(session: Session, actor: Actor, seen: int, upper: int,
                    limit: int) -> list[tuple[int, dict]]:
    """Return this worker's planned sessions changed in (seen, upper]; cancelled: tombstones."""
    rows = session.scalars(
        select(PlannedSession).where(PlannedSession.worker_id == actor.id,
                                     PlannedSession.change_seq > seen,
                                     PlannedSession.change_seq <= upper)
        .order_by(PlannedSession.change_seq).limit(limit))
    rows = list(rows)
    sites = {item.value: item for item in session.scalars(
        select(ReferenceItem).where(ReferenceItem.list_key == "sites"))}
    held = held_by(session, [row for row in rows if not row.cancelled])
    changes = []
    for row in rows:
        if row.cancelled:
            changes.append((row.change_seq, {"id": row.id, "deleted": True}))
            continue
        site = sites.get(row.site)
        # The session's record: the one already holding it, else the id its planning gives.
        changes.append((row.change_seq, {"id": row.id, "revision": row.revision, "data": {
            "site": row.site, "site_label": site.label if site else row.site,
            "site_details": site.details if site else None, "date": row.day.isoformat(),
            "starts": row.starts, "ends": row.ends, "notes": row.notes,
            "record_id": held.get(row.id, record_id(row.id)), "held": row.id in held}}))
    return changes


def appointment_changes(session: Session, actor: Actor, seen: int, upper: int,
                        limit: int) -> list[tuple[int, dict]]:
    """Return the follow-up appointments this person gave at their accueils, as they changed."""
    rows = session.execute(
        select(record.c.id, record.c.data, record.c.deleted, record.c.change_seq,
               record.c.revision, record.c.form_version)
        .where(record.c.form == "permanence.accueil", record.c.recorded_by == actor.id,
               record.c.change_seq > seen, record.c.change_seq <= upper)
        .order_by(record.c.change_seq).limit(limit))
    changes = []
    for row in rows:
        day = row.data.get("rendez_vous_suivi")
        if row.deleted or not day:
            changes.append((row.change_seq, {"id": row.id, "deleted": True}))
            continue
        definition = catalog.registry().get("permanence.accueil", row.form_version)
        motifs = catalog.labels_for(definition).get("motifs", {})
        changes.append((row.change_seq, {"id": row.id, "revision": row.revision, "data": {
            "date": day, "person_id": row.data.get("personne"),
            "motifs": [motifs.get(m, m) for m in row.data.get("motifs", [])]}}))
    return changes
