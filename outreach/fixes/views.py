"""Where people fix things: their own rejected records, and the office's quarantine and conflicts.

`/a-corriger` shows a person what the server could not store as they sent it; `/quarantaine` and
`/conflits` let a coordinateur decide for everyone. The decisions themselves are the sync engine's
(`sync.decisions`); these views read the forms, show labels, and write each decision to the audit
log.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from outreach.core import audit, catalog, storing
from outreach.core.api.common import actor
from outreach.core.db import db
from outreach.core.forms import FormDefinition
from outreach.core.forms.html import read_posted, show_value
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES, restrict
from sync import decisions
from sync.decisions import DecisionError
from sync.schema import quarantine, record_conflict

bp = Blueprint("fixes", __name__, url_prefix="/a-corriger", template_folder="templates")
quarantine_bp = Blueprint("quarantine", __name__, url_prefix="/quarantaine",
                          template_folder="templates")
conflicts_bp = Blueprint("conflicts", __name__, url_prefix="/conflits",
                         template_folder="templates")
restrict(quarantine_bp, *OFFICE_ROLES)
restrict(conflicts_bp, *OFFICE_ROLES)

SHOWN = 100
# A rejected record's own keys, named for people (its answers are named by their field labels).
RECORD_KEYS = {
    "id": "Fiche", "form": "Formulaire", "form_version": "Version du formulaire",
    "recorded_at": "Date de saisie", "parent_id": "Fiche parente",
    "base_revision": "Révision de départ", "data": "Réponses", "_schema": "Fiche",
}
STORED = "Fiche corrigée et enregistrée."
# What a correction became when it was not simply stored.
NOT_STORED = {
    "conflict": "Fiche corrigée, mais une version plus récente existe : un coordinateur décidera.",
}
# Plain Python types the field macros can show, by field type (anything else is shown as text).
SHOWN_AS = {"boolean": bool, "integer": int, "counter": int, "multi": list, "place": dict}


# --- Reading -------------------------------------------------------------------------------------


def _names(ids) -> dict[int, str]:
    """Return id → name of the given accounts."""
    ids = {ident for ident in ids if ident is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _definition_of(raw: dict) -> FormDefinition | None:
    """Return the form a rejected record was made on: its version, else the form's current one."""
    form, version = raw.get("form"), raw.get("form_version")
    if not isinstance(form, str):
        return None
    registry = catalog.registry()
    if isinstance(version, int) and not isinstance(version, bool) and registry.get(form, version):
        return registry.get(form, version)
    return registry.current(form)


def _labelled(errors: dict, definition: FormDefinition | None) -> list[tuple[str, list[str]]]:
    """Put each error beside the label of its field, in the form's order."""
    labels = {spec["key"]: spec["label"] for spec in definition.fields} if definition else {}
    position = {key: number for number, key in enumerate(labels)}
    return [
        (labels.get(key) or RECORD_KEYS.get(key) or f"Champ « {key} »", errors[key])
        for key in sorted(errors, key=lambda key: position.get(key, len(position)))
    ]


def _rejected(condition, order, limit: int = SHOWN) -> list[dict]:
    """Return quarantine rows with their form title, labelled errors and the people involved."""
    query = select(quarantine).where(condition).order_by(order, quarantine.c.id.desc())
    rows = [dict(row._mapping) for row in db.session.execute(query.limit(limit))]
    names = _names({r["recorded_by"] for r in rows} | {r["decided_by"] for r in rows})
    for row in rows:
        definition = _definition_of(row["raw"])
        row["title"] = definition.title if definition else "Formulaire inconnu"
        row["correctable"] = definition is not None
        row["labelled_errors"] = _labelled(row["errors"], definition)
        row["author"] = names.get(row["recorded_by"])
        row["decider"] = names.get(row["decided_by"])
    return rows


def _conflicts(*conditions) -> list[dict]:
    """Return unresolved conflicts, newest first, with their form title and who sent them."""
    query = (
        select(record_conflict)
        .where(record_conflict.c.resolved_at.is_(None), *conditions)
        .order_by(record_conflict.c.received_at.desc(), record_conflict.c.id.desc())
        .limit(SHOWN)
    )
    rows = [dict(row._mapping) for row in db.session.execute(query)]
    names = _names(r["recorded_by"] for r in rows)
    registry = catalog.registry()
    for row in rows:
        definition = registry.get(row["form"], row["form_version"])
        row["title"] = definition.title if definition else row["form"]
        row["author"] = names.get(row["recorded_by"])
    return rows


def _quarantined(quarantine_id: int, owner: int | None = None) -> dict:
    """Return an open quarantine row: 404 if unknown, 403 if not the owner's, 409 if treated."""
    row = db.session.execute(select(quarantine).where(quarantine.c.id == quarantine_id)).first()
    if row is None:
        abort(404, "Fiche en quarantaine introuvable.")
    if owner is not None and row.recorded_by != owner:
        abort(403)
    if row.status != "open":
        abort(409, "Cette fiche a déjà été traitée.")
    return dict(row._mapping)


# --- Correcting a rejected record (the person's own, or anyone's from the office) ---------------


def _fits(kind: str, value) -> bool:
    """Tell whether a value has the type its field macro expects (a boolean is not a number)."""
    if isinstance(value, bool):
        return kind == "boolean"
    return isinstance(value, SHOWN_AS.get(kind, str))


def _prefill(definition: FormDefinition, data) -> dict:
    """Return a rejected record's answers in shapes the field macros show (it may hold anything)."""
    if not isinstance(data, dict):
        return {}
    values = {}
    for spec in definition.fields:
        value, kind = data.get(spec["key"]), spec["type"]
        if value is None:
            continue
        if not _fits(kind, value):
            value = {"multi": [], "place": {"label": str(value)}}.get(kind, str(value))
        elif kind == "multi":
            value = [str(item) for item in value]
        values[spec["key"]] = value
    return values


def _people(definition: FormDefinition, values: dict) -> dict[str, str]:
    """Return the people one may pick, keeping any the record names that has not synced yet."""
    people = catalog.visible_people()
    for spec in definition.fields:
        ident = values.get(spec["key"])
        if spec["type"] == "person" and isinstance(ident, str) and ident and ident not in people:
            people[ident] = "Personne non encore synchronisée"
    return people


def _fix_form(row: dict, definition: FormDefinition, values: dict, errors: dict):
    """Render a rejected record's form with its errors beside the fields."""
    keys = {spec["key"] for spec in definition.fields}
    return render_template(
        "fix_form.html",
        row=row,
        definition=definition,
        values=values,
        errors={key: messages for key, messages in errors.items() if key in keys},
        other_errors=_labelled({k: v for k, v in errors.items() if k not in keys}, None),
        labels=catalog.labels_for(definition),
        people=_people(definition, values),
        author=_names([row["recorded_by"]]).get(row["recorded_by"]),
        back=request.blueprint + ".index",
    )


def _correct(row: dict):
    """Show a rejected record's form prefilled, and store it once it is valid."""
    definition = _definition_of(row["raw"]) or abort(
        409, "Formulaire inconnu : cette fiche ne peut être qu'abandonnée."
    )
    if request.method == "GET":
        audit.log("record.read", row["record_id"], form=definition.key, quarantine=row["id"])
        db.session.commit()
        return _fix_form(row, definition, _prefill(definition, row["raw"].get("data")),
                         row["errors"])
    values = read_posted(definition.fields, request.form)
    try:
        result, errors = decisions.correct_rejected(
            db.session, actor(), row["id"], values, catalog.engine_forms(),
            form_version=definition.version,
        )
    except DecisionError as error:
        abort(409, str(error))
    if errors:
        return _fix_form(row, definition, values, errors), 400
    audit.log("quarantine.correct", row["record_id"], quarantine=row["id"], form=definition.key,
              status=result["status"])
    db.session.commit()
    storing.after_store(db.session)
    flash(NOT_STORED.get(result["status"], STORED))
    return redirect(url_for(request.blueprint + ".index"))


@bp.route("", endpoint="index")
def own_list():
    """List this person's rejected records and the conflicts they caused, with their errors."""
    rejected = _rejected(
        (quarantine.c.recorded_by == current_user.id) & (quarantine.c.status == "open"),
        quarantine.c.received_at.desc(),
    )
    conflicts = _conflicts(record_conflict.c.recorded_by == current_user.id)
    return render_template("fixes_list.html", rejected=rejected, conflicts=conflicts)


@bp.route("/<int:quarantine_id>", methods=["GET", "POST"], endpoint="correct")
def correct_own(quarantine_id: int):
    """Correct one of this person's own rejected records."""
    return _correct(_quarantined(quarantine_id, owner=current_user.id))


# --- The office's quarantine --------------------------------------------------------------------


def _quarantine_page(errors: dict[int, str] | None = None, status: int = 200):
    """Render every open rejected record, newest first, and the last ones already treated."""
    is_open = quarantine.c.status == "open"
    return render_template(
        "quarantine.html",
        rejected=_rejected(is_open, quarantine.c.received_at.desc()),
        total=db.session.scalar(select(func.count()).select_from(quarantine).where(is_open)),
        treated=_rejected(~is_open, quarantine.c.decided_at.desc()),
        errors=errors or {},
        shown=SHOWN,
    ), status


@quarantine_bp.route("", endpoint="index")
def quarantine_list():
    """List the records rejected at sync that wait for a decision."""
    return _quarantine_page()


@quarantine_bp.route("/<int:quarantine_id>", methods=["GET", "POST"], endpoint="correct")
def correct_any(quarantine_id: int):
    """Correct anyone's rejected record; it is stored in its author's name."""
    return _correct(_quarantined(quarantine_id))


@quarantine_bp.post("/<int:quarantine_id>/abandon")
def discard(quarantine_id: int):
    """Set a rejected record aside for good, with the reason given."""
    row = _quarantined(quarantine_id)
    try:
        decisions.discard_rejected(db.session, actor(), row["id"], request.form.get("raison", ""))
    except DecisionError as error:
        return _quarantine_page({row["id"]: str(error)}, 400)
    # The reason is free text and may name someone: it stays on the quarantine row, not here.
    audit.log("quarantine.discard", row["record_id"], quarantine=row["id"], form=row["form"])
    db.session.commit()
    flash("Fiche abandonnée.")
    return redirect(url_for("quarantine.index"))


# --- The office's conflicts ---------------------------------------------------------------------


def _open_conflict(conflict_id: int) -> tuple[dict, dict]:
    """Return an unresolved conflict and its record's current row: 404 if unknown, 409 if done."""
    found = select(record_conflict.c.id).where(record_conflict.c.id == conflict_id)
    if db.session.scalar(found) is None:
        abort(404, "Conflit introuvable.")
    try:
        return decisions.open_conflict(db.session, conflict_id)
    except DecisionError as error:
        abort(409, str(error))


def _chosen(current: dict, incoming: dict, form) -> tuple[dict, list[str]]:
    """Build the chosen data (a whole version, or field by field); say which keys came in new."""
    whole = form.get("version")
    differing = [key for key in sorted(set(current) | set(incoming))
                 if current.get(key) != incoming.get(key)]
    if whole == "nouvelle":
        taken = differing
    elif whole == "actuelle":
        taken = []
    else:
        taken = [key for key in differing if form.get(f"choix-{key}") == "nouvelle"]
    data = {}
    for key in sorted(set(current) | set(incoming)):
        source = incoming if key in taken else current
        if key in source:
            data[key] = source[key]
    return data, taken


def _conflict_page(conflict: dict, current: dict, errors: dict | None = None,
                   stale: bool = False):
    """Render both versions side by side, field by field, with a choice where they differ."""
    errors = errors or {}
    definition = catalog.registry().get(current["form"], current["form_version"])
    labels = catalog.labels_for(definition)
    people = catalog.visible_people()
    rows = []
    for spec in definition.fields:
        key = spec["key"]
        mine, theirs = current["data"].get(key), conflict["data"].get(key)
        if mine is None and theirs is None and key not in errors:
            continue  # left empty in both: nothing to compare
        rows.append({
            "key": key, "label": spec["label"], "differs": mine != theirs,
            "current": show_value(spec, mine, labels.get(key), people),
            "incoming": show_value(spec, theirs, labels.get(key), people),
            "choice": request.form.get(f"choix-{key}", "actuelle"),
            "errors": errors.get(key),
        })
    keys = {spec["key"] for spec in definition.fields}
    return render_template(
        "conflict.html",
        conflict=conflict,
        current=current,
        definition=definition,
        rows=rows,
        differing=sum(row["differs"] for row in rows),
        other_errors=_labelled({k: v for k, v in errors.items() if k not in keys}, None),
        has_errors=bool(errors),
        stale=stale,
        names=_names([conflict["recorded_by"], current["recorded_by"], current["revised_by"]]),
    )


@conflicts_bp.route("", endpoint="index")
def conflict_list():
    """List the conflicts that wait for a decision."""
    return render_template("conflicts.html", conflicts=_conflicts())


@conflicts_bp.route("/<int:conflict_id>", methods=["GET", "POST"])
def resolve(conflict_id: int):
    """Compare a conflict's two versions and make the chosen data the record's new revision."""
    conflict, current = _open_conflict(conflict_id)
    if request.method == "GET":
        audit.log("record.read", current["id"], form=current["form"], conflict=conflict_id)
        db.session.commit()
        return _conflict_page(conflict, current)
    # The choice was made on the version shown: if the record changed since, show it again.
    if request.form.get("revision") != str(current["revision"]):
        return _conflict_page(conflict, current, stale=True), 409
    data, taken = _chosen(current["data"], conflict["data"], request.form)
    try:
        revision, errors = decisions.resolve_conflict(
            db.session, actor(), conflict_id, data, catalog.engine_forms(),
            expected_revision=current["revision"],
        )
    except DecisionError:
        return _conflict_page(conflict, current, stale=True), 409
    if errors:
        return _conflict_page(conflict, current, errors), 400
    audit.log("conflict.resolve", current["id"], conflict=conflict_id, revision=revision,
              taken=taken)
    db.session.commit()
    storing.after_store(db.session)
    flash(f"Conflit résolu : révision {revision}.")
    return redirect(url_for("conflicts.index"))
