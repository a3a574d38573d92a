"""Permanences délocalisées: sessions planned, held on the tablet, and their accueils.

Public names: `PlannedSession`, `plan` (plan a session), `record_id` (the id of a planned
session's record), `SECOND_SESSION`, `SESSION_FORM`.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.permanences import views
from outreach.permanences.models import PlannedSession
from outreach.permanences.views import SECOND_SESSION, SESSION_FORM, plan, record_id

__all__ = ["SECOND_SESSION", "SESSION_FORM", "PlannedSession", "init_app", "plan", "record_id"]


def init_app(app: Flask) -> None:
    """Serve the calendar of permanences."""
    app.register_blueprint(views.bp)


@signals.records_stored.connect
def _sessions_stored(session: Session, records, **_kwargs) -> None:
    # A session recorded (or removed) sends its planned session again, read once for all.
    views.sessions_recorded(session, [row for row in records if row.form == SESSION_FORM])


@signals.record_checked.connect_via(SESSION_FORM)
def _one_session(_form: str, session: Session, item: dict, actor, **_kwargs) -> dict:
    """One session for a site, a day and an agent."""
    return views.may_hold(session, item, actor)


@signals.pull_kinds.connect
def _pull_kinds(_sender, **_kwargs) -> dict:
    return {"sessions": views.session_changes, "appointments": views.appointment_changes}


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> signals.MenuItem | None:
    return signals.MenuItem(50, "Permanences", "permanences.calendar") \
        if user.role in OFFICE_ROLES else None


@signals.home_sections.connect
def _home_section(user: User, **_kwargs) -> signals.Section | None:
    return signals.Section(60, "home_sessions.html", {}) \
        if user.role == "travailleur_social" else None
