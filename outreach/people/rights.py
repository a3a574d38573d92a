"""A person's rights at the office: all that is held about them; anonymising or erasing it.

From a file (/personnes/<id>), the coordinateur or admin exports for a right-of-access request
(art. 15 RGPD) a printable page and a JSON file of all the service holds about the person; and,
on request, anonymises or erases them (people.retention), unless the law still keeps the data
(an alert plan calling them, an open alert): then the page says why and nothing changes. Both
are in the audit log.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import String, cast, or_, select

from outreach.alerts import Alert
from outreach.core import audit, catalog
from outreach.core.api.common import actor
from outreach.core.db import db
from outreach.core.forms.html import show_value
from outreach.core.models import AuditEvent, User
from outreach.core.roles import OFFICE_ROLES, restrict
from outreach.people import retention
from outreach.people.models import PersonMerge
from outreach.visits import VisitAssignment
from sync.schema import quarantine, record, record_conflict, record_revision, utcnow

bp = Blueprint("rights", __name__, url_prefix="/personnes", template_folder="templates")
restrict(bp, *OFFICE_ROLES)


def _file(person_id: str):
    row = db.session.execute(select(record).where(record.c.id == person_id)).first()
    if row is None or row.form != retention.PERSON_FORM or row.deleted:
        abort(404, "Personne introuvable.")
    return row


def _names() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.name)).all())


def _record(row, names: dict[int, str], with_history: bool = True) -> dict:
    """Return a stored record as the export shows it, with its earlier revisions."""
    found = {"id": row.id, "formulaire": row.form, "version": row.form_version,
             "revision": row.revision, "parent": row.parent_id, "efface": row.deleted,
             "noté_le": row.recorded_at, "reçu_le": row.received_at,
             "par": names.get(row.recorded_by), "modifié_par": names.get(row.revised_by),
             "données": row.data}
    if with_history:
        found["révisions"] = [
            {"revision": rev.revision, "version": rev.form_version, "noté_le": rev.recorded_at,
             "remplacée_le": rev.replaced_at, "par": names.get(rev.recorded_by),
             "données": rev.data}
            for rev in db.session.execute(select(record_revision).where(
                record_revision.c.record_id == row.id).order_by(record_revision.c.revision))]
    return found


def held_about(person_id: str) -> dict:
    """Gather everything the service holds about a person, for a right-of-access request."""
    names = _names()
    ids = retention.files_of(db.session, person_id)
    files = db.session.execute(select(record).where(record.c.id.in_(ids))).all()
    named = retention.naming(db.session, ids)
    entries = [row for row in named if row.form == retention.REGISTER_FORM]
    tasks = retention.calls_of(db.session, ids, [row.id for row in entries])
    outcomes = retention.call_outcomes(db.session, tasks)
    record_ids = [*ids, *(row.id for row in named), *(row.id for row in outcomes)]
    alerts = list(db.session.scalars(select(Alert).where(Alert.person_id.in_(ids))
                                     .order_by(Alert.raised_at)))
    assignments = list(db.session.scalars(select(VisitAssignment).where(
        VisitAssignment.person_id.in_(ids)).order_by(VisitAssignment.starts_on)))
    merges = list(db.session.scalars(select(PersonMerge).where(
        PersonMerge.kept_id.in_(ids) | PersonMerge.merged_id.in_(ids))
        .order_by(PersonMerge.merged_at)))
    conflicts = db.session.execute(select(record_conflict).where(
        record_conflict.c.record_id.in_(record_ids)).order_by(record_conflict.c.id)).all()
    keys = retention.person_keys()
    refused = [row for row in db.session.execute(select(quarantine).order_by(quarantine.c.id))
               if row.record_id in ids or _names_any(row.raw, keys, ids)]
    targets = {*record_ids, *(f"record:{ident}" for ident in record_ids),
               *(a.id for a in alerts), *(a.id for a in assignments), *(m.id for m in merges)}
    journal = db.session.scalars(select(AuditEvent).where(or_(
        AuditEvent.target.in_(targets),
        *(cast(AuditEvent.details, String).contains(ident) for ident in ids)))
        .order_by(AuditEvent.at, AuditEvent.id)).all()
    by_id = {row.id: row for row in files}
    return {
        "personne": _record(by_id[person_id], names),
        "fiches_fusionnées": [_record(by_id[ident], names) for ident in ids[1:] if ident in by_id],
        "fiches": [_record(row, names) for row in named if row.form != retention.REGISTER_FORM],
        "registre": [_record(row, names) for row in entries],
        "appels": [{"id": task.id, "plan": task.plan_id, "série": task.series,
                    "inscription": task.entry_id, "agent": names.get(task.agent_id),
                    "état": task.status, "tentatives": task.attempts, "besoins": task.needs,
                    "précision": task.need_detail, "suite": task.action_note,
                    "dernier_appel": task.last_call_at,
                    "issues": [_record(row, names) for row in outcomes
                               if row.data.get("tache") == task.id]} for task in tasks],
        "alertes": [{"id": a.id, "fiche": a.record_id, "type": a.kind, "formulaire": a.form,
                     "détail": a.detail, "levée_par": names.get(a.raised_by),
                     "levée_le": a.raised_at, "état": a.status, "prise_par": names.get(a.taken_by),
                     "prise_le": a.taken_at, "close_par": names.get(a.closed_by),
                     "close_le": a.closed_at, "suite": a.outcome} for a in alerts],
        "affectations": [{"id": a.id, "visiteur": a.visiteur.name, "rythme": a.rhythm,
                          "mode": a.mode, "début": a.starts_on, "prochaine_visite": a.next_due,
                          "active": a.active, "fin": a.ended_on} for a in assignments],
        "fusions": [{"id": m.id, "gardée": m.kept_id, "fusionnée": m.merged_id,
                     "par": names.get(m.merged_by), "le": m.merged_at,
                     "annulée_le": m.undone_at} for m in merges],
        "conflits": [{"id": c.id, "fiche": c.record_id, "formulaire": c.form,
                      "reçu_le": c.received_at, "par": names.get(c.recorded_by),
                      "réglé_le": c.resolved_at, "données": c.data} for c in conflicts],
        "quarantaine": [{"id": q.id, "fiche": q.record_id, "formulaire": q.form,
                         "reçu_le": q.received_at, "par": names.get(q.recorded_by),
                         "état": q.status, "erreurs": q.errors, "reçu": q.raw} for q in refused],
        "journal": [{"id": e.id, "le": e.at, "par": names.get(e.user_id), "action": e.action,
                     "cible": e.target, "détails": e.details} for e in journal],
    }


def _names_any(raw, keys: set[str], ids: list[str]) -> bool:
    data = raw.get("data") if isinstance(raw, dict) else None
    return isinstance(data, dict) and any(data.get(key) in ids for key in keys)


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _lines(found: dict) -> list[tuple[str, str]]:
    """Return a record's fields as (label, value) with its version's labels, for the page."""
    definition = catalog.registry().get(found["formulaire"], found["version"])
    if definition is None:
        return [(key, str(value)) for key, value in found["données"].items()]
    labels = catalog.labels_for(definition)
    people = catalog.visible_people()
    known = {spec["key"] for spec in definition.fields}
    lines = [(spec["label"], show_value(spec, found["données"][spec["key"]],
                                        labels.get(spec["key"]), people))
             for spec in definition.fields if found["données"].get(spec["key"]) not in
             (None, "", [])]
    return lines + [(key, str(value)) for key, value in found["données"].items()
                    if key not in known]


@bp.get("/<person_id>/donnees")
def export(person_id: str):
    """Show, to print, or give as JSON (?format=json) everything held about a person."""
    person = _file(person_id)
    held = held_about(person_id)
    as_json = request.args.get("format") == "json"
    audit.log("person.export", person_id, format="json" if as_json else "page",
              records=len(held["fiches"]) + len(held["registre"]))
    db.session.commit()
    if as_json:
        body = json.dumps({"exporté_le": utcnow(), "par": current_user.name, **held},
                          default=_json_default, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="donnees-{person_id}.json"'})
    titles = {key: definition.title for key in catalog.registry().keys()
              if (definition := catalog.registry().current(key))}
    return render_template("person_data.html", person=person, held=held, lines=_lines,
                           titles=titles, label=catalog.person_label, now=utcnow())


@bp.get("/<person_id>/effacer")
def confirm(person_id: str):
    """Ask, with the reason, whether to anonymise or erase a person; say what the law keeps."""
    person = _file(person_id)
    return render_template("person_erase.html", person=person, label=catalog.person_label,
                           refused=retention.refusal(db.session, person_id),
                           reasons=retention.REASONS, ways=retention.WAYS, errors={},
                           chosen={})


@bp.post("/<person_id>/effacer")
def erase(person_id: str):
    """Anonymise or erase a person on request, unless the law still keeps their data."""
    person = _file(person_id)
    way, reason = request.form.get("maniere", ""), request.form.get("motif", "")
    errors = {}
    if way not in retention.WAYS:
        errors["maniere"] = "Choisissez : anonymiser ou effacer."
    if reason not in retention.REASONS:
        errors["motif"] = "Choisissez le motif de la demande."
    refused = retention.refusal(db.session, person_id)
    if errors or refused:
        return render_template("person_erase.html", person=person, label=catalog.person_label,
                               refused=refused, reasons=retention.REASONS, ways=retention.WAYS,
                               errors=errors, chosen=request.form), 409 if refused else 400
    done = retention.anonymise(db.session, person_id, actor().id, reason,
                               erase=way == "effacer", end_visits=True)
    audit.log("person.erase" if way == "effacer" else "person.anonymise", person_id,
              reason=reason, **done.counts())
    db.session.commit()
    retention.forget_on_disk(db.session)
    if way == "effacer":
        flash(f"Personne effacée : sa fiche a quitté les listes et les tablettes, "
              f"{done.records} fiche(s) qui la nomment n'ont plus de texte libre. "
              "Les chiffres d'activité restent les mêmes.")
        return redirect(url_for("people.search"))
    flash(f"Personne anonymisée : {done.records} fiche(s) qui la nomment n'ont plus de texte "
          "libre. Les chiffres d'activité restent les mêmes.")
    return redirect(url_for("people.show", person_id=person_id))
