"""Online entry: /saisie/<form key> renders a form from its definition and stores the record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from sync.push import apply_push

from . import catalog
from .api.common import actor
from .db import db
from .forms.html import read_posted, show_value
from .home import new_child_label
from .models import Record
from .roles import may_fill

bp = Blueprint("entry", __name__)


def _parent(definition, raw: str | None) -> tuple[str | None, Record | None]:
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
    parent_id, parent = _parent(definition, request.values.get("parent"))
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = read_posted(definition.fields, request.form)
        clean, errors = catalog.registry().validate(definition.key, definition.version, values)
        if not errors:
            record_id = _store(definition, clean, parent_id)
            flash("Fiche enregistrée.")
            if catalog.children_of(definition.key):
                return redirect(url_for("home.index", _anchor=f"fiche-{record_id}"))
            return redirect(request.full_path.rstrip("?"))
        status = 400
    return render_template(
        "entry.html",
        definition=definition,
        values=values,
        errors=errors,
        parent_id=parent_id,
        parent_summary=_parent_summary(parent) if parent or not parent_id
        else "une fiche pas encore reçue par le serveur",
        labels=catalog.labels_for(definition),
        children=[{"key": child.key, "label": new_child_label(child)}
                  for child in catalog.children_of(definition.key)
                  if may_fill(current_user.role, child.key, child.roles)],
        people=catalog.visible_people(),
    ), status


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
    [result] = apply_push(db.session, actor(), None, [item], catalog.engine_forms())
    if result["status"] != "created":
        raise RuntimeError(f"online entry not stored: {result['status']}")
    return item["id"]
