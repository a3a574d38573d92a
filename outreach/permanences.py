"""Permanences délocalisées planned in a calendar (/permanences).

A travailleur social's tablet receives their sessions to come, and the follow-up appointments
they gave at their accueils ("À venir").
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import sequence
from sync.push import Actor
from sync.schema import record

from . import audit, catalog
from .db import db
from .models import PlannedSession, ReferenceItem, User
from .roles import OFFICE_ROLES, restrict

bp = Blueprint("permanences", __name__, url_prefix="/permanences")
restrict(bp, *OFFICE_ROLES)
HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKS_SHOWN = 8


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
    if errors:
        return None, errors
    planned = PlannedSession(
        id=str(uuid.uuid4()), site=site, day=day, starts=starts, ends=ends or None,
        worker_id=worker.id, notes=(notes or "").strip() or None, created_by=by_user_id,
        revision=1, change_seq=sequence.reserve(session, 1))
    session.add(planned)
    return planned, {}


def _held(planned: list[PlannedSession]) -> set[str]:
    """Return the planned sessions already recorded as held (same site, day and worker)."""
    if not planned:
        return set()
    days = {p.day.isoformat() for p in planned}
    rows = db.session.execute(select(record.c.recorded_by, record.c.data).where(
        record.c.form == "permanence.session", record.c.deleted.is_(False),
        record.c.data["date"].as_string().in_(days)))
    done = {(by, data.get("site"), data.get("date")) for by, data in rows}
    return {p.id for p in planned if (p.worker_id, p.site, p.day.isoformat()) in done}


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
        "permanences.html", planned=planned, held=_held(planned), sites=_sites(),
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
    sites = {item.value: item for item in session.scalars(
        select(ReferenceItem).where(ReferenceItem.list_key == "sites"))}
    changes = []
    for row in rows:
        if row.cancelled:
            changes.append((row.change_seq, {"id": row.id, "deleted": True}))
            continue
        site = sites.get(row.site)
        changes.append((row.change_seq, {"id": row.id, "revision": row.revision, "data": {
            "site": row.site, "site_label": site.label if site else row.site,
            "site_details": site.details if site else None, "date": row.day.isoformat(),
            "starts": row.starts, "ends": row.ends, "notes": row.notes}}))
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
