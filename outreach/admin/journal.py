"""/admin/journal: the audit log as a DPO reads it, filtered, a page at a time, and exported.

Filters: a person (the rows about their file, the records naming them, their alerts and visit
assignments), an agent, an action, and a period in the CCAS's local days. The export downloads
what the filters select as a French spreadsheet, and is itself written to the journal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from outreach.core import audit
from outreach.core.db import db
from outreach.core.models import AuditEvent, User
from outreach.core.roles import restrict
from outreach.core.spreadsheet import french_csv

bp = Blueprint("journal", __name__, url_prefix="/admin/journal", template_folder="templates")
restrict(bp, "admin")
PAGE_SIZE = 100
NO_USER = "Serveur (commande)"


def read_day(raw: str | None) -> date | None:
    """Read a day typed as JJ/MM/AAAA or given by a date input (AAAA-MM-JJ).

    :raises ValueError: when it is neither.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    if "/" in raw:
        return datetime.strptime(raw, "%d/%m/%Y").date()
    return date.fromisoformat(raw)


def _filters(args) -> tuple[Select, dict[str, str], dict[str, object]]:
    """Return the query the filters select, the errors by field, and the filters understood."""
    query = select(AuditEvent)
    errors: dict[str, str] = {}
    used: dict[str, object] = {}
    person = (args.get("personne") or "").strip()
    if person:
        query = query.where(audit.about_person(person))
        used["personne"] = person
    agent = args.get("agent") or ""
    if agent:
        if agent.isdigit():
            query = query.where(AuditEvent.user_id == int(agent))
            used["agent"] = int(agent)
        else:
            errors["agent"] = "Agent inconnu."
    action = args.get("action") or ""
    if action:
        if action in audit.ACTIONS:
            query = query.where(AuditEvent.action == action)
            used["action"] = action
        else:
            errors["action"] = "Action inconnue."
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    for field in ("du", "au"):
        try:
            day = read_day(args.get(field))
        except ValueError:
            errors[field] = "Date attendue au format JJ/MM/AAAA."
            continue
        if day is None:
            continue
        used[field] = day.isoformat()
        if field == "au":
            day += timedelta(days=1)
        # The CCAS's local midnight, in UTC as the rows are stored.
        bound = datetime.combine(day, time(), zone).astimezone(UTC)
        query = query.where(AuditEvent.at >= bound if field == "du" else AuditEvent.at < bound)
    return query, errors, used


def _names() -> dict[int, str]:
    return {ident: f"{name} ({login})" for ident, name, login in
            db.session.execute(select(User.id, User.name, User.login))}


def details_text(details: dict | None) -> str:
    """Write a row's details (identifiers and counts) on one line."""
    return ", ".join(f"{key} : {value}" for key, value in sorted((details or {}).items()))


@bp.get("")
def index():
    """List the audit rows, newest first, filtered by person, agent, action and dates."""
    query, errors, _ = _filters(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                   .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    users = list(db.session.scalars(select(User).order_by(User.name)))
    return render_template(
        "journal.html", rows=rows, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), errors=errors, users=users,
        names=_names(), actions=audit.ACTIONS, label=audit.label, details=details_text,
        no_user=NO_USER,
    ), 400 if errors else 200


@bp.get("/export")
def export():
    """Download the rows the filters select as CSV (`;`, UTF-8 with BOM); logged."""
    query, errors, used = _filters(request.args)
    if errors:
        return index()
    rows = list(db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())))
    names = _names()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    text = french_csv(
        ["Date", "Heure", "Agent", "Action", "Code de l'action", "Cible", "Tablette",
         "Session", "Détails"],
        ([row.at.astimezone(zone).strftime("%d/%m/%Y"),
          row.at.astimezone(zone).strftime("%H:%M:%S"),
          names.get(row.user_id, NO_USER) if row.user_id else NO_USER, audit.label(row.action),
          row.action, row.target or "", row.device_id or "", row.session_id or "",
          details_text(row.details)] for row in rows))
    audit.log("journal.export", None, rows=len(rows), **used)
    db.session.commit()
    name = f"journal-{datetime.now(zone):%Y%m%d-%H%M}.csv"
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
