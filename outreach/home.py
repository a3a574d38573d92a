"""The home page: the forms this person may fill, and what waits for them."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from . import catalog
from .db import db
from .models import Record, utcnow

bp = Blueprint("home", __name__)
OPEN_PARENT_DAYS = 2
# French genders its nouns: the button says "Nouvelle rencontre" but "Nouvel accueil".
NEW_CHILD = {"maraude.rencontre": "Nouvelle rencontre", "permanence.accueil": "Nouvel accueil"}


def new_child_label(definition) -> str:
    """Name the button that opens a child form under its parent."""
    return NEW_CHILD.get(definition.key, f"Ajouter : {definition.title}")


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
            .where(Record.form.in_(open_forms), Record.recorded_by == current_user.id)
            .where(Record.recorded_at >= since)
            .order_by(Record.recorded_at.desc())
            .limit(5)
        )
        in_progress = list(db.session.scalars(query))
    recent = db.session.scalars(
        select(Record)
        .where(Record.recorded_by == current_user.id, Record.deleted.is_(False))
        .order_by(Record.recorded_at.desc())
        .limit(5)
    )
    registry = catalog.registry()
    return render_template(
        "home.html",
        top_level=top_level,
        children=parents_with_children,
        in_progress=in_progress,
        recent=list(recent),
        title_of=lambda record: registry.get(record.form, record.form_version).title,
        new_child_label=new_child_label,
    )
