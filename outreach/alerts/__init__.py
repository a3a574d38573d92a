"""Alerts: raised from what the field records, handled in the coordinateur's inbox (/alertes).

Public names: `Alert`, `ALERT_KINDS`, `ALERT_STATUSES`, `alert_kinds`, `alert_of`, `raise_alerts`.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.alerts import api, raising, views
from outreach.alerts.models import Alert
from outreach.alerts.raising import ALERT_KINDS, ALERT_STATUSES, alert_kinds, alert_of, raise_alerts
from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from sync.push import Actor

__all__ = ["ALERT_KINDS", "ALERT_STATUSES", "Alert", "alert_kinds", "alert_of", "init_app",
           "raise_alerts"]

signals.records_stored.connect(raising.on_records_stored)
signals.records_refused.connect(raising.on_records_refused)


def init_app(app: Flask) -> None:
    """Serve the inbox and its API."""
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)


@signals.pull_kinds.connect
def _pull_kinds(_sender, **_kwargs) -> dict:
    return {"alerts": _alert_changes}


def _alert_changes(session: Session, actor: Actor, seen: int, upper: int,
                   limit: int) -> list[tuple[int, dict]]:
    """Return the alerts this person raised that changed in (seen, upper]."""
    return views.alerts_for_pull(session, actor.id, seen, upper)[:limit]


@signals.person_merged.connect
def _merged(session: Session, kept_id: str, merged_id: str, **_kwargs) -> signals.Moved:
    moved = []
    for alert in session.scalars(select(Alert).where(Alert.person_id == merged_id)):
        alert.person_id = kept_id
        moved.append(alert.id)
    return signals.Moved("alerts", moved, set())


@signals.merge_undone.connect
def _merge_undone(session: Session, kept_id: str, merged_id: str, moved: dict,
                  **_kwargs) -> set[int]:
    for alert_id in moved.get("alerts", []):
        alert = session.get(Alert, alert_id)
        if alert is not None and alert.person_id == kept_id:
            alert.person_id = merged_id
    return set()


@signals.person_rows.connect
def _person_rows(person_id: str, **_kwargs):
    return select(Alert.id).where(Alert.person_id == person_id)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> signals.MenuItem | None:
    if user.role not in OFFICE_ROLES:
        return None
    return signals.MenuItem(10, "Alertes", "alerts.inbox")


@signals.home_sections.connect
def _home_section(user: User, **_kwargs) -> signals.Section | None:
    if user.role in OFFICE_ROLES:
        return None
    return signals.Section(70, "home_alerts.html", {})
