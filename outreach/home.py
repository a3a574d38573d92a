"""The home page: the forms this person may fill, and what waits for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, render_template
from flask_login import current_user
from sqlalchemy import and_, not_, or_, select, true

from sync.access import people_visible

from . import catalog
from .api.common import actor
from .db import db
from .models import Record, User, utcnow
from .roles import OFFICE_FILES, OFFICE_ROLES

bp = Blueprint("home", __name__)
OPEN_PARENT_DAYS = 2
PLANNED_DAYS = 14
# French genders its nouns: the button says "Nouvelle rencontre" but "Nouvel accueil".
NEW_CHILD = {"maraude.rencontre": "Nouvelle rencontre", "permanence.accueil": "Nouvel accueil"}


def new_child_label(definition) -> str:
    """Name the button that opens a child form under its parent."""
    return NEW_CHILD.get(definition.key, f"Ajouter : {definition.title}")


def today() -> date:
    """Return today's date in the CCAS's time zone."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def team_rounds(exclude: set[str]) -> list[Record]:
    """Return the team's tournées not yet closed, from the last days to the next two weeks.

    A coordinateur plans a tournée by recording it ahead (date, secteur, équipe); any agent of
    the maraude may also have started one: the whole team sees them (DESIGN §6, rounds shared).
    """
    if "team_rounds" not in g:  # the home page and its list of offline pages both ask
        first, last = (today() - timedelta(days=OPEN_PARENT_DAYS),
                       today() + timedelta(days=PLANNED_DAYS))
        team = select(User.id).where(User.role.in_(("maraude", *OFFICE_ROLES)))
        query = (
            select(Record)
            .where(Record.form == "maraude.tournee", Record.deleted.is_(False),
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


def _still_mine():
    """Keep the records an agent made that are still theirs to read.

    Not a register entry once sent (the office's alone), nor a file the office gave to another.
    """
    me = actor()
    if me.office:
        return true()
    return and_(not_(or_(*(Record.form.startswith(prefix) for prefix in OFFICE_FILES))),
                or_(Record.form != "personne", people_visible(me)))


@bp.route("/")
def index():
    """Show the forms this person may fill, their rounds in progress and their last fiches."""
    fillable = catalog.fillable(current_user)
    top_level = [d for d in fillable if not d.parent]
    parents_with_children = {
        d.key: [c for c in catalog.children_of(d.key) if c in fillable] for d in top_level
    }
    open_forms = [key for key, children in parents_with_children.items() if children]
    in_progress = []
    if open_forms:
        since = utcnow() - timedelta(days=OPEN_PARENT_DAYS)
        query = (
            select(Record)
            .where(Record.form.in_(open_forms), Record.recorded_by == current_user.id,
                   Record.deleted.is_(False))
            .where(Record.recorded_at >= since)
            # A closed tournée is no longer in progress: no "Nouvelle rencontre" under it.
            .where(or_(Record.form != "maraude.tournee",
                       Record.data["heure_retour"].as_string().is_(None)))
            .order_by(Record.recorded_at.desc())
            .limit(5)
        )
        in_progress = list(db.session.scalars(query))
    planned = team_rounds(exclude={r.id for r in in_progress}) \
        if "maraude.tournee" in open_forms else []
    recent = db.session.scalars(
        select(Record)
        .where(Record.recorded_by == current_user.id, Record.deleted.is_(False), _still_mine())
        .order_by(Record.recorded_at.desc())
        .limit(5)
    )
    registry = catalog.registry()
    return render_template(
        "home.html",
        top_level=top_level,
        children=parents_with_children,
        in_progress=in_progress + planned,
        today=today(),
        recent=list(recent),
        title_of=lambda record: registry.get(record.form, record.form_version).title,
        new_child_label=new_child_label,
    )
