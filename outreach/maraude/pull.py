"""What the pull carries for a maraude team: each known person's last encounter."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import catalog
from outreach.core.models import User
from sync.push import Actor
from sync.schema import record


def encounter_changes(session: Session, actor: Actor, seen: int, upper: int,
                      limit: int) -> list[tuple[int, dict]]:
    """Return, for a maraude team, each known person's last encounter when it may have changed.

    An item's id is the person's; it says when and where they were last met, their needs and
    what was handed out or oriented, as the team reads it offline before going out.
    """
    if actor.role != "maraude":
        return []
    team = select(User.id).where(User.role == "maraude")
    named = session.execute(
        select(record.c.data["personne"].as_string(), record.c.change_seq)
        .where(record.c.form == "maraude.rencontre", record.c.recorded_by.in_(team),
               record.c.change_seq > seen, record.c.change_seq <= upper,
               record.c.data["personne"].as_string().is_not(None))
        .order_by(record.c.change_seq).limit(limit)
    ).all()
    # One entry per rencontre read (the pull counts them to know whether more remain), each
    # saying the person's last encounter, read once per person.
    last: dict[str, dict] = {}
    changes = []
    for person, seq in named:
        if person not in last:
            last[person] = _last_met(session, person, team)
        changes.append((seq, last[person]))
    return changes


def _last_met(session: Session, person_id: str, team) -> dict:
    found = session.execute(
        select(record.c.form_version, record.c.data, record.c.recorded_at, record.c.revision)
        .where(record.c.form == "maraude.rencontre", record.c.deleted.is_(False),
               record.c.recorded_by.in_(team),
               record.c.data["personne"].as_string() == person_id)
        .order_by(record.c.recorded_at.desc()).limit(1)
    ).first()
    if found is None:
        return {"id": person_id, "deleted": True}
    definition = catalog.registry().get("maraude.rencontre", found.form_version)
    labels = catalog.labels_for(definition)
    said = {key: [labels.get(key, {}).get(v, v) for v in found.data.get(key, [])]
            for key in ("besoins", "prestations", "orientations")}
    return {"id": person_id, "revision": found.revision, "data": {
        "date": found.recorded_at.isoformat(), "lieu": (found.data.get("lieu") or {}).get("label"),
        **said}}
