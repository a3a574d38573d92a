"""/admin/tablettes: every tablet that has called the server, and "Déclarer perdue".

The admin acts; a coordinateur may read (which tablet went silent, what waits on it). Newest
contact first; a tablet silent for OUTREACH_SILENT_TABLET_DAYS is marked.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from outreach.core import tablets
from outreach.core.db import db
from outreach.core.models import Tablet, utcnow
from outreach.core.roles import OFFICE_ROLES, restrict

bp = Blueprint("tablets", __name__, url_prefix="/admin/tablettes", template_folder="templates")
restrict(bp, *OFFICE_ROLES)


@bp.get("")
def index():
    """List the tablets, newest contact first."""
    rows = db.session.scalars(select(Tablet).order_by(
        Tablet.lost_at.is_not(None), Tablet.last_seen_at.desc()))
    silent_since = utcnow() - timedelta(days=current_app.config["SILENT_TABLET_DAYS"])
    return render_template("admin_tablets.html", tablets=list(rows), silent_since=silent_since,
                           may_act=current_user.role == "admin")


@bp.post("/<device_id>/perdue")
def declare_lost(device_id: str):
    """Declare a tablet lost: its sessions and syncs are refused, its escrow keys deleted."""
    if current_user.role != "admin":
        abort(403)
    tablet = db.session.get(Tablet, device_id) or abort(404, "Tablette introuvable.")
    if tablet.lost_at is not None:
        flash("Cette tablette est déjà déclarée perdue.")
        return redirect(url_for("tablets.index"))
    tablets.declare_lost(tablet)
    db.session.commit()
    given_up = tablet.waiting or 0
    flash("Tablette déclarée perdue : elle ne peut plus se connecter ni synchroniser, et "
          "s'effacera à son prochain contact. "
          + (f"{given_up} fiche{'s' if given_up > 1 else ''} en attente à son dernier contact "
             "sont perdues." if given_up else "Aucune fiche n'y attendait à son dernier contact."))
    return redirect(url_for("tablets.index"))
