"""The register of vulnerable people (registre nominatif) and the alert plans that call them.

Public names: `AlertPlan`, `CallTask`, `CallRelease`, `KEPT_AFTER_WITHDRAWAL` (what an erased
registration keeps), `alert_plans` (the plans' own functions), `erase_withdrawn`,
`withdrawn_before`, `plan_title`, `CALL_FORM`, `REGISTER_FORM`.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from outreach.core import catalog, signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES, may_fill
from outreach.register import alert_plans, entries, plans
from outreach.register.alert_plans import CALL_FORM, REGISTER_FORM, plan_title
from outreach.register.entries import KEPT_AFTER_WITHDRAWAL, erase_withdrawn, withdrawn_before
from outreach.register.models import AlertPlan, CallRelease, CallTask

__all__ = ["CALL_FORM", "KEPT_AFTER_WITHDRAWAL", "REGISTER_FORM", "AlertPlan", "CallRelease",
           "CallTask", "alert_plans", "erase_withdrawn", "init_app", "plan_title",
           "withdrawn_before"]


def init_app(app: Flask) -> None:
    """Serve the register, the alert plans and "Mes appels"."""
    for blueprint in (entries.bp, plans.bp, plans.calls_bp):
        app.register_blueprint(blueprint)


@signals.records_stored.connect
def _calls_and_entries_stored(session: Session, records, **_kwargs) -> None:
    for row in records:
        if row.deleted:
            continue
        if row.form == CALL_FORM:
            alert_plans.call_recorded(session, row)
        elif row.form == REGISTER_FORM:
            alert_plans.entry_changed(session, row.id)


@signals.record_checked.connect_via(CALL_FORM)
def _call_given(_form: str, session: Session, item: dict, actor, **_kwargs) -> dict:
    """Refuse a call outcome naming no call of a plan, or a call given to someone else."""
    return alert_plans.may_record(session, item, actor)


@signals.record_shared.connect_via(CALL_FORM)
def _call_shared(_form: str, session: Session, stored: dict, actor, **_kwargs) -> bool:
    """Share a plan's call between the agents it was given to (given to another in between)."""
    task = session.get(CallTask, stored["data"].get("tache"))
    return task is not None and alert_plans.is_callers(session, task, actor.id)


@signals.pull_kinds.connect
def _pull_kinds(_sender, **_kwargs) -> dict:
    return {"calls": alert_plans.call_changes}


@signals.offline_pages.connect
def _offline_pages(user: User, **_kwargs) -> list[str]:
    calls = catalog.registry().current(CALL_FORM)
    return ["/appels"] if calls and may_fill(user.role, calls.key, calls.roles) else []


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> list[signals.MenuItem]:
    if user.role not in OFFICE_ROLES:
        return []
    return [signals.MenuItem(30, "Registre", "register.index"),
            signals.MenuItem(40, "Plans", "plans.index")]


@signals.home_sections.connect
def _home_section(user: User, **_kwargs) -> signals.Section | None:
    return signals.Section(10, "home_calls.html", {}) if user.role != "admin" else None
