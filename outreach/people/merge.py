"""Two files made for one person on two tablets, made one by a coordinateur — and undone.

Merging moves every record that names the merged file to the kept one (each as a new revision,
its history kept), has each feature move its own rows (`signals.person_merged`), and makes the
merged file a tombstone that tablets receive at their next pull. What moved is noted (ids only),
so undoing puts it back.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import catalog, signals
from outreach.core.models import AccessChange, User
from outreach.people.models import PersonMerge
from sync import sequence
from sync.access import SHARED_BY_TEAM
from sync.decisions import write_revision
from sync.push import Actor
from sync.schema import record, utcnow


class MergeError(ValueError):
    """A merge or an undo that cannot be done; the message says why, in French."""


def _person(session: Session, person_id: str, deleted: bool = False) -> dict:
    row = session.execute(select(record).where(record.c.id == person_id)).first()
    if row is None or row.form != "personne" or row.deleted != deleted:
        raise MergeError("Cette fiche de personne n'existe pas ou a déjà été fusionnée.")
    return dict(row._mapping)


def _person_keys() -> set[str]:
    registry = catalog.registry()
    return {spec["key"] for key in registry.keys() for definition in registry.versions(key)
            for spec in definition.fields if spec["type"] == "person"}


def _naming(session: Session, person_id: str) -> list[tuple[dict, list[str]]]:
    """Return the records that name this person, with the fields that do."""
    found: dict[str, tuple[dict, list[str]]] = {}
    for key in _person_keys():
        for row in session.execute(select(record).where(
                record.c.deleted.is_(False), record.c.data[key].as_string() == person_id)):
            current = found.setdefault(row.id, (dict(row._mapping), []))
            current[1].append(key)
    return list(found.values())


def _repoint(session: Session, actor: Actor, rows: list[tuple[dict, list[str]]],
             target: str, now) -> list[str]:
    for current, keys in rows:
        data = {**current["data"], **dict.fromkeys(keys, target)}
        write_revision(session, actor, current, data, sequence.reserve(session, 1), now)
    return [current["id"] for current, _ in rows]


def _tell_tablets(session: Session, users: set[int], *person_ids: str) -> None:
    """Whoever may have held either file gets it again, or its tombstone, at the next pull.

    A team shares its people: every account of the team of whoever held one is told.
    """
    teams = set(session.scalars(select(User.role).where(User.id.in_(users),
                                                        User.role.in_(SHARED_BY_TEAM))))
    users = users | set(session.scalars(select(User.id).where(User.role.in_(teams))))
    for user_id in sorted(users):
        for person_id in person_ids:
            session.add(AccessChange(user_id=user_id, person_id=person_id,
                                     change_seq=sequence.reserve(session, 1)))


def merge(session: Session, actor: Actor, kept_id: str, merged_id: str) -> PersonMerge:
    """Merge `merged_id` into `kept_id`; the caller commits."""
    if kept_id == merged_id:
        raise MergeError("Choisissez deux fiches différentes.")
    kept, merged = _person(session, kept_id), _person(session, merged_id)
    now = utcnow()
    naming = _naming(session, merged_id)
    users = {merged["recorded_by"]} | {current["recorded_by"] for current, _ in naming}
    moved = {"records": _repoint(session, actor, naming, kept_id, now)}
    # Each feature moves its own rows that name the merged file (assignments, alerts…).
    for done in signals.gathered(signals.person_merged.send(
            session, actor=actor, kept_id=kept_id, merged_id=merged_id)):
        moved[done.key] = done.ids
        users |= done.users
    write_revision(session, actor, merged, merged["data"], sequence.reserve(session, 1), now,
                   deleted=True)
    _tell_tablets(session, users, merged_id, kept_id)
    done = PersonMerge(id=str(uuid.uuid4()), kept_id=kept["id"], merged_id=merged["id"],
                       moved=moved, merged_by=actor.id, merged_at=now)
    session.add(done)
    return done


def undo(session: Session, actor: Actor, done: PersonMerge) -> None:
    """Put back what a merge moved and bring the merged file back; the caller commits."""
    if done.undone_at is not None:
        raise MergeError("Cette fusion a déjà été annulée.")
    merged = _person(session, done.merged_id, deleted=True)
    _person(session, done.kept_id)
    now = utcnow()
    write_revision(session, actor, merged, merged["data"], sequence.reserve(session, 1), now,
                   deleted=False)
    moved_back = [
        (current, keys) for current, keys in _naming(session, done.kept_id)
        if current["id"] in set(done.moved.get("records", []))
    ]
    _repoint(session, actor, moved_back, done.merged_id, now)
    users = {merged["recorded_by"]} | {current["recorded_by"] for current, _ in moved_back}
    for told in signals.gathered(signals.merge_undone.send(
            session, actor=actor, kept_id=done.kept_id, merged_id=done.merged_id,
            moved=done.moved)):
        users |= set(told)
    _tell_tablets(session, users, done.merged_id, done.kept_id)
    done.undone_by, done.undone_at = actor.id, now
