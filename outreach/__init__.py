"""Outreach: offline-first tablet app for the aller-vers work of French CCAS."""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from outreach import (
    admin,
    alerts,
    demo,
    fiches,
    figures,
    fixes,
    maraude,
    people,
    permanences,
    register,
    visits,
)
from outreach.core import api, auth, catalog, db, errors, pwa, security, settings
from outreach.core.extensions import csrf
from outreach.core.forms import FORMS_DIR
from outreach.core.menu import menu
from outreach.core.roles import ROLES

# Every feature, each wiring itself into the app (its pages, its commands); the order is the
# order their blueprints are registered and their sections drawn when two share a place.
FEATURES = (fiches, maraude, visits, permanences, alerts, people, register, figures, fixes,
            admin, demo)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then the test config; wire everything."""
    instance = (test_config or {}).get("INSTANCE_PATH") or settings.instance_path()
    os.makedirs(instance, exist_ok=True)
    app = Flask(__name__, instance_path=instance, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=None,
        SQLALCHEMY_DATABASE_URI=None,
        FORMS_DIR=str(FORMS_DIR),
        LOGIN_ATTEMPTS_PER_MINUTE=int(settings.read("OUTREACH_LOGIN_ATTEMPTS_PER_MINUTE")),
        SESSION_HOURS=float(settings.read("OUTREACH_SESSION_HOURS")),
        PROXY_COUNT=int(settings.read("OUTREACH_PROXY_COUNT")),
        TABLET_PIN=settings.read("OUTREACH_TABLET_PIN").strip().lower() not in ("off", "0", "non"),
        LOCK_MINUTES=float(settings.read("OUTREACH_LOCK_MINUTES")),
        SILENT_TABLET_DAYS=int(settings.read("OUTREACH_SILENT_TABLET_DAYS")),
        STALE_SYNC_DAYS=float(settings.read("OUTREACH_STALE_SYNC_DAYS")),
        COORDINATION_PHONE=settings.read("OUTREACH_COORDINATION_PHONE"),
        TIMEZONE=settings.read("OUTREACH_TIMEZONE"),
        CCAS_NAME=settings.read("OUTREACH_CCAS_NAME"),
        PERSON_RETENTION_MONTHS=int(settings.read("OUTREACH_PERSON_RETENTION_MONTHS")),
        LOG_RETENTION_MONTHS=int(settings.read("OUTREACH_LOG_RETENTION_MONTHS")),
        # A batch of 500 records fits well under this; anything bigger is refused unread (413).
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="outreach_session",
        # A form may stay open through a whole shift before it is sent.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_SSL_STRICT=False,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.secret_key(app.instance_path)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url(app.instance_path)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    if app.config["PROXY_COUNT"] > 0:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
        app.config["SESSION_COOKIE_SECURE"] = True
    app.json.ensure_ascii = False

    db.init_app(app)
    catalog.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    # The login check runs before the CSRF check: a client without a session is told to log in
    # (401), not that its token is missing.
    auth.init_app(app)
    csrf.init_app(app)
    api.init_app(app)
    pwa.init_app(app)
    for feature in FEATURES:
        feature.init_app(app)

    # A global, not a context value: the field macros are imported without the page's context.
    app.jinja_env.globals["place_names"] = catalog.place_names
    zone = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("local")
    def local_time(moment: datetime, pattern: str) -> str:
        """Write a stored (UTC) moment in the CCAS's own time zone."""
        return moment.astimezone(zone).strftime(pattern)

    @app.template_filter("date_fr")
    def french_date(day: date | str | None) -> str:
        """Write a day as a person reads it, JJ/MM/AAAA (a stored day is YYYY-MM-DD)."""
        if not day:
            return ""
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return day.strftime("%d/%m/%Y")

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        """Give every template the role names."""
        return {"ROLES": ROLES, "offline_pages": catalog.offline_pages, "menu": menu,
                "COORDINATION_PHONE": app.config["COORDINATION_PHONE"]}

    return app
