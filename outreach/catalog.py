"""The app's forms and reference lists, as the views and the API look them up."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from sync.access import people_visible
from sync.push import Actor
from sync.schema import record

from .db import db
from .forms import FormDefinition, FormRegistry, load_definitions
from .forms.html import choice_labels
from .models import ReferenceItem, User
from .roles import OFFICE_ROLES, may_fill


def reference_values(list_key: str) -> list[str]:
    """Return the values of a reference list's active entries (what a choice may take).

    Read once per request: a batch of 500 sessions checks its site 500 times.
    """
    cache = g.setdefault("reference_values", {}) if has_request_context() else {}
    if list_key not in cache:
        query = select(ReferenceItem.value).where(
            ReferenceItem.list_key == list_key, ReferenceItem.active.is_(True)
        )
        cache[list_key] = set(db.session.scalars(query))
    return cache[list_key]


def reference_labels(list_key: str) -> dict[str, str]:
    """Return value → label of a reference list's active entries, in their order.

    Read once per request: /fiches names the site of fifty sessions.
    """
    cache = g.setdefault("reference_labels", {}) if has_request_context() else {}
    if list_key not in cache:
        query = (
            select(ReferenceItem.value, ReferenceItem.label)
            .where(ReferenceItem.list_key == list_key, ReferenceItem.active.is_(True))
            .order_by(ReferenceItem.position, ReferenceItem.label)
        )
        cache[list_key] = {value: label for value, label in db.session.execute(query)}
    return dict(cache[list_key])


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
    """Return id → name of the people this user may pick in a form (the same rule as the pull)."""
    user = user or current_user
    actor = Actor(id=user.id, role=user.role, office=user.role in OFFICE_ROLES)
    query = select(record.c.id, record.c.data).where(
        record.c.form == "personne", record.c.deleted.is_(False), people_visible(actor)
    )
    people = {ident: person_label(data) for ident, data in db.session.execute(query)}
    return dict(sorted(people.items(), key=lambda item: item[1].lower()))


# The levels a person is recorded at, lowest first (anonymous people have no file at all).
PERSON_LEVELS = {"alias": 1, "identifie": 2}


class EngineForms:
    """The app's forms as the sync engine asks for them (may_fill, validate)."""

    def __init__(self, forms: FormRegistry) -> None:
        self.forms = forms

    def may_fill(self, role: str, form: str) -> bool:
        """Tell whether a role may fill a form (unknown forms: no)."""
        definition = self.forms.current(form)
        return definition is not None and may_fill(role, form, definition.roles)

    def validate(self, form: str, version: int, data) -> tuple[dict, dict[str, list[str]]]:
        """Check a record's data against its form version."""
        return self.forms.validate(form, version, data)

    def may_replace(self, form: str, stored: dict, incoming: dict) -> dict[str, list[str]]:
        """Refuse a change that lowers a person's level: it only rises (DESIGN §6)."""
        if form != "personne":
            return {}
        before = PERSON_LEVELS.get(stored.get("niveau"), 0)
        after = PERSON_LEVELS.get(incoming.get("niveau"), 0)
        if after < before:
            return {"niveau": ["Le niveau d'identification ne fait que monter : une personne "
                               "identifiée ne redevient pas un alias."]}
        if after > before and incoming.get("consentement") is not True:
            return {"consentement": ["Pour identifier la personne, recueillez d'abord son "
                                     "consentement : répondez « Oui » et notez la date."]}
        return {}


def engine_forms() -> EngineForms:
    """Return the app's forms for the sync engine."""
    return EngineForms(registry())


def offline_forms(user: User) -> list[dict]:
    """Return every version of every form this user may fill, as served to tablets."""
    forms = registry()
    return [
        definition.raw
        for key in forms.keys()
        for definition in forms.versions(key)
        if may_fill(user.role, key, forms.current(key).roles)
    ]


def offline_reference() -> dict[str, list[dict]]:
    """Return every active reference list as `{list: [{value, label}]}`."""
    query = (
        select(ReferenceItem.list_key, ReferenceItem.value, ReferenceItem.label)
        .where(ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.list_key, ReferenceItem.position, ReferenceItem.label)
    )
    lists: dict[str, list[dict]] = {}
    for list_key, value, label in db.session.execute(query):
        lists.setdefault(list_key, []).append({"value": value, "label": label})
    return lists


def offline_pages() -> list[str]:
    """Return the pages this person needs with no network (DESIGN §7), for the service worker."""
    forms = fillable(current_user)
    pages = ["/", "/a-corriger"] + [f"/saisie/{d.key}" for d in forms]
    if any(d.key == "maraude.rencontre" for d in forms):
        pages.append("/saisie/maraude.rencontre/rapide")
    return pages
