"""The rencontre rapide: one screen for an anonymous encounter in the cold."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from outreach.core import catalog
from outreach.core.roles import may_fill
from outreach.fiches import parent_of

bp = Blueprint("quick", __name__, template_folder="templates")
QUICK_FORM = "maraude.rencontre"
# What a team hands out most in the street, first: one big button each.
QUICK_PRESTATIONS = ("boisson_chaude", "repas", "duvet", "vetements", "kit_hygiene", "ecoute")


@bp.route("/saisie/maraude.rencontre/rapide")
def page():
    """Ask how many people were met and what was handed out; the tablet stores the record."""
    definition = catalog.registry().current(QUICK_FORM)
    if not may_fill(current_user.role, definition.key, definition.roles):
        abort(403)
    parent_id, parent = parent_of(definition, request.values.get("parent"))
    secteur = parent.data.get("secteur") if parent is not None else None
    handed = next(spec for spec in definition.fields if spec["key"] == "prestations")
    return render_template(
        "quick.html", definition=definition, parent_id=parent_id, secteur=secteur,
        prestations=[c for c in handed["choices"] if c["value"] in QUICK_PRESTATIONS],
    )
