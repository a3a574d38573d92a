"""Online entry: /saisie/<form key> renders a form from its definition and stores the record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from outreach.core import audit, catalog, storing
from outreach.core.api.common import actor
from outreach.core.db import db
from outreach.core.forms.html import read_posted, show_value
from outreach.core.models import Record
from outreach.core.pwa import kept_copy
from outreach.core.roles import OFFICE_FILES, may_fill
from outreach.fiches.home import new_child_label
from sync.access import people_visible
from sync.push import may_change

bp = Blueprint("entry", __name__, template_folder="templates")
# A rencontre also opens as the maraude's rencontre rapide (outreach/maraude/quick.py).
QUICK_FORM = "maraude.rencontre"
CHANGED_MEANWHILE = (
    "Cette fiche a été modifiée entre-temps par une autre personne : votre version est gardée "
    "et attend la décision d'un coordinateur."
)


def parent_of(definition, raw: str | None) -> tuple[str | None, Record | None]:
    """Return the parent named by ?parent=: its id, and its record if the server has it yet.

    A tournée made offline may reach the server after its rencontres: an unknown id is kept, as
    the push keeps a child that arrives before its parent.
    """
    if not raw:
        return None, None
    try:
        ident = str(uuid.UUID(raw))
    except ValueError:
        abort(400, "Fiche parente invalide.")
    if not definition.parent:
        abort(400, "Ce formulaire n'a pas de fiche parente.")
    parent = db.session.get(Record, ident)
    if parent is None:
        return ident, None
    if parent.deleted or parent.form != definition.parent:
        abort(404, "Fiche parente introuvable.")
    return ident, parent


def _parent_summary(parent: Record | None) -> str | None:
    if parent is None:
        return None
    definition = catalog.registry().get(parent.form, parent.form_version)
    first = [spec for spec in definition.fields[:3] if spec["key"] in parent.data]
    labels = catalog.labels_for(definition)
    values = (show_value(s, parent.data[s["key"]], labels.get(s["key"])) for s in first)
    return f"{definition.title} — " + " · ".join(values)


@bp.route("/saisie/<form_key>", methods=["GET", "POST"])
def fill(form_key: str):
    """Show a form, and store the record when it is valid."""
    definition = catalog.registry().current(form_key)
    if definition is None:
        abort(404, "Formulaire inconnu.")
    if not may_fill(current_user.role, definition.key, definition.roles):
        abort(403)
    if not definition.listed:
        abort(404, "Cette fiche se remplit depuis son propre écran.")
    parent_id, parent = parent_of(definition, request.values.get("parent"))
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = read_posted(definition.fields, request.form)
        clean, errors = catalog.registry().validate(definition.key, definition.version, values)
        errors = errors or catalog.naming_errors(catalog.registry(), {
            "id": None, "form": definition.key, "form_version": definition.version,
            "recorded_at": datetime.now(UTC).isoformat(), "data": clean}, actor())
        if not errors:
            record_id = _store(definition, clean, parent_id)
            flash("Fiche enregistrée.")
            if catalog.children_of(definition.key):
                return redirect(url_for("home.index", _anchor=f"fiche-{record_id}"))
            return redirect(request.full_path.rstrip("?"))
        status = 400
    return _page(definition, values, errors, parent_id=parent_id,
                 parent_secteur=parent.data.get("secteur") if parent is not None else None,
                 parent_summary=_parent_summary(parent) if parent or not parent_id
                 else "une fiche pas encore reçue par le serveur"), status


def _offered(definition, values: dict) -> dict[str, dict[str, str]]:
    # A retired site is not offered, except to the record that already names it (an edit).
    offered, every = catalog.labels_for(definition, offered_only=True), None
    for key, labels in offered.items():
        chosen = values.get(key)
        for value in chosen if isinstance(chosen, list) else [chosen]:
            if isinstance(value, str) and value not in labels:
                every = every or catalog.labels_for(definition)
                if value in every.get(key, {}):
                    labels[value] = every[key][value]
    return offered


def _page(definition, values: dict, errors: dict, **context):
    return render_template(
        "entry.html",
        definition=definition,
        values=values,
        errors=errors,
        labels=_offered(definition, values),
        children=child_links(definition),
        # The kept copy's person fields are filled from the encrypted store (record-form.js).
        people={} if kept_copy() else catalog.visible_people(),
        **context,
    )


def child_links(definition) -> list[dict]:
    """Return the buttons that open a child form under a record of this form (its id added)."""
    links = []
    for child in catalog.children_of(definition.key):
        if not may_fill(current_user.role, child.key, child.roles):
            continue
        links.append({"href": url_for("entry.fill", form_key=child.key),
                      "label": new_child_label(child)})
        if child.key == QUICK_FORM:
            links.append({"href": url_for("quick.page"), "label": "Rencontre rapide"})
    return links


@bp.route("/modifier/<record_id>", methods=["GET", "POST"])
def edit(record_id: str):
    """Change a stored record, sent with the revision it was read at.

    A change made meanwhile by someone else becomes a conflict instead of being overwritten.
    """
    stored = db.session.get(Record, record_id)
    if stored is None or stored.deleted:
        abort(404, "Fiche introuvable.")
    definition = catalog.registry().get(stored.form, stored.form_version)
    if not catalog.registry().current(stored.form).listed:
        abort(404, "Cette fiche se change depuis son propre écran.")
    me = actor()
    if not may_fill(current_user.role, stored.form, definition.roles) or may_change(
        {"form": stored.form, "recorded_by": stored.recorded_by}, {"form": stored.form}, me,
        catalog.engine_forms(),
    ) or not _may_read(me, stored):
        abort(403)
    values, errors, status = stored.data, {}, 200
    base_revision = stored.revision
    if request.method == "GET":
        # The edit page shows the whole record (a person's file, a register entry): a read.
        audit.log("record.read", stored.id, form=stored.form, page="modifier")
        db.session.commit()
    if request.method == "POST":
        values = read_posted(definition.fields, request.form)
        base_revision = request.form.get("base_revision", type=int) or stored.revision
        clean, errors = catalog.registry().validate(definition.key, definition.version, values)
        status = 400
        if not errors:
            result = storing.store_change(db.session, me, stored, clean, base_revision)
            if result["status"] in ("updated", "unchanged"):
                audit.log("record.change", stored.id, form=stored.form,
                          status=result["status"], revision=result["revision"])
                db.session.commit()
                flash("Fiche enregistrée.")
                return redirect(url_for("home.index"))
            errors = result["errors"] or {"_schema": [CHANGED_MEANWHILE]}
            status = 409 if result["status"] == "conflict" else 400
    return _page(definition, values, errors, editing=stored, base_revision=base_revision,
                 parent_id=stored.parent_id, parent_summary=None), status


def _may_read(me, stored: Record) -> bool:
    """Tell whether this person may open a stored record to change it.

    A person's file only while they are in the agent's work; the register is the office's alone,
    even an entry the agent made (it waits in their outbox until sent, then leaves their hands).
    """
    if me.office:
        return True
    if stored.form.startswith(OFFICE_FILES):
        return False
    return stored.form != "personne" or db.session.scalar(select(Record.id).where(
        Record.id == stored.id, people_visible(me))) is not None


def _store(definition, data: dict, parent_id: str | None) -> str:
    """Store a record made online through the same engine as a tablet's push."""
    item = {
        "id": str(uuid.uuid4()),
        "form": definition.key,
        "form_version": definition.version,
        "parent_id": parent_id,
        "recorded_at": datetime.now(UTC).isoformat(),
        "base_revision": None,
        "data": data,
    }
    [result] = storing.store(db.session, actor(), None, [item])
    if result["status"] != "created":
        raise RuntimeError(f"online entry not stored: {result['status']}")
    return item["id"]
