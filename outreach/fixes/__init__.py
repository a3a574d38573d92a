"""The fixing pages: "À corriger" for an agent, the quarantine and conflicts for the office."""

from __future__ import annotations

from flask import Flask

from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.fixes import views

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Serve "À corriger", the quarantine and the conflicts."""
    for blueprint in (views.bp, views.quarantine_bp, views.conflicts_bp):
        app.register_blueprint(blueprint)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> list[signals.MenuItem]:
    items = [signals.MenuItem(2, "À corriger", "fixes.index")]
    if user.role in OFFICE_ROLES:
        items += [signals.MenuItem(80, "Quarantaine", "quarantine.index"),
                  signals.MenuItem(90, "Conflits", "conflicts.index")]
    return items
