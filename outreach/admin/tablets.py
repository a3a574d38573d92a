"""/admin/tablettes: every tablet that has called the server, and "Déclarer perdue".

The admin acts; a coordinateur may read (which tablet went silent, what waits on it). The
long-silent first (the oldest successful sync; never synced, since its first contact), lost ones
last; a tablet silent for OUTREACH_SILENT_TABLET_DAYS is marked. Below, from the sync log, each
person on each tablet: their last successful sync and how many records it said were waiting.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from outreach.core import tablets
from outreach.core.db import db
from outreach.core.models import Tablet, User, utcnow
from outreach.core.roles import OFFICE_ROLES, restrict
from sync.schema import sync_log

bp = Blueprint("tablets", __name__, url_prefix="/admin/tablettes", template_folder="templates")
restrict(bp, *OFFICE_ROLES)


@bp.get("")
def index():
    """List the tablets, the long-silent first, then each person's last sync on each."""
    rows = db.session.scalars(select(Tablet).order_by(
        Tablet.lost_at.is_not(None), func.coalesce(Tablet.last_sync_at, Tablet.first_seen_at)))
    silent_since = utcnow() - timedelta(days=current_app.config["SILENT_TABLET_DAYS"])
    return render_template("admin_tablets.html", tablets=list(rows), silent_since=silent_since,
                           people=last_syncs(), may_act=current_user.role == "admin")


def last_syncs() -> list[dict]:
    """Return each (person, tablet) of the sync log: last successful sync, records then waiting.

    The sync log holds the calls that succeeded; `waiting` is what the latest push or pull that
    said it reported. The long-silent first.
    """
    log = sync_log
    pair = (log.c.user_id, log.c.device_id)
    last = {(user, device): at for user, device, at in db.session.execute(
        select(*pair, func.max(log.c.at)).where(log.c.device_id.is_not(None)).group_by(*pair))}
    said = select(func.max(log.c.id)).where(log.c.device_id.is_not(None),
                                            log.c.waiting.is_not(None)).group_by(*pair)
    waiting = {(user, device): n for user, device, n in db.session.execute(
        select(*pair, log.c.waiting).where(log.c.id.in_(said)))}
    names = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({user for user, _ in last}))).all()) if last else {}
    return sorted(({"name": names.get(user, "—"), "device_id": device, "at": at,
                    "waiting": waiting.get((user, device))}
                   for (user, device), at in last.items()), key=lambda row: row["at"])


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
