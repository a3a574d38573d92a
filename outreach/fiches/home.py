"""The home page: the forms this person may fill, and what waits for them."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, not_, or_, select, true

from outreach.core import catalog, signals
from outreach.core.api.common import actor
from outreach.core.clock import today
from outreach.core.db import db
from outreach.core.models import Record, User, utcnow
from outreach.core.roles import OFFICE_FILES
from sync.access import people_visible

bp = Blueprint("home", __name__, template_folder="templates")
OPEN_PARENT_DAYS = 2
# French genders its nouns: the button says "Nouvelle rencontre" but "Nouvel accueil".
NEW_CHILD = {"maraude.rencontre": "Nouvelle rencontre", "permanence.accueil": "Nouvel accueil"}


def new_child_label(definition) -> str:
    """Name the button that opens a child form under its parent."""
    return NEW_CHILD.get(definition.key, f"Ajouter : {definition.title}")


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
    """Show this person's page: each feature's sections, in their order."""
    me = current_user._get_current_object()
    sections = sorted(signals.gathered(signals.home_sections.send(me)),
                      key=lambda section: section.position)
    drawn = [Markup(render_template(section.template, **section.context))
             for section in sections]
    return render_template("home.html", sections=drawn)


def in_progress(user: User, open_forms: list[str]) -> list[Record]:
    """Return what this person carries on with: their parents of the last days, then the rest.

    A tournée or a permanence of theirs under which they still add rencontres or accueils, then
    what the features add (a maraude team's planned rounds).
    """
    mine: list[Record] = []
    if open_forms:
        since = utcnow() - timedelta(days=OPEN_PARENT_DAYS)
        query = (
            select(Record)
            .where(Record.form.in_(open_forms), Record.recorded_by == user.id,
                   Record.deleted.is_(False))
            .where(Record.recorded_at >= since)
            # A closed tournée is no longer in progress: no "Nouvelle rencontre" under it.
            .where(or_(Record.form != "maraude.tournee",
                       Record.data["heure_retour"].as_string().is_(None)))
            .order_by(Record.recorded_at.desc())
            .limit(5)
        )
        mine = list(db.session.scalars(query))
    more = signals.gathered(signals.in_progress.send(user, exclude={r.id for r in mine},
                                                     open_forms=open_forms))
    return mine + more


def own_sections(user: User, **_kwargs) -> list[signals.Section]:
    """Give the home page's own sections: what is in progress, the forms, the tablet, the fiches."""
    fillable = catalog.fillable(user)
    top_level = [d for d in fillable if not d.parent]
    children = {d.key: [c for c in catalog.children_of(d.key) if c in fillable]
                for d in top_level}
    registry = catalog.registry()
    recent = list(db.session.scalars(
        select(Record)
        .where(Record.recorded_by == user.id, Record.deleted.is_(False), _still_mine())
        .order_by(Record.recorded_at.desc())
        .limit(5)
    ))
    shared = {"children": children, "title_of": lambda record: registry.get(
        record.form, record.form_version).title, "new_child_label": new_child_label,
        "today": today()}
    started = in_progress(user, [key for key, under in children.items() if under])
    sections = [signals.Section(40, "home_fill.html", {**shared, "top_level": top_level}),
                signals.Section(80, "home_tablet.html", {}),
                signals.Section(90, "home_recent.html", {**shared, "recent": recent})]
    if started:
        sections.append(signals.Section(30, "home_in_progress.html",
                                        {**shared, "in_progress": started}))
    return sections
