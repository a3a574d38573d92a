"""GET /api/v1/alerts/summary: the new alerts, for the inbox to show them without reloading."""

from __future__ import annotations

from flask import Blueprint

from outreach.alerts import views as alerts
from outreach.core.roles import OFFICE_ROLES, restrict

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1/alerts")
restrict(bp, *OFFICE_ROLES)


@bp.get("/summary")
def summary():
    """Count the new alerts and give their ids, newest first."""
    return alerts.summary()
