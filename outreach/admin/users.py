"""/admin/utilisateurs: accounts, for the admin only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from outreach.core import accounts, audit, catalog, storing, tablets
from outreach.core.api.common import actor
from outreach.core.db import db
from outreach.core.models import User
from outreach.core.roles import ROLES, restrict
from sync.protocol import MAX_RECORDS, EnvelopeError, parse_json, read_envelope
from sync.push import apply_batch

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
NOT_AN_EXPORT = "Ce fichier n'est pas un export de fiches en attente (ou son auteur est inconnu)."
restrict(bp, "admin")


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404, "Compte introuvable.")


def _page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.login))
    return render_template(
        "admin_users.html", users=list(users), roles=ROLES, errors=errors or {},
        values=values or {},
    ), status


@bp.get("/utilisateurs")
def users():
    """List the accounts, with a form to create one."""
    return _page()


@bp.post("/utilisateurs")
def create():
    """Create an account."""
    form = request.form
    try:
        user = accounts.create_user(
            form.get("login", ""), form.get("password", ""), form.get("role", ""),
            form.get("name") or None,
        )
    except accounts.AccountError as error:
        db.session.rollback()
        return _page(400, {"create": str(error)}, dict(form))
    audit.log("user.create", f"user:{user.id}", role=user.role)
    db.session.commit()
    flash(f"Compte «{user.login}» créé.")
    return redirect(url_for("admin.users"))


def _change(user_id: int, action: str, change, done: str):
    """Apply one change to an account, audit it and say so; or show why it was refused."""
    user = _user(user_id)
    try:
        change(user)
    except accounts.AccountError as error:
        db.session.rollback()
        return _page(400, {user.id: str(error)})
    audit.log(action, f"user:{user.id}")
    db.session.commit()
    flash(done.format(login=user.login, role=ROLES[user.role]))
    return redirect(url_for("admin.users"))


@bp.post("/utilisateurs/<int:user_id>/role")
def change_role(user_id: int):
    """Give an account another role."""
    role = request.form.get("role", "")
    return _change(user_id, "user.role", lambda u: accounts.set_role(u, role),
                   "Rôle de «{login}» : {role}.")


@bp.post("/utilisateurs/<int:user_id>/desactiver")
def disable(user_id: int):
    """Disable an account: it can no longer log in, and its sessions end."""
    return _change(user_id, "user.disable", lambda u: accounts.set_active(u, False),
                   "Compte «{login}» désactivé.")


@bp.post("/utilisateurs/<int:user_id>/activer")
def enable(user_id: int):
    """Enable an account again."""
    return _change(user_id, "user.enable", lambda u: accounts.set_active(u, True),
                   "Compte «{login}» réactivé.")


@bp.post("/utilisateurs/<int:user_id>/mot-de-passe")
def reset_password(user_id: int):
    """Set a new password for an account (its open sessions end)."""
    password = request.form.get("password", "")
    return _change(user_id, "user.password", lambda u: accounts.set_password(u, password),
                   "Nouveau mot de passe enregistré pour «{login}».")


@bp.route("/import", methods=["GET", "POST"])
def import_waiting():
    """Import a tablet's exported waiting records through the push path, in their author's name."""
    if request.method == "GET":
        return render_template("admin_import.html")
    upload = request.files.get("fichier")
    try:
        body = parse_json(upload.read()) if upload else None
        author = db.session.get(User, int(body["user_id"])) if isinstance(body, dict) else None
        records = tablets.open_export(body) if isinstance(body, dict) else None
        chunks = [records[start:start + MAX_RECORDS] for start in range(0, len(records),
                                                                          MAX_RECORDS)]
        batches = [read_envelope({"device_id": body["device_id"], "records": chunk})[1]
                   for chunk in chunks]
    except tablets.SealedExportError as error:
        return render_template("admin_import.html", error=str(error)), 400
    except (ValueError, KeyError, TypeError, EnvelopeError):
        author, batches = None, None
    if author is None or batches is None:
        return render_template("admin_import.html", error=NOT_AN_EXPORT), 400
    counts: dict[str, int] = {}
    for batch in batches:
        for result in apply_batch(db.session, actor(), body["device_id"], batch,
                                  catalog.engine_forms(), author=author.id).results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    audit.log("records.import", f"user:{author.id}", counts=counts)
    db.session.commit()
    storing.after_store(db.session)
    return render_template("admin_import.html", author=author, counts=counts)
