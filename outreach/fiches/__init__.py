"""The fiches: the home page ("Ma page"), filling a form online, the office's list of records.

Public names: `new_child_label` (the button that opens a form under its parent), `parent_of`
(the parent record a form is filled under), `summary` (a record told in one line).
"""

from __future__ import annotations

from flask import Flask

from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.fiches import entry, home, records
from outreach.fiches.entry import parent_of
from outreach.fiches.home import new_child_label
from outreach.fiches.records import summary

__all__ = ["init_app", "new_child_label", "parent_of", "summary"]

signals.home_sections.connect(home.own_sections)


def init_app(app: Flask) -> None:
    """Serve the home page, the entry pages and the list of records."""
    for blueprint in (home.bp, entry.bp, records.bp):
        app.register_blueprint(blueprint)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> list[signals.MenuItem]:
    items = [signals.MenuItem(1, "Ma page", "home.index")]
    if user.role in OFFICE_ROLES:
        items.append(signals.MenuItem(60, "Fiches", "records.index"))
    return items
