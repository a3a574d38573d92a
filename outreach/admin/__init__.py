"""Administration: accounts, forms, lists, an export's import, the journal (the admin's alone)."""

from __future__ import annotations

from flask import Flask

from outreach.admin import forms, journal, tablets, users
from outreach.core import signals
from outreach.core.models import User

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Serve the administration pages."""
    for blueprint in (users.bp, forms.bp, journal.bp, tablets.bp):
        app.register_blueprint(blueprint)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> list[signals.MenuItem]:
    if user.role == "coordinateur":
        return [signals.MenuItem(150, "Tablettes", "tablets.index")]
    if user.role != "admin":
        return []
    return [signals.MenuItem(100, "Utilisateurs", "admin.users"),
            signals.MenuItem(110, "Formulaires", "form_admin.forms"),
            signals.MenuItem(120, "Listes", "form_admin.lists"),
            signals.MenuItem(130, "Importer", "admin.import_waiting"),
            signals.MenuItem(140, "Journal", "journal.index"),
            signals.MenuItem(150, "Tablettes", "tablets.index")]
