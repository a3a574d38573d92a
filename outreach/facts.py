"""The figures' summary tables: each record, as counted, in `activity_fact` and `activity_choice`.

Kept up to date from the records changed since the last run, in the order of the server sequence
(its own watermark, so a database made before these tables is summed up whole at the first run):
a record changed, merged or settled after a conflict is summed up again at its current revision,
a deleted one is taken out. A tournée or a session that changes brings its rencontres or accueils
with it (they take its date). Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from sync import sequence
from sync.schema import record

from .models import ActivityChoice, ActivityFact, AppState

WATERMARK = "facts_seq"
COUNTED_FORMS = ("maraude.tournee", "maraude.rencontre", "visite.visite", "permanence.session",
                 "permanence.accueil", "personne", "registre.inscription", "plan.appel")
# The parent whose date a child record takes.
PARENT_FORMS = {"maraude.rencontre": "maraude.tournee", "permanence.accueil": "permanence.session"}
# Multiple-choice fields counted value by value.
CHOICE_FIELDS = {"maraude.rencontre": ("prestations", "besoins", "orientations"),
                 "permanence.accueil": ("motifs", "actions", "orientations"),
                 "visite.visite": ("besoins",),
                 "plan.appel": ("besoins",)}
BATCH = 2000


def catch_up(session: Session, zone: tzinfo) -> int:
    """Sum up the records changed since the last run; return how many were read."""
    locked = session.execute(
        update(AppState).where(AppState.key == WATERMARK).values(value=AppState.value)
    ).rowcount
    if not locked:
        session.add(AppState(key=WATERMARK, value="0"))
        session.flush()
    seen = int(session.get(AppState, WATERMARK).value)
    upper = sequence.current(session)
    read = 0
    while seen < upper:
        rows = session.execute(
            select(record.c.id, record.c.form, record.c.data, record.c.recorded_at,
                   record.c.parent_id, record.c.deleted, record.c.change_seq)
            .where(record.c.change_seq > seen, record.c.change_seq <= upper,
                   record.c.form.in_(COUNTED_FORMS))
            .order_by(record.c.change_seq).limit(BATCH)
        ).all()
        if not rows:
            break
        parents = [row.id for row in rows if row.form in PARENT_FORMS.values()]
        children = session.execute(
            select(record.c.id, record.c.form, record.c.data, record.c.recorded_at,
                   record.c.parent_id, record.c.deleted)
            .where(record.c.parent_id.in_(parents))).all() if parents else []
        summarise(session, [*rows, *children], zone)
        read += len(rows)
        seen = rows[-1].change_seq
    session.get(AppState, WATERMARK).value = str(upper)
    session.commit()
    return read


def summarise(session: Session, rows: Iterable, zone: tzinfo) -> None:
    """Replace the facts of these records by what their current data says."""
    rows = list({row.id: row for row in rows}.values())
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        session.execute(delete(ActivityFact).where(ActivityFact.record_id.in_(chunk)))
        session.execute(delete(ActivityChoice).where(ActivityChoice.record_id.in_(chunk)))
    parent_ids = {row.parent_id for row in rows if row.parent_id}
    parent_days = {ident: _day(data.get("date")) for ident, data in session.execute(
        select(record.c.id, record.c.data).where(record.c.id.in_(parent_ids)))} \
        if parent_ids else {}
    facts, choices = [], []
    for row in rows:
        if row.deleted:
            continue
        fact = fact_of(row.form, row.data, _local_day(row.recorded_at, zone),
                       parent_days.get(row.parent_id))
        facts.append({"record_id": row.id, "form": row.form, **fact})
        for field in CHOICE_FIELDS.get(row.form, ()):
            for value in row.data.get(field) or ():
                choices.append({"record_id": row.id, "form": row.form, "field": field,
                                "value": value, "day": fact["day"], "weight": fact["people"]})
    if facts:
        session.execute(insert(ActivityFact), facts)
    if choices:
        session.execute(insert(ActivityChoice), choices)


def fact_of(form: str, data: dict, recorded_day: date, parent_day: date | None) -> dict:
    """Return how the figures count one record (the columns of `activity_fact`)."""
    fact = {"day": recorded_day, "person_id": data.get("personne"), "people": 1, "women": 0,
            "men": 0, "kind": None, "outcome": None, "flag": False, "until": None}
    if form in ("maraude.tournee", "visite.visite", "permanence.session"):
        fact["day"] = _day(data.get("date")) or recorded_day
    if form in PARENT_FORMS:
        fact["day"] = parent_day or recorded_day
    if form in ("maraude.rencontre", "permanence.accueil"):
        fact.update(people=data.get("nombre_personnes") or 1, women=data.get("femmes") or 0,
                    men=data.get("hommes") or 0, kind=data.get("niveau"),
                    outcome=data.get("tranche_age"),
                    flag=bool(data.get("situation_urgente")))
        if form == "permanence.accueil":
            fact["outcome"] = "rendez_vous" if data.get("rendez_vous_suivi") else None
    elif form == "visite.visite":
        fact.update(kind=data.get("mode"), outcome=data.get("personne_vue"),
                    flag=data.get("alerte") not in (None, "aucune"))
    elif form == "permanence.session":
        fact.update(kind=data.get("site"), people=data.get("nombre_personnes") or 0)
    elif form == "maraude.tournee":
        fact.update(kind=data.get("secteur"), people=data.get("nombre_personnes") or 0)
    elif form == "personne":
        fact.update(person_id=None, kind=data.get("sexe"), outcome=data.get("tranche_age"))
    elif form == "registre.inscription":
        fact.update(day=_day(data.get("date_demande")) or recorded_day, person_id=None,
                    kind=data.get("categorie"), until=_day(data.get("date_retrait")))
    elif form == "plan.appel":
        fact.update(person_id=None, kind=data.get("tache"), outcome=data.get("issue"))
    return fact


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
