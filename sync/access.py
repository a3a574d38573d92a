"""What a user may have offline: one access rule per role, in one place (DESIGN §6, §9).

A field user's people are the personne records they made, or that their own records name; a
maraude team shares the people its agents made; a visiteur also has the seniors assigned to them
(and only while the assignment lasts).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, or_, select, table, true

from .push import Actor
from .schema import record

# The accounts table belongs to the app; the engine only needs two of its columns.
accounts = table("user_account", column("id"), column("role"))
access_change = table("access_change", column("user_id"), column("person_id"),
                      column("change_seq"))
assignments = table("visit_assignment", column("person_id"), column("visiteur_id"),
                    column("active"))
SHARED_BY_TEAM = ("maraude",)


def people_visible(actor: Actor) -> ColumnElement[bool]:
    """Return the condition on `record` that keeps the personne records this actor may have."""
    if actor.office:
        return true()
    named = select(record.c.data["personne"].as_string()).where(
        record.c.recorded_by == actor.id, record.c.form != "personne"
    )
    if actor.role in SHARED_BY_TEAM:
        team = select(accounts.c.id).where(accounts.c.role == actor.role)
        made = record.c.recorded_by.in_(team)
    else:
        made = record.c.recorded_by == actor.id
    assigned = select(assignments.c.person_id).where(
        assignments.c.visiteur_id == actor.id, assignments.c.active.is_(True)
    )
    return or_(made, record.c.id.in_(named), record.c.id.in_(assigned))
