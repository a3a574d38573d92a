"""People followed: a person's file as one timeline (/personnes/<id>), and a search (/personnes).

Each viewer sees what their role may (the access rule of sync.access, the same as the pull's):
the office everyone, a visiteur their seniors, a maraude team its known people, a travailleur
social the people received at their permanences. Every read of a file is audited.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from outreach.alerts import ALERT_STATUSES, Alert, alert_kinds
from outreach.core import audit, catalog
from outreach.core.api.common import actor
from outreach.core.db import db
from outreach.core.forms.html import show_value
from outreach.core.models import Record, User
from outreach.core.roles import OFFICE_FILES, OFFICE_ROLES, may_fill
from outreach.fiches import summary
from outreach.people import retention
from outreach.people.merge import MergeError, merge, undo
from outreach.people.models import PersonMerge
from outreach.visits import VisitAssignment
from sync.access import SHARED_BY_TEAM, merged_view, people_visible, through_merge_only
from sync.schema import record

bp = Blueprint("people", __name__, url_prefix="/personnes", template_folder="templates")
SHOWN = 100
# What an alias file shows: no address, no name (DESIGN §6).
ALIAS_FIELDS = ("niveau", "alias_prenom", "tranche_age", "sexe", "notes")
LEVELS = {"alias": "Alias", "identifie": "Identifiée"}
# What a timeline line says of a record: what was given, seen, asked or planned.
TIMELINE_FIELDS = ("personne_vue", "etat_general", "alerte", "prestations", "besoins", "motifs",
                   "actions", "orientations", "rendez_vous_suivi", "notes")


def folded(text: str | None) -> str:
    """Return text lower-cased without accents, to compare names as people type them."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _people() -> list[Record]:
    query = select(Record).where(Record.form == "personne", Record.deleted.is_(False),
                                 people_visible(actor()))
    return list(db.session.scalars(query))


def as_seen(people: list[Record]) -> dict[str, dict]:
    """Return each file's data as this viewer may read it.

    A file a field agent reaches only because theirs was merged into it shows its alias level.
    """
    ids = [person.id for person in people]
    merged_in = set(db.session.scalars(select(Record.id).where(
        Record.id.in_(ids), through_merge_only(actor())))) if ids else set()
    return {person.id: merged_view(person.data) if person.id in merged_in else person.data
            for person in people}


def _places(person_ids: list[str]) -> dict[str, set[str]]:
    """Return, per person, the places of the rencontres that name them."""
    places: dict[str, set[str]] = defaultdict(set)
    rows = db.session.execute(
        select(record.c.data).where(record.c.form == "maraude.rencontre",
                                    record.c.deleted.is_(False),
                                    record.c.data["personne"].as_string().in_(person_ids))
    )
    for (data,) in rows:
        places[data["personne"]].add(folded((data.get("lieu") or {}).get("label")))
    return places


def duplicates(people: list[Record]) -> list[list[Record]]:
    """Return groups of files that may be one person (two tablets, the same night).

    Same alias and age band, or same name and date of birth.
    """
    groups: dict[tuple, list[Record]] = defaultdict(list)
    for person in people:
        data = person.data
        if retention.is_anonymised(data):
            continue  # "Personne anonymisée" of the same age band are not one person
        if data.get("alias_prenom") and data.get("tranche_age"):
            groups[("alias", folded(data["alias_prenom"]), data["tranche_age"])].append(person)
        if data.get("nom") and data.get("date_naissance"):
            groups[("nom", folded(data["nom"]), data["date_naissance"])].append(person)
    seen, found = set(), []
    for group in groups.values():
        ids = frozenset(p.id for p in group)
        if len(group) > 1 and ids not in seen:
            seen.add(ids)
            found.append(group)
    return found


@bp.route("")
def search():
    """Find a person by alias or name, age band, or place; suggest files that may be one."""
    wanted = folded(request.args.get("q"))
    band = request.args.get("tranche") or None
    place = folded(request.args.get("lieu"))
    people = _people()
    seen = as_seen(people)
    places = _places([p.id for p in people]) if place else {}
    found = [
        p for p in people
        if (not wanted or wanted in folded(seen[p.id].get("alias_prenom"))
            or wanted in folded(seen[p.id].get("nom")))
        and (not band or seen[p.id].get("tranche_age") == band)
        and (not place or place in folded(seen[p.id].get("adresse"))
             or any(place in label for label in places.get(p.id, ())))
    ]
    found.sort(key=lambda p: folded(catalog.person_label(seen[p.id])))
    audit.log("person.search", None, shown=min(len(found), SHOWN))
    db.session.commit()
    definition = catalog.registry().current("personne")
    bands = catalog.labels_for(definition)["tranche_age"]
    return render_template(
        "people.html", found=found[:SHOWN], total=len(found), bands=bands,
        searched=bool(wanted or band or place), label=catalog.person_label, seen=seen,
        duplicates=duplicates(people) if current_user.role in OFFICE_ROLES else [],
        levels=LEVELS,
    )


@bp.route("/<person_id>")
def show(person_id: str):
    """Show a person's file: who they are, at their level, and everything done with them."""
    person = db.session.get(Record, person_id)
    if person is None or person.form != "personne" or person.deleted:
        abort(404, "Personne introuvable.")
    visible = db.session.scalar(
        select(record.c.id).where(record.c.id == person_id, people_visible(actor())))
    if visible is None:
        abort(403)
    definition = catalog.registry().get("personne", person.form_version)
    labels = catalog.labels_for(definition)
    data = as_seen([person])[person.id]
    # Reached only through a merge: the agent reads what their own work recorded, no more.
    authors = _own_work() if data is not person.data else None
    identified = data.get("niveau") == "identifie"
    identity = [
        (spec["label"], show_value(spec, data[spec["key"]], labels.get(spec["key"])))
        for spec in definition.fields
        if spec["key"] in data and (identified or spec["key"] in ALIAS_FIELDS)
    ]
    audit.log("person.read", person.id)
    db.session.commit()
    return render_template(
        "person.html", person=person, identity=identity, label=catalog.person_label,
        level=LEVELS.get(data.get("niveau"), "—"), data=data,
        timeline=_timeline(person.id, authors), alerts=_alerts(person.id, authors),
        upcoming=_upcoming(person.id), office=current_user.role in OFFICE_ROLES,
        alert_kinds=alert_kinds(), alert_statuses=ALERT_STATUSES,
        merges=list(db.session.scalars(select(PersonMerge).where(
            PersonMerge.kept_id == person.id, PersonMerge.undone_at.is_(None)))),
    )


def _office_only() -> None:
    if current_user.role not in OFFICE_ROLES:
        abort(403)


@bp.post("/fusionner")
def merge_files():
    """Make two files of one person one: the other file's records move to the kept one."""
    _office_only()
    kept, merged = request.form.get("garder", ""), request.form.get("fusionner", "")
    try:
        done = merge(db.session, actor(), kept, merged)
    except MergeError as refused:
        db.session.rollback()
        flash(f"Rien n'a changé : {refused}")
        return redirect(url_for("people.search"))
    audit.log("person.merge", kept, merged=merged, merge=done.id,
              moved=len(done.moved["records"]))
    db.session.commit()
    flash(f"Fiches fusionnées : {len(done.moved['records'])} fiche"
          f"{'s' if len(done.moved['records']) != 1 else ''} rattachée"
          f"{'s' if len(done.moved['records']) != 1 else ''} à celle-ci.")
    return redirect(url_for("people.show", person_id=kept))


@bp.post("/fusions/<merge_id>/annuler")
def undo_merge(merge_id: str):
    """Undo a merge: the merged file comes back with its records."""
    _office_only()
    done = db.session.get(PersonMerge, merge_id) or abort(404, "Fusion introuvable.")
    try:
        undo(db.session, actor(), done)
    except MergeError as refused:
        db.session.rollback()
        flash(f"Rien n'a changé : {refused}")
        return redirect(url_for("people.show", person_id=done.kept_id))
    audit.log("person.merge_undo", done.kept_id, merge=done.id)
    db.session.commit()
    flash("Fusion annulée : les deux fiches sont de nouveau séparées.")
    return redirect(url_for("people.show", person_id=done.merged_id))


def _own_work() -> set[int]:
    """Return who made the records of this agent's own work: them, or their whole team."""
    if current_user.role in SHARED_BY_TEAM:
        return set(db.session.scalars(select(User.id).where(User.role == current_user.role)))
    return {current_user.id}


def _timeline(person_id: str, authors: set[int] | None = None) -> list[tuple[Record, str, str]]:
    """Return the records about this person the viewer's role works with, newest first.

    `authors` keeps only the records they made: a file reached through a merge shows the
    agent what their own work recorded, not the other service's visits.
    """
    registry = catalog.registry()
    office = current_user.role in OFFICE_ROLES
    rows = db.session.scalars(
        select(Record)
        .where(Record.deleted.is_(False), Record.form != "personne",
               Record.data["personne"].as_string() == person_id)
        .order_by(Record.recorded_at.desc())
    )
    return [
        (row, registry.get(row.form, row.form_version).title, _what_happened(row))
        for row in rows
        if may_fill(current_user.role, row.form, registry.current(row.form).roles)
        and (office or not row.form.startswith(OFFICE_FILES))
        and (authors is None or row.recorded_by in authors)
    ]


def _alerts(person_id: str, authors: set[int] | None = None) -> list[Alert]:
    """Return the person's alerts the viewer's work raises (the office: all of them)."""
    registry = catalog.registry()
    office = current_user.role in OFFICE_ROLES
    return [
        alert for alert in db.session.scalars(
            select(Alert).where(Alert.person_id == person_id).order_by(Alert.raised_at.desc()))
        if office or (registry.current(alert.form) is not None and may_fill(
            current_user.role, alert.form, registry.current(alert.form).roles)
            and (authors is None or alert.raised_by in authors))
    ]


def _what_happened(row: Record) -> str:
    """Say in one line what was given, seen, asked or planned, with labels; else the summary."""
    definition = catalog.registry().get(row.form, row.form_version)
    labels = catalog.labels_for(definition)
    told = [
        f"{spec['label']} : {show_value(spec, row.data[spec['key']], labels.get(spec['key']))}"
        for spec in definition.fields
        if spec["key"] in TIMELINE_FIELDS and row.data.get(spec["key"]) not in (None, [], "")
        and not (spec["key"] == "alerte" and row.data["alerte"] == "aucune")
    ]
    return " · ".join(told) or summary(row)


def _upcoming(person_id: str) -> list[tuple[date, str]]:
    """Return what is planned with this person: the next visites, follow-up appointments."""
    today = date.today()
    planned = [
        (a.next_due, f"Visite de convivialité ({a.visiteur.name})")
        for a in db.session.scalars(select(VisitAssignment).where(
            VisitAssignment.person_id == person_id, VisitAssignment.active.is_(True)))
    ]
    for (data,) in db.session.execute(
        select(record.c.data).where(record.c.form == "permanence.accueil",
                                    record.c.deleted.is_(False),
                                    record.c.data["personne"].as_string() == person_id)
    ):
        day = data.get("rendez_vous_suivi")
        if day and date.fromisoformat(day) >= today:
            planned.append((date.fromisoformat(day), "Rendez-vous de suivi (permanence)"))
    return sorted(planned)
