"""Visites de convivialité: the seniors given to each visiteur, the planning, "Mes visites".

Public names: `VisitAssignment`, `RHYTHMS`, `MODES`, `seen`, `moved_to`, `last_visit` (the last
visite to a senior, as the next visiteur reads it), `assign` and `end` (an assignment).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.visits import follow, planning, pull
from outreach.visits.models import VisitAssignment
from outreach.visits.planning import assign, end
from outreach.visits.pull import last_visit
from outreach.visits.rules import MODES, RHYTHMS, moved_to, seen
from sync import sequence

__all__ = ["MODES", "RHYTHMS", "VisitAssignment", "assign", "end", "init_app", "last_visit",
           "moved_to", "seen"]

signals.records_stored.connect(follow.on_records_stored)


def init_app(app: Flask) -> None:
    """Serve the planning."""
    app.register_blueprint(planning.bp)


@signals.pull_kinds.connect
def _pull_kinds(_sender, **_kwargs) -> dict:
    return {"visits": pull.visit_changes}


@signals.person_merged.connect
def _merged(session: Session, kept_id: str, merged_id: str, **_kwargs) -> signals.Moved:
    moved, users = [], set()
    for assignment in session.scalars(select(VisitAssignment).where(
            VisitAssignment.person_id == merged_id, VisitAssignment.active.is_(True))):
        assignment.person_id = kept_id
        assignment.revision += 1
        assignment.change_seq = sequence.reserve(session, 1)
        moved.append(assignment.id)
        users.add(assignment.visiteur_id)
    return signals.Moved("assignments", moved, users)


@signals.merge_undone.connect
def _merge_undone(session: Session, kept_id: str, merged_id: str, moved: dict,
                  **_kwargs) -> set[int]:
    users = set()
    for assignment_id in moved.get("assignments", []):
        assignment = session.get(VisitAssignment, assignment_id)
        if assignment is not None and assignment.person_id == kept_id:
            users.add(assignment.visiteur_id)
            assignment.person_id = merged_id
            assignment.revision += 1
            assignment.change_seq = sequence.reserve(session, 1)
    return users


@signals.person_rows.connect
def _person_rows(person_id: str, **_kwargs):
    return select(VisitAssignment.id).where(VisitAssignment.person_id == person_id)


@signals.navigation.connect
def _menu(user: User, **_kwargs) -> signals.MenuItem | None:
    return signals.MenuItem(20, "Planning", "planning.index") if user.role in OFFICE_ROLES \
        else None


@signals.home_sections.connect
def _home_section(user: User, **_kwargs) -> signals.Section | None:
    return signals.Section(20, "home_visits.html", {}) if user.role == "visiteur" else None
