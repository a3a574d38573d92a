"""What a visite stored moves: the senior's last visit and the next one due.

A visite where the senior was not seen moves nothing (unless it set "Prochaine visite"): they stay
due. One corrected to say so no longer counts: the plan goes back to the visite before it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.visits import rules
from outreach.visits.models import VisitAssignment
from sync import sequence
from sync.schema import record

VISIT_FORM = "visite.visite"


def on_records_stored(session: Session, records, **_kwargs) -> None:
    """Move the assignments of the seniors visited in this batch (read in one query)."""
    visites = [row for row in records if row.form == VISIT_FORM and not row.deleted
               and row.data.get("personne") and day_of(row.data.get("date"))]
    if not visites:
        return
    assigned: dict[str, list[VisitAssignment]] = {}
    for assignment in session.scalars(
            select(VisitAssignment)
            .where(VisitAssignment.person_id.in_({row.data["personne"] for row in visites}),
                   VisitAssignment.active.is_(True))
            .order_by(VisitAssignment.id)):
        assigned.setdefault(assignment.person_id, []).append(assignment)
    for row in visites:
        _visit_made(session, row, assigned.get(row.data["personne"], []))


def _visit_made(session: Session, row, assigned: list[VisitAssignment]) -> None:
    day = day_of(row.data.get("date"))
    # The author's own round moves; a visit by someone without one (the coordinateur) moves all.
    own = [a for a in assigned if a.visiteur_id == row.recorded_by] or assigned
    asked = day_of(row.data.get("prochaine_visite"))
    for assignment in assigned:
        moved = rules.moved_to(day, assignment.rhythm, asked, rules.seen(row.data))
        if assignment in own and moved is not None and _is_latest(session, assignment, day):
            assignment.last_visit_id = row.id
            assignment.next_due = moved
        elif moved is None and assignment.last_visit_id == row.id:
            _replan(session, assignment)
        # Every visiteur of the senior sees the last visit's notes: send the assignment again.
        assignment.revision += 1
        assignment.change_seq = sequence.reserve(session, 1)


def _replan(session: Session, assignment: VisitAssignment) -> None:
    """Plan again from the senior's latest visite that moves the plan (none: from the start)."""
    rows = session.execute(
        select(record.c.id, record.c.data).where(
            record.c.form == VISIT_FORM, record.c.deleted.is_(False),
            record.c.id != assignment.last_visit_id,
            record.c.data["personne"].as_string() == assignment.person_id)
        .order_by(record.c.data["date"].as_string().desc(), record.c.recorded_at.desc())
    ).all()
    for ident, data in rows:
        day = day_of(data.get("date"))
        moved = day and rules.moved_to(day, assignment.rhythm,
                                       day_of(data.get("prochaine_visite")), rules.seen(data))
        if moved:
            assignment.last_visit_id, assignment.next_due = ident, moved
            return
    assignment.last_visit_id, assignment.next_due = None, assignment.starts_on


def _is_latest(session: Session, assignment: VisitAssignment, day: date) -> bool:
    if assignment.last_visit_id is None:
        return True
    last = session.scalar(select(record.c.data).where(record.c.id == assignment.last_visit_id))
    last_day = day_of((last or {}).get("date"))
    return last_day is None or day >= last_day


def day_of(raw: str | None) -> date | None:
    """Read a stored day (YYYY-MM-DD); None when there is none or it cannot be read."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
