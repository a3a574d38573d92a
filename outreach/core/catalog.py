"""The app's forms and reference lists, as the views and the API look them up."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import func, inspect, select

from outreach.core import signals
from outreach.core.db import db
from outreach.core.forms import FormDefinition, FormRegistry, definition_from, load_definitions
from outreach.core.forms.editing import slug, unused_key
from outreach.core.forms.html import choice_labels
from outreach.core.models import FormVersion, ReferenceItem, User
from outreach.core.roles import OFFICE_ROLES, may_fill
from sync.access import may_name, merged_into, people_visible, through_merge_only
from sync.push import Actor
from sync.schema import record

log = logging.getLogger(__name__)


def reference_values(list_key: str) -> set[str]:
    """Return every value a reference list has had, retired ones too (what a choice may take).

    A record made on a tablet before an entry was retired is still accepted. Read once per
    request: a batch of 500 sessions checks its site 500 times.
    """
    cache = g.setdefault("reference_values", {}) if has_request_context() else {}
    if list_key not in cache:
        query = select(ReferenceItem.value).where(ReferenceItem.list_key == list_key)
        cache[list_key] = set(db.session.scalars(query))
    return cache[list_key]


def reference_labels(list_key: str, offered_only: bool = False) -> dict[str, str]:
    """Return value → label of a reference list's entries, in their order.

    Retired entries are kept to name them in the records that hold them, unless only what a
    form offers is asked for. Read once per request: /fiches names the site of fifty sessions.
    """
    cache = g.setdefault("reference_labels", {}) if has_request_context() else {}
    if list_key not in cache:
        query = (
            select(ReferenceItem.value, ReferenceItem.label, ReferenceItem.active)
            .where(ReferenceItem.list_key == list_key)
            .order_by(ReferenceItem.position, ReferenceItem.label)
        )
        cache[list_key] = list(db.session.execute(query))
    return {value: label for value, label, active in cache[list_key]
            if active or not offered_only}


class ShippedAndMadeForms:
    """The shipped definitions (files, read once) and the versions admins made (database).

    Every app server rebuilds its registry when the newest admin version it knows is not the
    newest in the database, so several servers behind one database agree without a restart.
    """

    def __init__(self, shipped: list[FormDefinition]) -> None:
        self.shipped = shipped
        self.mark: int | None = None
        self.lock = threading.Lock()

    def refresh(self, app: Flask) -> None:
        """Rebuild the app's registry if an admin made a version since it was built."""
        mark = _newest_admin_version()
        if mark != self.mark:
            with self.lock:
                if mark != self.mark:
                    app.extensions["outreach.forms"] = self.build(admin_versions())
                    self.mark = mark

    def build(self, made: list[FormDefinition]) -> FormRegistry:
        """Build a registry from the shipped definitions and the given admin versions.

        A shipped file with the number of a version an admin already made is left out (and
        said in the log): records were made with the admin's, which stays what that number means.
        """
        taken = {(d.key, d.version) for d in made}
        shipped = []
        for definition in self.shipped:
            if (definition.key, definition.version) in taken:
                log.warning("%s ignoré : la version %s de %s a été faite par un admin.",
                            definition.source, definition.version, definition.key)
            else:
                shipped.append(definition)
        return FormRegistry(shipped + made, reference_values)


def _newest_admin_version() -> int | None:
    cache = g if has_request_context() else None
    if cache is not None and "forms_mark" in cache:
        return cache.forms_mark
    if not current_app.extensions.get("outreach.forms_table"):
        # Before the first migration (init-db, first start) the table is not there yet.
        if not inspect(db.engine).has_table(FormVersion.__tablename__):
            return None
        current_app.extensions["outreach.forms_table"] = True
    mark = db.session.scalar(select(func.max(FormVersion.id)))
    if cache is not None:
        cache.forms_mark = mark
    return mark


def admin_versions() -> list[FormDefinition]:
    """Return the versions admins made, as definitions."""
    rows = db.session.scalars(select(FormVersion).order_by(FormVersion.id))
    return [definition_from(row.definition, f"version faite le {row.created_at:%d/%m/%Y}")
            for row in rows]


def forget_forms_mark() -> None:
    """Make the next registry() look at the database again (after saving a version)."""
    if has_request_context():
        g.pop("forms_mark", None)


def init_app(app: Flask) -> None:
    """Load and check every shipped form definition once, at start: a broken one stops the app."""
    shipped = load_definitions(app.config["FORMS_DIR"])
    app.extensions["outreach.form_sources"] = ShippedAndMadeForms(shipped)
    app.extensions["outreach.forms"] = FormRegistry(shipped, reference_values)


def registry() -> FormRegistry:
    """Return the app's forms: shipped files and the versions admins made."""
    app = current_app._get_current_object()
    app.extensions["outreach.form_sources"].refresh(app)
    return app.extensions["outreach.forms"]


def fillable(user: User) -> list[FormDefinition]:
    """Return the current version of every form this user may fill from the home's list."""
    forms = registry()
    current = (forms.current(key) for key in forms.keys())
    return [d for d in current if d.listed and may_fill(user.role, d.key, d.roles)]


def children_of(form_key: str) -> list[FormDefinition]:
    """Return the current forms filled under a record of this form (rencontres of a tournée)."""
    forms = registry()
    current = (forms.current(key) for key in forms.keys())
    return [d for d in current if d.parent == form_key]


def labels_for(definition: FormDefinition, offered_only: bool = False
               ) -> dict[str, dict[str, str]]:
    """Return, per choice field, value → label (reference lists included).

    `offered_only` leaves out retired reference entries: what a form offers to choose from.
    """
    return {
        spec["key"]: choice_labels(spec, reference_labels(spec["choices_from"], offered_only)
                                   if "choices_from" in spec else None)
        for spec in definition.fields
        if spec["type"] in ("choice", "multi")
    }


def labels_of_every_version(form: str) -> dict[str, dict[str, str]]:
    """Return, per choice field, value → label across all a form's versions (newest wins).

    A value an admin retired still has its label, for the records that hold it.
    """
    labels: dict[str, dict[str, str]] = {}
    for definition in registry().versions(form):  # oldest first: the newer label overwrites
        for key, values in labels_for(definition).items():
            labels[key] = labels.get(key, {}) | values
    return labels


def person_label(data: dict) -> str:
    """Name a person as the field knows them: alias or first name, then surname."""
    return " ".join(part for part in (data.get("alias_prenom"), data.get("nom")) if part) or "?"


def visible_people(user: User | None = None) -> dict[str, str]:
    """Return id → name of the people this user may pick in a form (the same rule as the pull)."""
    user = user or current_user
    actor = Actor(id=user.id, role=user.role, office=user.role in OFFICE_ROLES)
    query = select(record.c.id, record.c.data, through_merge_only(actor)).where(
        record.c.form == "personne", record.c.deleted.is_(False), people_visible(actor)
    )
    # A file reached only through a merge is named as the agent knew the person: the alias.
    people = {ident: data.get("alias_prenom") or "?" if merged_in else person_label(data)
              for ident, data, merged_in in db.session.execute(query)}
    return dict(sorted(people.items(), key=lambda item: item[1].lower()))


OUTSIDE_WORK = ("Cette personne ne fait pas partie de votre travail (ni vos visites, ni votre "
                "équipe, ni vos permanences) : la fiche est gardée, le coordinateur décidera.")


def moment(raw: str) -> datetime | None:
    """Read a record's ISO-8601 time (None when it cannot be read)."""
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return None


def naming_errors(forms: FormRegistry, item: dict, actor: Actor) -> dict[str, list[str]]:
    """Say which people a record may not name (empty: it may name them all).

    A person merged away is replaced in `item` by the file they were merged into; an existing
    person outside the author's work may not be named, an unknown one may (their file may sync
    after), and a person's own file may be changed only while it is in the author's work.
    """
    definition = forms.get(item["form"], item["form_version"])
    at = moment(item["recorded_at"])
    errors: dict[str, list[str]] = {}
    for spec in definition.fields if definition else ():
        named = item["data"].get(spec["key"]) if spec["type"] == "person" else None
        if not named:
            continue
        # Checked as named (a file of one's own work, since merged away), then moved to the file
        # it now lives in.
        if not may_name(db.session, actor, named, at):
            errors[spec["key"]] = [OUTSIDE_WORK]
        item["data"][spec["key"]] = merged_into(db.session, named) or named
    if item["form"] == "personne" and not may_name(db.session, actor, str(item["id"]), at):
        errors["_schema"] = [OUTSIDE_WORK]
    return errors


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

    def may_store(self, item: dict, actor: Actor) -> dict[str, list[str]]:
        """Check what needs the database: whom a record names, then each feature's own check.

        A person merged away is named by the file they were merged into; an existing person
        outside the author's work may not be named (the record waits in quarantine for the
        office to decide), an unknown one may (their file may sync after).
        """
        errors = naming_errors(self.forms, item, actor)
        if errors:
            return errors
        for found in signals.gathered(signals.record_checked.send(
                item["form"], session=db.session, item=item, actor=actor)):
            errors |= found
        return errors

    def shared_with(self, stored: dict, actor: Actor) -> bool:
        """Tell whether a record made by someone else is this actor's to change too.

        The features say so (`signals.record_shared`): a maraude team shares its rounds, a plan's
        call is shared by the agents it was given to; two who record it differently make a
        conflict for the coordinateur, not a refusal.
        """
        return any(signals.gathered(signals.record_shared.send(
            stored["form"], session=db.session, stored=stored, actor=actor)))

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


def place_names() -> list[str]:
    """Return the names of the lieux a team goes back to, offered in every place field."""
    return sorted(reference_labels("lieux", offered_only=True).values(), key=str.casefold)


def add_reference_entry(session, list_key: str, label: str, details: str | None = None
                        ) -> ReferenceItem | None:
    """Add an entry at the end of a reference list; None when one has this label already.

    Its value is made from the label and never reused, as records keep it.
    """
    label = " ".join(label.split())
    entries = list(session.scalars(select(ReferenceItem).where(ReferenceItem.list_key == list_key)))
    if any(entry.label.casefold() == label.casefold() for entry in entries):
        return None
    value = unused_key(slug(label), {e.value for e in entries})
    last = max((e.position for e in entries), default=0)
    entry = ReferenceItem(list_key=list_key, value=value, label=label, position=last + 1,
                          active=True, details=(details or "").strip() or None)
    session.add(entry)
    return entry


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
    forms = [d.key for d in fillable(current_user)]
    pages = ["/", "/a-corriger"] + [f"/saisie/{key}" for key in forms]
    return pages + signals.gathered(signals.offline_pages.send(current_user._get_current_object(),
                                                               forms=forms))
