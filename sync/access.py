"""Who sees whom: one access rule, derived from the work, in one place (DESIGN §6, §9).

A visiteur has the seniors currently assigned to them, and the people they created while no
assignment (an office decision) says otherwise; a maraude agent, the people their team made (the
team is every maraude account); a travailleur social, the people received at their permanences
and those they created; the office everyone. A file reached only because a visible file was
merged into it is reached too, at its alias level. Naming a person in a record never widens
access: a push naming an existing person outside its author's work is refused (`may_name`).

Each role's clauses are conditions on a `record` table (the personne row); a feature adds its own
to `CLAUSES` the way it adds a pull kind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    FromClause,
    and_,
    column,
    false,
    func,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session

from .push import Actor
from .schema import record

# The app's tables the rule reads; the engine only needs these columns of them.
accounts = table("user_account", column("id"), column("role"))
access_change = table("access_change", column("user_id"), column("person_id"),
                      column("change_seq"))
assignments = table("visit_assignment", column("person_id"), column("visiteur_id"),
                    column("active"), column("ended_on"))
merges = table("person_merge", column("kept_id"), column("merged_id"), column("undone_at"))
SHARED_BY_TEAM = ("maraude",)
# What a file reached only through a merge shows a field agent: how they knew the person.
MERGED_VIEW = ("niveau", "alias_prenom", "tranche_age", "sexe")

# A clause: for this actor, the condition on a personne row (`person`) that lets them see it.
Clause = Callable[[Actor, FromClause], ColumnElement[bool]]


def _author(actor: Actor, person: FromClause) -> ColumnElement[bool]:
    if actor.role in SHARED_BY_TEAM:
        return person.c.recorded_by.in_(select(accounts.c.id).where(accounts.c.role == actor.role))
    return person.c.recorded_by == actor.id


def created(actor: Actor, person: FromClause) -> ColumnElement[bool]:
    """Keep the people this actor (or their team) created."""
    return _author(actor, person)


def assigned(actor: Actor, person: FromClause) -> ColumnElement[bool]:
    """Keep the seniors currently assigned to this visiteur."""
    return person.c.id.in_(select(assignments.c.person_id).where(
        assignments.c.visiteur_id == actor.id, assignments.c.active.is_(True)))


def created_unassigned(actor: Actor, person: FromClause) -> ColumnElement[bool]:
    """Keep the people this visiteur created, until the office assigns them (to anyone)."""
    return and_(person.c.recorded_by == actor.id,
                person.c.id.not_in(select(assignments.c.person_id)))


def received(actor: Actor, person: FromClause) -> ColumnElement[bool]:
    """Keep the people received at this travailleur social's permanences.

    Not a file another was merged into (now or before an undo): an accueil may name it only
    because the merge moved it there, and a merge never widens access.
    """
    accueil = record.alias("accueil")
    held = record.alias("held")
    sessions = select(held.c.id).where(held.c.form == "permanence.session",
                                       held.c.recorded_by == actor.id)
    named = accueil.c.data["personne"].as_string()
    return and_(
        person.c.id.in_(select(named).where(
            accueil.c.form == "permanence.accueil", accueil.c.deleted.is_(False),
            named.is_not(None),
            or_(accueil.c.recorded_by == actor.id, accueil.c.parent_id.in_(sessions)))),
        person.c.id.not_in(select(merges.c.kept_id)))


CLAUSES: dict[str, list[Clause]] = {
    "maraude": [created],
    "visiteur": [assigned, created_unassigned],
    "travailleur_social": [created, received],
}


def in_work(actor: Actor, person: FromClause = record) -> ColumnElement[bool]:
    """Return the condition on a personne row that puts it in this field actor's own work."""
    clauses = [clause(actor, person) for clause in CLAUSES.get(actor.role, ())]
    return or_(*clauses) if clauses else false()


def people_visible(actor: Actor, person: FromClause = record) -> ColumnElement[bool]:
    """Return the condition on a personne row that keeps the people this actor may see.

    Their work's people, and the files those were merged into (shown at their alias level).
    """
    if actor.office:
        return true()
    origin = record.alias("origin")
    merged_from_work = select(merges.c.kept_id).where(
        merges.c.undone_at.is_(None),
        merges.c.merged_id.in_(select(origin.c.id).where(in_work(actor, origin))))
    return or_(in_work(actor, person), person.c.id.in_(merged_from_work))


def people_offline(actor: Actor) -> ColumnElement[bool]:
    """Return the condition on `record` that keeps the people this actor's tablet pulls.

    A field actor's tablet has whom they may see; an office tablet only the people its own
    records create or name (a coordinateur who goes out does not carry the whole service).
    """
    if not actor.office:
        return people_visible(actor)
    named = select(record.c.data["personne"].as_string()).where(
        record.c.recorded_by == actor.id, record.c.form != "personne",
        record.c.data["personne"].as_string().is_not(None))
    return or_(record.c.recorded_by == actor.id, record.c.id.in_(named))


def through_merge_only(actor: Actor) -> ColumnElement[bool]:
    """Return the condition on `record` of the files this actor reaches only through a merge.

    Those show their alias level: the agent knew the person as the file merged into it.
    """
    # Coalesced: a clause that is NULL (an IN over a NULL) must read as "not in the work".
    return false() if actor.office else not_(func.coalesce(in_work(actor), false()))


def merged_view(data: dict) -> dict:
    """Return what a file reached only through a merge shows: its alias level, no more."""
    return {key: data[key] for key in MERGED_VIEW if key in data} | {"niveau": "alias"}


def merged_into(session: Session, person_id: str) -> str | None:
    """Return the file a merged-away person now lives in (None if not merged)."""
    return session.scalar(select(merges.c.kept_id).where(
        merges.c.merged_id == person_id, merges.c.undone_at.is_(None)))


def may_name(session: Session, actor: Actor, person_id: str,
             recorded_at: datetime | None) -> bool:
    """Tell whether a record made at `recorded_at` may name this person.

    An unknown id may (the personne may sync after the record that names it); a senior assigned
    when the visite was made may, even if reassigned since (the tablet was offline meanwhile).
    """
    if actor.office:
        return True
    then: list[ColumnElement[bool]] = []
    if actor.role == "visiteur":
        day = recorded_at.date() if recorded_at else date.today()
        then.append(record.c.id.in_(select(assignments.c.person_id).where(
            assignments.c.visiteur_id == actor.id, assignments.c.ended_on >= day)))
    # In the work itself: a file seen only through a merge may not be named (naming it would
    # make it one's own, as an accueil does); its merged-away id may, and is moved to it.
    allowed = func.coalesce(or_(in_work(actor), *then), false())
    found = session.execute(select(allowed).where(
        record.c.id == person_id, record.c.form == "personne")).first()
    return found is None or bool(found[0])
