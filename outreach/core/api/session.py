"""The session API: logging in and out with JSON, and a fresh CSRF token."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from outreach.core import tablets
from outreach.core.api.common import NotJSON, json_body, user_json
from outreach.core.auth import LoginError, log_in, log_out
from outreach.core.errors import api_error
from outreach.core.extensions import csrf
from outreach.core.roles import public

bp = Blueprint("api_session", __name__, url_prefix="/api/v1")


@bp.post("/session")
@public
@csrf.exempt
def open_session():
    """Log in with JSON credentials; answer the user and a CSRF token."""
    # JSON only (DESIGN §9): a page of another site can post a form or text/plain without asking,
    # but not application/json, so nobody is logged in to an account of someone else's choosing.
    if not request.is_json:
        return api_error(400, "Envoyez les identifiants en JSON (Content-Type: application/json).",
                         code="json_attendu")
    try:
        body = json_body()
    except NotJSON as error:
        return api_error(400, str(error))
    if not isinstance(body, dict):
        return api_error(400, "Envoyez un objet JSON {\"login\", \"password\"}.")
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
        return api_error(400, "«login» et «password» sont obligatoires (texte).")
    try:
        user = log_in(login, password)
    except LoginError as error:
        return api_error(error.status, error.message)
    answer = {"user": user_json(user), "csrf_token": generate_csrf()}
    # The tablet's copy of this person's data key is wrapped with it (DESIGN §9, issue 17).
    key = tablets.escrow_key(user)
    if key:
        answer["tablet_key"] = key
    return answer


@bp.get("/session")
def current_session():
    """Answer the logged-in user and a fresh CSRF token (before replaying an outbox)."""
    return {"user": user_json(current_user), "csrf_token": generate_csrf()}


@bp.delete("/session")
def close_session():
    """Log out."""
    log_out()
    return {"ok": True}
