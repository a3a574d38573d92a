"""Logging in and out: the /connexion page, sessions, and the one check every request passes."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from . import throttle
from .db import db
from .errors import api_error, wants_json
from .models import User
from .passwords import check_password
from .roles import public
from .security import safe_path

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
THROTTLED = "Trop de tentatives. Réessayez dans une minute."


class LoginError(Exception):
    """A refused login, with the French sentence to show and its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class LoginForm(FlaskForm):
    """The login form of /connexion."""

    login = StringField("Identifiant", validators=[InputRequired("Saisissez votre identifiant.")])
    password = PasswordField(
        "Mot de passe", validators=[InputRequired("Saisissez votre mot de passe.")]
    )


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Find the user of a session; a disabled account or a reset password ends the session."""
    user_id, _, version = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def log_in(login: str, password: str) -> User:
    """Check credentials with throttling, open the session, and return the user.

    :raises LoginError: on bad credentials (never saying which was wrong), a disabled account,
        or too many failures in the last minute.
    """
    login = login.strip().lower()
    address = request.remote_addr or "?"
    if throttle.too_many_failures(login, address):
        raise LoginError(THROTTLED, 429)
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None or not user.active or not check_password(user.password_hash, password):
        throttle.record_attempt(login, address, succeeded=False)
        raise LoginError(BAD_CREDENTIALS, 401)
    session.clear()
    session.permanent = True
    login_user(user)
    throttle.record_attempt(login, address, succeeded=True)
    return user


def log_out() -> None:
    """End the session."""
    logout_user()
    session.clear()


def safe_next(target: str | None) -> str:
    """Return where to go after login: a path of this site only, never another site."""
    return safe_path(target) or url_for("home.index")


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login():
    """Show the login page and log in."""
    form = LoginForm()
    status = 200
    next_page = safe_next(request.args.get("suivant"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_page)
    if form.validate_on_submit():
        try:
            log_in(form.login.data, form.password.data)
        except LoginError as error:
            form.password.errors = [error.message]
            status = error.status
        else:
            return redirect(next_page)
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Log out and go back to the login page."""
    log_out()
    flash("Vous êtes déconnecté.")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Wire sessions and the login check that every request passes."""
    login_manager.init_app(app)
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_HOURS"])
    app.register_blueprint(bp)

    @app.before_request
    def require_login():
        """Send anyone without a session to /connexion (pages) or answer 401 (API)."""
        if request.endpoint == "static" or current_user.is_authenticated:
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False):
            return None
        if wants_json():
            return api_error(401, "Connexion requise : reconnectez-vous.")
        if request.method != "GET":
            return redirect(url_for("auth.login"))
        return redirect(url_for("auth.login", suivant=request.full_path.rstrip("?")))

