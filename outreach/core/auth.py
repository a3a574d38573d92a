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

from outreach.core import sessions, tablets, throttle
from outreach.core.db import db
from outreach.core.errors import api_error, wants_json
from outreach.core.models import User
from outreach.core.passwords import check_password, dummy_hash
from outreach.core.roles import public
from outreach.core.security import safe_path

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
    """Find the user of a session whose row still holds (not revoked, not expired, active)."""
    if not identity.isdigit() or sessions.current(session.get("sid"), identity) is None:
        return None
    user = db.session.get(User, int(identity))
    if user is None or not user.active:
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
    # An unknown or disabled login costs the same hash as a real one: the time of the answer
    # does not tell which logins exist.
    usable = user is not None and user.active
    matches = check_password(user.password_hash if usable else dummy_hash(), password)
    if not usable or not matches:
        throttle.record_attempt(login, address, succeeded=False)
        raise LoginError(BAD_CREDENTIALS, 401)
    # Logging in again over a session ends it: a copy of the old cookie must not outlive it.
    sessions.revoke_current(session.get("sid"), reason="replaced")
    session.clear()
    session.permanent = True
    login_user(user)
    session["sid"] = sessions.open_session(user)
    throttle.record_attempt(login, address, succeeded=True)
    return user


def log_out() -> None:
    """End the session: its row is revoked, so a copy of the cookie opens nothing."""
    sessions.revoke_current(session.get("sid"))
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
    # "Changer de personne" and the lock screen's password come here logged in: the form shows.
    changing = request.args.get("changer")
    if current_user.is_authenticated and request.method == "GET" and not changing:
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
    return render_template("login.html", form=form, next_page=next_page,
                           lost=bool(request.args.get("perdue"))), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Log out and go back to the login page."""
    log_out()
    flash("Vous êtes déconnecté.")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Wire sessions and the login check that every request passes."""
    login_manager.init_app(app)
    # The cookie carries only the session's key: its row on the server says how long the login
    # lasts (OUTREACH_SESSION_HOURS without activity). So the cookie is written only when the
    # session changes: a slow answer started before a change (a pull, a page the service worker
    # keeps) must not write the session back as it was, losing a message or even a login.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.permanent_session_lifetime = timedelta(days=31)
    app.register_blueprint(bp)

    @app.before_request
    def refuse_lost_tablet():
        """Refuse every call of a tablet declared lost, logged in or not (DESIGN §9)."""
        if request.endpoint != "static":
            return tablets.refuse_lost()
        return None

    @app.before_request
    def require_login():
        """Send anyone without a session to /connexion (pages) or answer 401 (API)."""
        if request.endpoint == "static":
            return None
        if current_user.is_authenticated:
            tablets.contact(current_user)
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False):
            return None
        if wants_json():
            return api_error(401, "Connexion requise : reconnectez-vous.")
        if request.method != "GET":
            return redirect(url_for("auth.login"))
        return redirect(url_for("auth.login", suivant=request.full_path.rstrip("?")))

