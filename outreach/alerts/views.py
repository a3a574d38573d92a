"""The coordinateur's alert inbox (/alertes): new, taken in charge, closed, with each one's age.

Alerts are raised by alerts.raising from the records that sync. Each change here takes a new
server sequence number, so the person who raised the alert learns at their next pull what became
of it.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from outreach.alerts.models import Alert
from outreach.alerts.raising import ALERT_STATUSES, alert_kinds
from outreach.core import audit, catalog
from outreach.core.db import db
from outreach.core.models import Record, User
from outreach.core.roles import OFFICE_ROLES, restrict
from sync import sequence
from sync.schema import UTCDateTime, record, utcnow

bp = Blueprint("alerts", __name__, url_prefix="/alertes", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
CLOSED_SHOWN = 50
REGISTER_FORM = "registre.inscription"
CONTACT_FIELDS = ("adresse", "telephone", "contact_urgence", "telephone_urgence")
# Visites read per person: enough to pass over the ones that raised the alerts shown.
VISITS_READ = 4
OUTCOME_MAX = 2000


def age(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago something happened, as people say it."""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    if seconds < 60:
        return "à l'instant"
    if seconds < 3600:
        return f"il y a {seconds // 60} min"
    if seconds < 86400:
        return f"il y a {seconds // 3600} h"
    days = seconds // 86400
    return f"il y a {days} jour{'s' if days > 1 else ''}"


@bp.route("")
def inbox():
    """List the alerts: new ones first, then those taken in charge, then the last closed."""
    # The inbox names the people and what happened to them: a read, like a record's.
    audit.log("alert.list", None)
    db.session.commit()
    return _inbox()


def _inbox(close_error: dict | None = None, status: int = 200):
    """Render the inbox; a failed close shows its error beside the field, the rest unchanged."""
    def listed(state: str, limit: int | None = None) -> list[Alert]:
        """Return the alerts in one state, newest first."""
        query = select(Alert).where(Alert.status == state).order_by(Alert.raised_at.desc())
        return list(db.session.scalars(query.limit(limit) if limit else query))

    sections = [("nouvelle", "Nouvelles", listed("nouvelle")),
                ("prise_en_charge", "Prises en charge", listed("prise_en_charge")),
                ("close", "Closes (les dernières)", listed("close", CLOSED_SHOWN))]
    shown = [alert for _, _, alerts in sections for alert in alerts]
    open_alerts = [alert for alert in shown if alert.status != "close" and alert.person_id]
    return render_template(
        "alerts.html", sections=sections, age=age, kinds=alert_kinds(), close_error=close_error,
        people=_names({a.person_id for a in shown if a.person_id}),
        forms={a.record_id: _form_title(a) for a in shown},
        contacts=contacts_of(db.session, {a.person_id for a in open_alerts}),
        visits=visits_before(db.session, open_alerts),
    ), status


def _names(person_ids: set[str]) -> dict[str, str]:
    rows = db.session.execute(select(Record.id, Record.data).where(Record.id.in_(person_ids)))
    return {ident: catalog.person_label(data) for ident, data in rows}


def _tel(number: str | None) -> str | None:
    return f"tel:{re.sub(r'[^0-9+]', '', number)}" if number else None


def contacts_of(session: Session, person_ids: set[str]) -> dict[str, dict]:
    """Return how to reach each person: address, phone, the person to alert and theirs.

    From the person's file; what it lacks, from their entry in the register. Only the office
    reads this (the inbox is theirs, and the office sees every file: sync.access).
    """
    if not person_ids:
        return {}
    files = dict(session.execute(select(record.c.id, record.c.data).where(
        record.c.id.in_(person_ids), record.c.form == "personne",
        record.c.deleted.is_(False))).all())
    entries: dict[str, dict] = {}
    for data in session.scalars(select(record.c.data).where(
            record.c.form == REGISTER_FORM, record.c.deleted.is_(False),
            record.c.data["personne"].as_string().in_(person_ids))):
        if not data.get("date_retrait"):
            entries.setdefault(data["personne"], data)
    found = {}
    for ident in person_ids & (files.keys() | entries.keys()):  # a file not yet received: none
        file, entry = files.get(ident, {}), entries.get(ident, {})
        said = {key: file.get(key) or entry.get(key) for key in CONTACT_FIELDS}
        found[ident] = {"address": said["adresse"], "phone": said["telephone"],
                        "phone_href": _tel(said["telephone"]),
                        "contact": said["contact_urgence"],
                        "contact_phone": said["telephone_urgence"],
                        "contact_phone_href": _tel(said["telephone_urgence"])}
    return found


def visits_before(session: Session, alerts: list[Alert]) -> dict[str, dict]:
    """Return, for each alert, the person's last visite other than the one that raised it.

    What the coordinateur needs before calling: when the senior was last visited, by whom, and
    what was noted (for an absence, how they were the time before). Read in one query.
    """
    people = {alert.person_id for alert in alerts if alert.person_id}
    if not people:
        return {}
    person = record.c.data["personne"].as_string()
    ranked = select(
        person.label("person"), record.c.id, record.c.data, record.c.recorded_by,
        func.row_number().over(partition_by=person, order_by=(
            record.c.data["date"].as_string().desc(), record.c.recorded_at.desc())).label("rank"),
    ).where(record.c.form == "visite.visite", record.c.deleted.is_(False),
            person.in_(people)).subquery()
    rows = session.execute(select(ranked).where(ranked.c.rank <= VISITS_READ)
                           .order_by(ranked.c.person, ranked.c.rank)).all()
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_({row.recorded_by for row in rows}))).all())
    seen = catalog.labels_for(catalog.registry().current("visite.visite")).get("personne_vue", {})
    found = {}
    for alert in alerts:
        last = next((row for row in rows if row.person == alert.person_id
                     and row.id != alert.record_id), None)
        if last is not None:
            found[alert.id] = {
                "date": _day(last.data.get("date")), "by": names.get(last.recorded_by, ""),
                "seen": seen.get(last.data.get("personne_vue"), last.data.get("personne_vue")),
                "notes": last.data.get("notes")}
    return found


def _day(value: str | None) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return value or ""


def _form_title(alert: Alert) -> str:
    definition = catalog.registry().current(alert.form)
    return definition.title if definition else alert.form


def _alert(alert_id: str) -> Alert:
    return db.session.get(Alert, alert_id) or abort(404, "Alerte introuvable.")


def _move(alert: Alert, allowed: tuple[str, ...], **values) -> bool:
    """Change an alert only if it is still in an allowed state; return whether it changed.

    Two coordinateurs may click at the same moment: the state is checked in the UPDATE itself,
    so the second one changes nothing and is told who was first.
    """
    change_seq = sequence.reserve(db.session, 1)  # first: it orders the writers (sync.sequence)
    moved = db.session.execute(
        update(Alert).where(Alert.id == alert.id, Alert.status.in_(allowed))
        .values(revision=Alert.revision + 1, change_seq=change_seq, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        db.session.refresh(alert)
    return bool(moved)


def _already(alert: Alert) -> str:
    """Say what someone else already did to this alert."""
    if alert.status == "close":
        return f"Cette alerte a déjà été close par {_name(alert.closer)}."
    return f"Cette alerte a déjà été prise en charge par {_name(alert.taker)}."


def _name(user) -> str:
    return user.name if user else "quelqu'un"


@bp.post("/<alert_id>/prendre")
def take(alert_id: str):
    """Take an alert in charge: the inbox says by whom, and so does the field person's tablet."""
    alert = _alert(alert_id)
    if not _move(alert, ("nouvelle",), status="prise_en_charge", taken_by=current_user.id,
                 taken_at=utcnow()):
        flash(_already(alert))
        return redirect(url_for("alerts.inbox"))
    audit.log("alert.take", alert.id)
    db.session.commit()
    flash("Alerte prise en charge.")
    return redirect(url_for("alerts.inbox", _anchor=f"alerte-{alert.id}"))


@bp.post("/<alert_id>/clore")
def close(alert_id: str):
    """Close an alert with what was done (taking it in charge too if nobody had)."""
    alert = _alert(alert_id)
    if alert.status == "close":
        flash(_already(alert))
        return redirect(url_for("alerts.inbox"))
    outcome = (request.form.get("outcome") or "").strip()
    error = None
    if not outcome:
        error = "Dites ce qui a été fait."
    elif len(outcome) > OUTCOME_MAX:
        error = f"{OUTCOME_MAX} caractères au plus ({len(outcome)} saisis)."
    if error:
        return _inbox({"id": alert.id, "message": error, "value": outcome}, 400)
    now = utcnow()
    # Closed without being taken first: whoever closes it took it in charge too.
    if not _move(alert, ("nouvelle", "prise_en_charge"), status="close", outcome=outcome,
                 closed_by=current_user.id, closed_at=now,
                 taken_by=func.coalesce(Alert.taken_by, current_user.id),
                 taken_at=func.coalesce(Alert.taken_at, literal(now, UTCDateTime))):
        flash(_already(alert))
        return redirect(url_for("alerts.inbox"))
    audit.log("alert.close", alert.id)
    db.session.commit()
    flash("Alerte close.")
    return redirect(url_for("alerts.inbox"))


def summary() -> dict:
    """Count the new alerts and name them, for the inbox's polling."""
    ids = list(db.session.scalars(
        select(Alert.id).where(Alert.status == "nouvelle").order_by(Alert.received_at.desc())
        .limit(50)))
    latest = db.session.scalar(select(func.max(Alert.received_at)))
    count = db.session.scalar(select(func.count()).where(Alert.status == "nouvelle"))
    return {"new": count, "latest_received_at": latest.isoformat() if latest else None,
            "ids": ids}


def alerts_for_pull(session: Session, user_id: int, seen: int,
                    upper: int) -> list[tuple[int, dict]]:
    """Return the alerts this person raised that changed in (seen, upper], for their tablet."""
    rows = session.scalars(
        select(Alert).where(Alert.raised_by == user_id, Alert.change_seq > seen,
                            Alert.change_seq <= upper).order_by(Alert.change_seq)
    )
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    kinds = alert_kinds()
    return [(alert.change_seq, {"id": alert.id, "revision": alert.revision, "data": {
        "kind": alert.kind, "kind_label": kinds.get(alert.kind, alert.kind),
        "status": alert.status, "status_label": ALERT_STATUSES[alert.status],
        "record_id": alert.record_id, "form": alert.form,
        # Only the id: the tablet names the person from its own store, which holds whom this
        # agent may see and how (a file reached through a merge at its alias).
        "person_id": alert.person_id,
        "raised_at": iso(alert.raised_at), "taken_by_name": alert.taker.name if alert.taker
        else None, "taken_at": iso(alert.taken_at), "closed_at": iso(alert.closed_at),
        "outcome": alert.outcome,
    }}) for alert in rows]
