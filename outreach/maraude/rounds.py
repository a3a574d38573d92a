"""A tournée de maraude and its rencontres (/tournees/<id>); closing it fills its counts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from outreach.core import audit, catalog, storing
from outreach.core.api.common import actor
from outreach.core.clock import today
from outreach.core.db import db
from outreach.core.models import Record, User, utcnow
from outreach.core.roles import OFFICE_ROLES, restrict
from outreach.fiches import summary

bp = Blueprint("maraude", __name__, url_prefix="/tournees", template_folder="templates")
restrict(bp, "maraude", *OFFICE_ROLES)
PARIS = ZoneInfo("Europe/Paris")
ROUND_FORM = "maraude.tournee"
OPEN_ROUND_DAYS = 2
PLANNED_DAYS = 14


def team_rounds(exclude: set[str]) -> list[Record]:
    """Return the team's tournées not yet closed, from the last days to the next two weeks.

    A coordinateur plans a tournée by recording it ahead (date, secteur, équipe); any agent of
    the maraude may also have started one: the whole team sees them (DESIGN §6, rounds shared).
    """
    if "team_rounds" not in g:  # the home page and its list of offline pages both ask
        first, last = (today() - timedelta(days=OPEN_ROUND_DAYS),
                       today() + timedelta(days=PLANNED_DAYS))
        team = select(User.id).where(User.role.in_(("maraude", *OFFICE_ROLES)))
        query = (
            select(Record)
            .where(Record.form == ROUND_FORM, Record.deleted.is_(False),
                   Record.recorded_by.in_(team),
                   Record.recorded_at >= utcnow() - timedelta(days=60))
            .order_by(Record.recorded_at.desc())
            .limit(200)
        )
        g.team_rounds = sorted(
            (tournee for tournee in db.session.scalars(query)
             if not tournee.data.get("heure_retour")
             and first.isoformat() <= tournee.data.get("date", "") <= last.isoformat()),
            key=lambda r: (r.data["date"], r.data.get("heure_depart") or ""))
    return [tournee for tournee in g.team_rounds if tournee.id not in exclude][:6]


def _tournee(tournee_id: str) -> Record:
    tournee = db.session.get(Record, tournee_id)
    if tournee is None or tournee.deleted or tournee.form != "maraude.tournee":
        abort(404, "Tournée introuvable.")
    # A maraude team shares its rounds (DESIGN §6): any maraude agent's, not another service's.
    # A tournée the office planned is the team's too.
    if current_user.role not in OFFICE_ROLES and db.session.get(
            User, tournee.recorded_by).role not in ("maraude", *OFFICE_ROLES):
        abort(403)
    return tournee


def counts(rencontres: list[Record]) -> dict:
    """Add up a round's rencontres: people (women, men, not said) and what was handed out.

    A prestation counts once for each person of its rencontre.
    """
    people = sum(r.data.get("nombre_personnes", 0) for r in rencontres)
    women = sum(r.data.get("femmes") or 0 for r in rencontres)
    men = sum(r.data.get("hommes") or 0 for r in rencontres)
    # As the figures count them (indicators "maraude.prestations"): once for each person of the
    # rencontre, so the round and the year say the same thing.
    handed = Counter()
    for r in rencontres:
        for value in r.data.get("prestations", []):
            handed[value] += r.data.get("nombre_personnes") or 1
    return {"rencontres": len(rencontres), "people": people, "women": women, "men": men,
            "unsaid": people - women - men, "handed": handed,
            "urgent": sum(1 for r in rencontres if r.data.get("situation_urgente"))}


@bp.route("/<tournee_id>", methods=["GET", "POST"])
def show(tournee_id: str):
    """Show a round with its rencontres; "Clore la tournée" sets its return time and counts."""
    tournee = _tournee(tournee_id)
    rencontres = list(db.session.scalars(
        select(Record).where(Record.parent_id == tournee.id, Record.deleted.is_(False))
        .order_by(Record.recorded_at)))
    totals = counts(rencontres)
    error = None
    if request.method == "POST":
        back = (request.form.get("heure_retour") or "").strip()
        try:
            datetime.strptime(back, "%H:%M")
        except ValueError:
            error = "Heure attendue (HH:MM)."
        else:
            closed = {**tournee.data, "heure_retour": back,
                      "nombre_personnes": totals["people"]}
            result = storing.store_change(db.session, actor(), tournee, closed,
                                         request.form.get("revision", type=int))
            if result["status"] in ("updated", "unchanged"):
                flash(f"Tournée close : {totals['people']} personne"
                      f"{'s' if totals['people'] != 1 else ''} rencontrée"
                      f"{'s' if totals['people'] != 1 else ''}.")
                return redirect(url_for("maraude.show", tournee_id=tournee.id))
            error = " ".join(m for ms in result["errors"].values() for m in ms) or (
                "La tournée a changé entre-temps : rouvrez-la et recommencez.")
    if request.method == "GET":
        audit.log("record.read", tournee.id, form=tournee.form, rencontres=len(rencontres))
        db.session.commit()
    registry = catalog.registry()
    # Every version's labels: a choice retired since is still named in older rencontres.
    handed_labels = {c["value"]: c["label"]
                     for definition in registry.versions("maraude.rencontre")
                     for spec in definition.fields if spec["key"] == "prestations"
                     for c in spec.get("choices", ())}
    return render_template(
        "tournee.html", tournee=tournee, rencontres=rencontres, totals=totals,
        summaries={r.id: summary(r) for r in rencontres}, handed_labels=handed_labels,
        error=error, now=datetime.now(PARIS).strftime("%H:%M"),
        may_close=current_user.role in (*OFFICE_ROLES, "maraude"),
        # Closed: neither new rencontres nor "Clore la tournée" are offered any more.
        closed=bool(tournee.data.get("heure_retour")),
        # What the tablet needs to close the round with no network (close-tournee.js).
        closing={"id": tournee.id, "form_version": tournee.form_version,
                 "recorded_at": tournee.recorded_at.isoformat(), "revision": tournee.revision,
                 "data": tournee.data, "people": totals["people"],
                 "rencontres": [r.id for r in rencontres]},
    ), 400 if error else 200
