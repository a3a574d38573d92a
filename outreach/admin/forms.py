"""/admin/formulaires and /admin/listes: an admin changes forms and choice lists without code.

Each saved change to a form is a new version, stored in the database beside the shipped files;
tablets get it at their next pull and records made with older versions stay valid. A reference
list's entries are renamed or retired, never deleted: stored records name them.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from outreach.core import audit, catalog
from outreach.core.db import db
from outreach.core.forms import DefinitionError, FormRegistry, definition_from
from outreach.core.forms import editing as edit
from outreach.core.forms.editing import EditRefused
from outreach.core.models import FormVersion, ReferenceItem
from outreach.core.roles import restrict
from sync.schema import record

bp = Blueprint("form_admin", __name__, url_prefix="/admin", template_folder="templates")
restrict(bp, "admin")

# Reference lists and what they are for: the ones forms name, plus the team's lieux.
LISTS = {
    "sites": ("Sites des permanences", "Centre social, annexe de mairie, salle des fêtes…"),
    "lieux": ("Lieux de maraude", "Les endroits où l'équipe repasse ; proposés dans le champ "
              "« Lieu » et complétés depuis les tablettes."),
}


def _current(key: str):
    definition = catalog.registry().current(key)
    return definition or abort(404, "Formulaire inconnu.")


def save_version(raw: dict, note: str) -> FormVersion:
    """Store the next version of a form after checking it with every version before it.

    Raise EditRefused when the definition could not be used or breaks one made before.
    """
    forms = catalog.registry()
    before = [d.raw for d in forms.versions(raw["key"])]
    edit.check_history(before + [raw])
    try:
        candidate = definition_from(raw, f"{raw['key']} v{raw['version']}")
        others = [d for key in forms.keys() for d in forms.versions(key)]
        FormRegistry(others + [candidate], catalog.reference_values)
    except DefinitionError as error:
        raise EditRefused(str(error)) from None
    version = FormVersion(key=raw["key"], version=raw["version"], definition=raw, note=note,
                          created_by=current_user.id)
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise EditRefused("Une autre version vient d'être enregistrée en même temps : "
                          "rechargez la page et refaites la modification.") from None
    audit.log("form.version", f"form:{raw['key']}", version=raw["version"], note=note)
    db.session.commit()
    catalog.forget_forms_mark()
    return version


def _records_per_version(key: str) -> dict[int, int]:
    query = (select(record.c.form_version, func.count()).where(record.c.form == key)
             .group_by(record.c.form_version))
    return dict(db.session.execute(query).all())


@bp.get("/formulaires")
def forms():
    """List the forms with their current version and how many records each holds."""
    registry = catalog.registry()
    counts = dict(db.session.execute(
        select(record.c.form, func.count()).group_by(record.c.form)).all())
    rows = [(registry.current(key), len(registry.versions(key)), counts.get(key, 0))
            for key in registry.keys()]
    return render_template("admin_forms.html", rows=rows, lists=LISTS)


def _form_page(key: str, errors: dict | None = None, status: int = 200, values: dict | None = None):
    registry = catalog.registry()
    current = _current(key)
    history = registry.versions(key)
    made = {row.version: row for row in db.session.scalars(
        select(FormVersion).where(FormVersion.key == key))}
    present = {spec["key"] for spec in current.fields}
    retired = {}
    for definition in history:
        for spec in definition.fields:
            if spec["key"] not in present:
                retired[spec["key"]] = (spec, definition.version)
    return render_template(
        "admin_form.html", form=current, history=list(reversed(history)), made=made,
        counts=_records_per_version(key), retired=list(retired.values()),
        types=edit.TYPE_NAMES, new_types=edit.NEW_FIELD_TYPES, errors=errors or {},
        values=values or {}, protected=edit.FIELDS_THE_APP_READS.get(key, set()),
    ), status


@bp.get("/formulaires/<key>")
def form(key: str):
    """Show a form's fields, its versions, and what can be changed."""
    return _form_page(key)


def _apply(key: str, change, note: str, where: str, back):
    """Make the next version with `change(current_raw)`, or show the refusal beside `where`."""
    current = _current(key)
    try:
        following = change(current.raw)
        save_version(following, note)
    except EditRefused as error:
        db.session.rollback()
        return back({where: str(error)})
    flash(f"Version {following['version']} enregistrée : {note} Les tablettes la recevront "
          "à leur prochaine synchronisation.")
    return None


@bp.post("/formulaires/<key>/champs")
def add_field(key: str):
    """Add a field at the end of the form."""
    form_data = request.form
    history = [d.raw for d in catalog.registry().versions(key)]
    label = form_data.get("label", "")
    refused = _apply(
        key,
        lambda raw: edit.add_field(raw, history, label, form_data.get("type", ""),
                                   form_data.get("help", ""), bool(form_data.get("required")),
                                   form_data.get("choices", "").splitlines()),
        f"champ « {' '.join(label.split())} » ajouté.", "add",
        lambda errors: _form_page(key, errors, 400, dict(form_data)))
    return refused or redirect(url_for(".form", key=key))


@bp.post("/formulaires/<key>/ordre")
def reorder(key: str):
    """Put the fields in the order given by their positions."""
    current = _current(key)
    positions = []
    for index, spec in enumerate(current.fields):
        raw = request.form.get(f"position-{spec['key']}", "").strip()
        try:
            positions.append((int(raw), index, spec["key"]))
        except ValueError:
            return _form_page(key, {"order": "Donnez un numéro à chaque champ."}, 400)
    wanted = [field_key for _, _, field_key in sorted(positions)]
    refused = _apply(key, lambda raw: edit.reorder(raw, wanted), "ordre des champs changé.",
                     "order", lambda errors: _form_page(key, errors, 400))
    return refused or redirect(url_for(".form", key=key))


@bp.post("/formulaires/<key>/champs/<field>/retirer")
def retire_field(key: str, field: str):
    """Take a field out of the next version."""
    spec = _current(key).field(field) or abort(404, "Champ inconnu.")
    refused = _apply(key, lambda raw: edit.retire_field(raw, field),
                     f"champ « {spec['label']} » retiré.", f"field-{field}",
                     lambda errors: _form_page(key, errors, 400))
    return refused or redirect(url_for(".form", key=key))


@bp.post("/formulaires/<key>/champs/<field>/remettre")
def restore_field(key: str, field: str):
    """Put back a field an earlier version had, as it last was (same key: its data goes on)."""
    last = None
    for definition in catalog.registry().versions(key):
        last = definition.field(field) or last
    if last is None:
        abort(404, "Champ inconnu.")

    def put_back(raw: dict) -> dict:
        """Give the next version with the field at the end."""
        if any(spec["key"] == field for spec in raw["fields"]):
            raise EditRefused("Ce champ est déjà dans le formulaire.")
        following = {**raw, "version": raw["version"] + 1, "fields": [*raw["fields"], last]}
        edit.label_free(raw, last["label"])
        return following

    refused = _apply(key, put_back, f"champ « {last['label']} » remis.", f"field-{field}",
                     lambda errors: _form_page(key, errors, 400))
    return refused or redirect(url_for(".form", key=key))


def _field_page(key: str, field: str, errors: dict | None = None, status: int = 200):
    current = _current(key)
    spec = current.field(field) or abort(404, "Champ inconnu.")
    used = {}
    if "choices" in spec:
        used = _choice_use(key, field, spec["type"])
    return render_template(
        "admin_field.html", form=current, spec=spec, types=edit.TYPE_NAMES, errors=errors or {},
        used=used, kept=edit.CHOICES_THE_APP_READS.get(field, set()),
        reference=LISTS.get(spec.get("choices_from", ""), (None,))[0],
    ), status


def _choice_use(key: str, field: str, kind: str) -> dict[str, int]:
    """Count the records that chose each value of a choice field (all versions)."""
    counts: dict[str, int] = {}
    query = select(record.c.data).where(record.c.form == key, record.c.deleted.is_(False))
    for (data,) in db.session.execute(query):
        value = (data or {}).get(field)
        for item in (value if kind == "multi" and isinstance(value, list) else [value]):
            if isinstance(item, str):
                counts[item] = counts.get(item, 0) + 1
    return counts


@bp.get("/formulaires/<key>/champs/<field>")
def field_page(key: str, field: str):
    """Show one field: its label, help, whether it is required, and its choices."""
    return _field_page(key, field)


@bp.post("/formulaires/<key>/champs/<field>")
def change_field(key: str, field: str):
    """Change a field's label, help or whether it is required."""
    data = request.form
    refused = _apply(
        key, lambda raw: edit.change_field(raw, field, data.get("label", ""),
                                           data.get("help", ""), bool(data.get("required"))),
        f"champ « {' '.join(data.get('label', '').split())} » modifié.", "field",
        lambda errors: _field_page(key, field, errors, 400))
    return refused or redirect(url_for(".field_page", key=key, field=field))


@bp.post("/formulaires/<key>/champs/<field>/choix")
def add_choice(key: str, field: str):
    """Add a choice to a field's list."""
    label = request.form.get("label", "")
    history = [d.raw for d in catalog.registry().versions(key)]
    refused = _apply(key, lambda raw: edit.add_choice(raw, history, field, label),
                     f"choix « {' '.join(label.split())} » ajouté.", "choice",
                     lambda errors: _field_page(key, field, errors, 400))
    return refused or redirect(url_for(".field_page", key=key, field=field))


def _known_choice(key: str, field: str, value: str) -> None:
    spec = _current(key).field(field) or abort(404, "Champ inconnu.")
    if value not in {choice["value"] for choice in spec.get("choices", ())}:
        abort(404, "Choix inconnu.")


@bp.post("/formulaires/<key>/champs/<field>/choix/<value>")
def rename_choice(key: str, field: str, value: str):
    """Give a choice another label."""
    _known_choice(key, field, value)
    label = request.form.get("label", "")
    refused = _apply(key, lambda raw: edit.rename_choice(raw, field, value, label),
                     f"choix renommé « {' '.join(label.split())} ».", f"choice-{value}",
                     lambda errors: _field_page(key, field, errors, 400))
    return refused or redirect(url_for(".field_page", key=key, field=field))


@bp.post("/formulaires/<key>/champs/<field>/choix/<value>/retirer")
def retire_choice(key: str, field: str, value: str):
    """Take a choice out of the next version (records that chose it keep it)."""
    _known_choice(key, field, value)
    refused = _apply(key, lambda raw: edit.retire_choice(raw, field, value),
                     "choix retiré.", f"choice-{value}",
                     lambda errors: _field_page(key, field, errors, 400))
    return refused or redirect(url_for(".field_page", key=key, field=field))


# Reference lists ----------------------------------------------------------------------------

def _entries(list_key: str) -> list[ReferenceItem]:
    return list(db.session.scalars(
        select(ReferenceItem).where(ReferenceItem.list_key == list_key)
        .order_by(ReferenceItem.active.desc(), ReferenceItem.position, ReferenceItem.label)))


def _lists_page(errors: dict | None = None, status: int = 200, values: dict | None = None):
    lists = {key: LISTS.get(key, (key, "")) for key in sorted(_list_keys())}
    return render_template("admin_lists.html", lists=lists,
                           entries={key: _entries(key) for key in lists},
                           errors=errors or {}, values=values or {}), status


@bp.get("/listes")
def lists():
    """Show every reference list and its entries."""
    return _lists_page()


def add_entry(list_key: str, label: str, details: str | None = None) -> ReferenceItem:
    """Add an entry to a reference list, or raise EditRefused saying why not."""
    label = " ".join((label or "").split())
    if not label:
        raise EditRefused("Donnez un nom.", "label")
    if len(label) > 200:
        raise EditRefused("200 caractères au plus.", "label")
    entry = catalog.add_reference_entry(db.session, list_key, label, details)
    if entry is None:
        raise EditRefused(f"« {label} » est déjà dans la liste.", "label")
    return entry


def _list_keys() -> set[str]:
    """Return the reference lists there are: the lieux and sites, and any a form names."""
    forms = catalog.registry()
    named = {spec.get("choices_from") for key in forms.keys() for spec in forms.current(key).fields}
    return set(LISTS) | (named - {None})


def _known_list(list_key: str) -> None:
    if list_key not in _list_keys():
        abort(404, "Liste inconnue.")


@bp.post("/listes/<list_key>")
def add_to_list(list_key: str):
    """Add an entry to a reference list."""
    _known_list(list_key)
    try:
        entry = add_entry(list_key, request.form.get("label", ""), request.form.get("details"))
        db.session.flush()
    except EditRefused as error:
        db.session.rollback()
        return _lists_page({list_key: str(error)}, 400, {list_key: dict(request.form)})
    audit.log("reference.add", f"reference:{list_key}:{entry.value}")
    db.session.commit()
    flash(f"« {entry.label} » ajouté ; les tablettes le recevront à leur prochaine "
          "synchronisation.")
    return redirect(url_for(".lists", _anchor=f"liste-{list_key}"))


def _entry(list_key: str, value: str) -> ReferenceItem:
    found = db.session.scalar(select(ReferenceItem).where(
        ReferenceItem.list_key == list_key, ReferenceItem.value == value))
    return found or abort(404, "Entrée inconnue.")


@bp.post("/listes/<list_key>/<value>")
def change_entry(list_key: str, value: str):
    """Rename an entry or change its details (its value, stored in records, stays)."""
    entry = _entry(list_key, value)
    label = " ".join(request.form.get("label", "").split())
    problem = None
    if not label:
        problem = "Donnez un nom."
    elif len(label) > 200:
        problem = "200 caractères au plus."
    elif any(other.label.casefold() == label.casefold() and other.value != value
             for other in _entries(list_key)):
        problem = f"« {label} » est déjà dans la liste."
    if problem:
        return _lists_page({f"{list_key}.{value}": problem}, 400)
    entry.label = label
    entry.details = (request.form.get("details") or "").strip() or None
    audit.log("reference.change", f"reference:{list_key}:{value}")
    db.session.commit()
    flash(f"« {label} » enregistré.")
    return redirect(url_for(".lists", _anchor=f"liste-{list_key}"))


@bp.post("/listes/<list_key>/<value>/retirer")
def retire_entry(list_key: str, value: str):
    """Stop offering an entry; records that name it keep it and its label."""
    return _set_active(list_key, value, False, "« {label} » retiré : il n'est plus proposé.")


@bp.post("/listes/<list_key>/<value>/remettre")
def restore_entry(list_key: str, value: str):
    """Offer a retired entry again."""
    return _set_active(list_key, value, True, "« {label} » de nouveau proposé.")


def _set_active(list_key: str, value: str, active: bool, done: str):
    entry = _entry(list_key, value)
    entry.active = active
    audit.log("reference.restore" if active else "reference.retire",
              f"reference:{list_key}:{value}")
    db.session.commit()
    flash(done.format(label=entry.label))
    return redirect(url_for(".lists", _anchor=f"liste-{list_key}"))
