"""The figures: facts, indicators, dashboard, rapport d'activité, exports, anonymised extract.

Public names: `every_indicator`, `Indicator`, `catch_up` (bring the summary tables up to date),
`ERASED_FILE` (what an erased file is called).
"""

from __future__ import annotations

from flask import Flask

from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.figures import commands, dashboard
from outreach.figures.facts import ERASED_FILE, catch_up
from outreach.figures.indicators import Indicator, every_indicator

__all__ = ["ERASED_FILE", "Indicator", "catch_up", "every_indicator", "init_app"]


def init_app(app: Flask) -> None:
    """Serve the dashboard, the report and the exports; add `outreach export-anonyme`."""
    app.register_blueprint(dashboard.bp)
    app.cli.add_command(commands.export_anonymous)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> signals.MenuItem | None:
    return signals.MenuItem(70, "Tableau de bord", "dashboard.index") \
        if user.role in OFFICE_ROLES else None
