"""/registre: the commune's register of isolated elderly and disabled people living at home.

Art. L121-6-1 and R121-2 to R121-12 of the Code de l'action sociale et des familles: people ask
to be on it (or their legal representative, or a third party), the CCAS keeps it apart from any
other file, confirms it every year before the summer watch of 1 June, and hands it to the préfet
only when an alert plan is on. An entry is a `registre.inscription` record, so it can be made on
a tablet during a visite, offline, and synced like any record; confirming and withdrawing are
changes of that record (its history keeps who did what).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outreach.core import audit, catalog, storing
from outreach.core.api.common import actor
from outreach.core.clock import today
from outreach.core.db import db
from outreach.core.forms.html import show_value
from outreach.core.models import AuditEvent, Record
from outreach.core.roles import restrict
from outreach.visits import VisitAssignment
from sync import sequence
from sync.content import content_hash
from sync.schema import quarantine, record, record_conflict, record_revision

bp = Blueprint("register", __name__, url_prefix="/registre", template_folder="templates")
restrict(bp, "coordinateur", "admin")
FORM = "registre.inscription"


def entries() -> list[Record]:
    """Return every registration (withdrawn ones too), by name."""
    rows = db.session.scalars(select(Record).where(Record.form == FORM,
                                                   Record.deleted.is_(False)))
    return sorted(rows, key=lambda r: (r.data["nom"].casefold(), r.data["prenoms"].casefold()))


def age(born: str, on: date) -> int:
    """Return a person's age on a day from their birth date (YYYY-MM-DD)."""
    day = date.fromisoformat(born)
    return on.year - day.year - ((on.month, on.day) < (day.month, day.day))


def watch_start(on: date) -> date:
    """Return the 1 June the next summer watch starts on (this year's until it has begun)."""
    first_june = date(on.year, 6, 1)
    return first_june if on < first_june else date(on.year + 1, 6, 1)


def to_confirm(entry: Record, on: date) -> bool:
    """Tell whether an entry has not been confirmed in the year before the next watch."""
    last = entry.data.get("date_confirmation") or entry.data["date_demande"]
    return date.fromisoformat(last) <= watch_start(on) - timedelta(days=365)


def _labels() -> dict[str, dict[str, str]]:
    return catalog.labels_for(catalog.registry().current(FORM))


@bp.get("")
def index():
    """List the register: who is on it, by category, and whom to confirm before 1 June."""
    on = today()
    everyone = entries()
    active = [e for e in everyone if not e.data.get("date_retrait")]
    confirming = request.args.get("a_confirmer") == "1"
    shown = [e for e in active if to_confirm(e, on)] if confirming else active
    labels = _labels()
    by_category = {value: sum(1 for e in active if e.data["categorie"] == value)
                   for value in labels["categorie"]}
    audit.log("register.list", FORM, shown=len(shown))
    db.session.commit()
    return render_template(
        "register.html", shown=shown, labels=labels, by_category=by_category,
        active=len(active), withdrawn=_withdrawn_count(), confirming=confirming,
        pending=sum(1 for e in active if to_confirm(e, on)), watch=watch_start(on),
        age=lambda entry: age(entry.data["date_naissance"], on),
    )


def _withdrawn_count() -> int:
    """Count the withdrawals, erased ones included (they keep their dates)."""
    return sum(1 for data in db.session.scalars(select(Record.data).where(Record.form == FORM))
               if data.get("date_retrait"))


def _entry(entry_id: str) -> Record:
    entry = db.session.get(Record, entry_id)
    if entry is None or entry.deleted or entry.form != FORM:
        abort(404, "Inscription introuvable.")
    return entry


@bp.get("/<entry_id>")
def show(entry_id: str):
    """Show one registration, with its acknowledgement, confirmation and withdrawal."""
    entry = _entry(entry_id)
    definition = catalog.registry().get(entry.form, entry.form_version)
    labels = catalog.labels_for(definition)
    people = catalog.visible_people()
    rows = [(spec["label"], show_value(spec, entry.data.get(spec["key"]), labels.get(spec["key"]),
                                       people))
            for spec in definition.fields if entry.data.get(spec["key"]) not in (None, "", [])]
    visiteurs = [a.visiteur.name for a in db.session.scalars(
        select(VisitAssignment).where(VisitAssignment.person_id == entry.data.get("personne"),
                                      VisitAssignment.active.is_(True)))]
    audit.log("register.read", f"record:{entry.id}")
    db.session.commit()
    return render_template("register_entry.html", entry=entry, rows=rows, visiteurs=visiteurs,
                           today=today().isoformat(), error=request.args.get("erreur"))


@bp.get("/<entry_id>/accuse")
def acknowledgement(entry_id: str):
    """Print the acknowledgement of the request (accusé de réception)."""
    entry = _entry(entry_id)
    audit.log("register.acknowledgement", f"record:{entry.id}")
    db.session.commit()
    return render_template("register_letter.html", entry=entry, labels=_labels(),
                           ccas=current_app.config["CCAS_NAME"], today=today())


def _change(entry: Record, changes: dict, done: str):
    """Store a change of a registration as a new revision (exactly as a tablet's edit)."""
    result = storing.store_change(db.session, actor(), entry, {**entry.data, **changes},
                                 request.form.get("revision", type=int))
    if result["status"] not in ("updated", "unchanged"):
        message = " ".join(m for ms in result["errors"].values() for m in ms) or (
            "L'inscription a changé entre-temps : rechargez la page et recommencez.")
        return redirect(url_for(".show", entry_id=entry.id, erreur=message))
    flash(done)
    return redirect(url_for(".show", entry_id=entry.id))


@bp.post("/<entry_id>/confirmer")
def confirm(entry_id: str):
    """Record that the person confirmed they want to stay on the register."""
    entry = _entry(entry_id)
    return _change(entry, {"date_confirmation": today().isoformat()},
                   "Inscription confirmée pour la prochaine veille saisonnière.")


@bp.post("/<entry_id>/retirer")
def withdraw(entry_id: str):
    """Take a person off the register at their request (the entry leaves the list)."""
    entry = _entry(entry_id)
    day = (request.form.get("date_retrait") or "").strip()
    try:
        date.fromisoformat(day)
    except ValueError:
        return redirect(url_for(".show", entry_id=entry.id,
                                erreur="Date du retrait attendue (AAAA-MM-JJ)."))
    return _change(entry, {"date_retrait": day}, "La personne ne figure plus au registre.")


# What a withdrawn registration keeps once erased: enough to count, nothing that names anyone.
KEPT_AFTER_WITHDRAWAL = ("categorie", "date_demande", "date_retrait")


def withdrawn_before(session: Session, on: date, after_days: int = 0) -> list:
    """Return the withdrawn registrations whose withdrawal is `after_days` old (not yet erased)."""
    limit = (on - timedelta(days=after_days)).isoformat()
    return session.execute(
        select(record.c.id, record.c.data, record.c.form_version, record.c.revision,
               record.c.recorded_at, record.c.parent_id)
        .where(record.c.form == FORM, record.c.deleted.is_(False),
               record.c.data["date_retrait"].as_string() <= limit)
    ).all()


def erase_withdrawn(session: Session, on: date, after_days: int = 0) -> int:
    """Erase the withdrawn registrations whose withdrawal is `after_days` old; return how many.

    A person who leaves the register leaves it whole (R121-2 ff. CASF, CNIL): the entry keeps only
    its category and dates, its history, kept conflicts and refusals go, and it is marked deleted
    so no list, plan or export reads it again (the figures still count it until its withdrawal).
    Each erasure is in the audit log, by id only.
    """
    rows = withdrawn_before(session, on, after_days)
    for row in rows:
        kept = {key: row.data[key] for key in KEPT_AFTER_WITHDRAWAL if key in row.data}
        session.execute(record.update().where(record.c.id == row.id).values(
            data=kept, deleted=True, revision=row.revision + 1,
            change_seq=sequence.reserve(session, 1),
            content_hash=content_hash({"form": FORM, "form_version": row.form_version,
                                       "parent_id": row.parent_id, "data": kept,
                                       "recorded_at": row.recorded_at.isoformat()})))
        for table in (record_revision, record_conflict, quarantine):
            session.execute(delete(table).where(table.c.record_id == row.id))
        session.add(AuditEvent(action="register.erase", target=f"record:{row.id}",
                               details={"withdrawn_on": kept.get("date_retrait")}))
    session.commit()
    return len(rows)
