"""People: their files, duplicates merged (and unmerged), their rights, how long files are kept.

Public names: `merge`, `undo`, `MergeError`, `PersonMerge`, `retention`.
"""

from __future__ import annotations

from flask import Flask

from outreach.core import signals
from outreach.core.models import User
from outreach.people import retention, rights, views
from outreach.people.merge import MergeError, merge, undo
from outreach.people.models import PersonMerge

__all__ = ["MergeError", "PersonMerge", "init_app", "merge", "retention", "undo"]


def init_app(app: Flask) -> None:
    """Serve the people's files and their rights."""
    app.register_blueprint(views.bp)
    app.register_blueprint(rights.bp)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> signals.MenuItem:
    return signals.MenuItem(3, "Personnes", "people.search")
