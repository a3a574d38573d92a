"""The JSON API under /api/v1 (DESIGN §4): thin views over the app and, later, the sync engine."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..auth import LoginError, log_in, log_out
from ..errors import api_error
from ..extensions import csrf
from ..models import User
from ..roles import ROLES, public

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def user_json(user: User) -> dict:
    """Describe the logged-in user for a client."""
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "role": user.role,
        "role_label": ROLES[user.role],
    }


def json_object() -> dict | None:
    """Return the request's JSON body if it is an object, else None."""
    if not request.is_json:
        return None
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/session")
@public
@csrf.exempt
def open_session():
    """Log in with JSON credentials; answer the user and a CSRF token."""
    body = json_object()
    if body is None:
        return api_error(400, "Envoyez un objet JSON {\"login\", \"password\"}.")
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
        return api_error(400, "«login» et «password» sont obligatoires (texte).")
    try:
        user = log_in(login, password)
    except LoginError as error:
        return api_error(error.status, error.message)
    return {"user": user_json(user), "csrf_token": generate_csrf()}


@bp.get("/session")
def current_session():
    """Answer the logged-in user and a fresh CSRF token (before replaying an outbox)."""
    return {"user": user_json(current_user), "csrf_token": generate_csrf()}


@bp.delete("/session")
def close_session():
    """Log out."""
    log_out()
    return {"ok": True}
