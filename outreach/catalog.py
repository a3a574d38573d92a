"""The app's forms and reference lists, as the views and the API look them up."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy import or_, select

from .db import db
from .forms import FormDefinition, FormRegistry, load_definitions
from .forms.html import choice_labels
from .models import Record, ReferenceItem, User
from .roles import may_fill


def reference_values(list_key: str) -> list[str]:
    """Return the values of a reference list's active entries (what a choice may take)."""
    query = select(ReferenceItem.value).where(
        ReferenceItem.list_key == list_key, ReferenceItem.active.is_(True)
    )
    return list(db.session.scalars(query))


def reference_labels(list_key: str) -> dict[str, str]:
    """Return value → label of a reference list's active entries, in their order."""
    query = (
        select(ReferenceItem.value, ReferenceItem.label)
        .where(ReferenceItem.list_key == list_key, ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.position, ReferenceItem.label)
    )
    return {value: label for value, label in db.session.execute(query)}


def init_app(app: Flask) -> None:
    """Load and check every form definition once, at start: a broken one stops the app."""
    app.extensions["outreach.forms"] = FormRegistry(
        load_definitions(app.config["FORMS_DIR"]), reference_values
    )


def registry() -> FormRegistry:
    """Return the app's forms."""
    return current_app.extensions["outreach.forms"]


def fillable(user: User) -> list[FormDefinition]:
    """Return the current version of every form this user may fill."""
    forms = registry()
    current = (forms.current(key) for key in forms.keys())
    return [d for d in current if may_fill(user.role, d.key, d.roles)]


def children_of(form_key: str) -> list[FormDefinition]:
    """Return the current forms filled under a record of this form (rencontres of a tournée)."""
    forms = registry()
    current = (forms.current(key) for key in forms.keys())
    return [d for d in current if d.parent == form_key]


def labels_for(definition: FormDefinition) -> dict[str, dict[str, str]]:
    """Return, per choice field, value → label (reference lists included)."""
    return {
        spec["key"]: choice_labels(spec, reference_labels(spec["choices_from"])
                                   if "choices_from" in spec else None)
        for spec in definition.fields
        if spec["type"] in ("choice", "multi")
    }


def person_label(data: dict) -> str:
    """Name a person as the field knows them: alias or first name, then surname."""
    return " ".join(part for part in (data.get("alias_prenom"), data.get("nom")) if part) or "?"


def visible_people(user: User | None = None) -> dict[str, str]:
    """Return id → name of the people this user may pick in a form.

    Until visit assignments exist (DESIGN §9), a field user's people are those they recorded or
    met in their own records; the office sees everyone.
    """
    user = user or current_user
    query = select(Record.id, Record.data).where(Record.form == "personne")
    if user.role not in ("coordinateur", "admin"):
        met = select(Record.data["personne"].as_string()).where(
            Record.recorded_by == user.id, Record.form != "personne"
        )
        query = query.where(or_(Record.recorded_by == user.id, Record.id.in_(met)))
    people = {ident: person_label(data) for ident, data in db.session.execute(query)}
    return dict(sorted(people.items(), key=lambda item: item[1].lower()))
