"""The CCAS's own day: what "today" means for a plan, a planning or a report."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> date:
    """Return today's date in the CCAS's time zone."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
