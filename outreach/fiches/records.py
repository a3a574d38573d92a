"""/fiches: the stored records, for the coordinateur and the admin, readable with their labels."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select

from outreach.core import audit, catalog
from outreach.core.db import db
from outreach.core.forms.html import show_value
from outreach.core.models import Record
from outreach.core.roles import OFFICE_ROLES, restrict

bp = Blueprint("records", __name__, url_prefix="/fiches", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
PAGE_SIZE = 50


def _day(raw: str | None, field: str, errors: dict) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = "Date invalide (AAAA-MM-JJ)."
        return None


@bp.route("")
def index():
    """List stored records, newest first, filtered by form and period, a page at a time."""
    registry = catalog.registry()
    errors: dict[str, str] = {}
    form_key = request.args.get("formulaire") or None
    if form_key and not registry.current(form_key):
        errors["formulaire"] = "Formulaire inconnu."
        form_key = None
    start = _day(request.args.get("du"), "du", errors)
    end = _day(request.args.get("au"), "au", errors)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1

    query = select(Record)
    if form_key:
        query = query.where(Record.form == form_key)
    if start:
        query = query.where(Record.recorded_at >= datetime.combine(start, time(), UTC))
    if end:
        query = query.where(
            Record.recorded_at < datetime.combine(end + timedelta(days=1), time(), UTC)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Record.recorded_at.desc(), Record.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    records = list(rows)
    audit.log("records.list", form_key, page=page, shown=len(records))
    db.session.commit()
    return render_template(
        "records.html",
        forms=[registry.current(key) for key in registry.keys()],
        records=records,
        summaries={r.id: summary(r) for r in records},
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        errors=errors,
        title_of=lambda r: registry.get(r.form, r.form_version).title,
    )


def summary(record: Record) -> str:
    """Name a record in one line from its first answered fields (labels, not codes)."""
    definition = catalog.registry().get(record.form, record.form_version)
    labels = catalog.labels_for(definition)
    shown = [s for s in definition.fields if s["type"] != "person" and s["key"] in record.data][:3]
    return " · ".join(show_value(s, record.data[s["key"]], labels.get(s["key"])) for s in shown)


@bp.route("/<record_id>")
def show(record_id: str):
    """Show one record with its field labels and choice labels."""
    record = db.session.get(Record, record_id) or abort(404, "Fiche introuvable.")
    definition = catalog.registry().get(record.form, record.form_version)
    labels = catalog.labels_for(definition)
    people = catalog.visible_people()
    rows = [
        (spec["label"], show_value(spec, record.data.get(spec["key"]), labels.get(spec["key"]),
                                   people))
        for spec in definition.fields
    ]
    children = list(
        db.session.scalars(
            select(Record).where(Record.parent_id == record.id).order_by(Record.recorded_at)
        )
    )
    audit.log("record.read", record.id, form=record.form)
    db.session.commit()
    return render_template(
        "record.html",
        record=record,
        definition=definition,
        rows=rows,
        children=children,
        summaries={child.id: summary(child) for child in children},
        title_of=lambda r: catalog.registry().get(r.form, r.form_version).title,
    )
