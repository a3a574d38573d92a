"""The figures' summary tables: each record, as counted, in `activity_fact` and `activity_choice`.

Kept up to date from the records changed since the last run, in the order of the server sequence
(its own watermark, so a database made before these tables is summed up whole at the first run):
a record changed, merged or settled after a conflict is summed up again at its current revision,
a deleted one is taken out. A tournée or a session that changes brings its rencontres or accueils
with it (they take its date). Nothing here imports Flask.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from outreach.core.models import move_watermark, take_watermark
from outreach.figures import rebuild
from outreach.figures.models import (
    ActivityChoice,
    ActivityDay,
    ActivityFact,
    ActivityMonth,
    ActivityPersonMonth,
)
from outreach.register import KEPT_AFTER_WITHDRAWAL, CallTask
from sync import sequence
from sync.schema import record

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
# Forms whose named people are also added up month by month (`activity_person_month`).
PERSON_FORMS = ("maraude.rencontre", "permanence.accueil", "visite.visite")
BATCH = 2000
# Records changed since the last run beyond which building everything again in SQL is
# quicker than following them one by one.
REBUILD_FROM = 100_000
# What an erased file is called (people.retention): its tombstone keeps its sex and age band.
ERASED_FILE = "Personne effacée"
# What an erased registration keeps (outreach.register): it is counted until its withdrawal.
ERASED_ENTRY = KEPT_AFTER_WITHDRAWAL


def catch_up(session: Session, zone: tzinfo,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Sum up the records changed since the last run; return how many were read.

    The first time (or far behind), everything is built again in SQL (`rebuild`), telling
    `progress(done, total)` as it goes; otherwise record by record from the watermark.
    """
    seen = take_watermark(session, WATERMARK)
    upper = sequence.current(session)
    behind = seen == 0 or session.scalar(
        select(func.count()).select_from(record)
        .where(record.c.change_seq > seen, record.c.change_seq <= upper)) > REBUILD_FROM
    if behind and rebuild.can_rebuild(session, zone):
        rebuild.rebuild(session, zone, upper, sys.modules[__name__], progress)
        move_watermark(session, WATERMARK, upper)
        session.commit()
        return upper - seen
    read = 0
    touched: set[tuple[str, date]] = set()
    while seen < upper:
        rows = session.execute(
            select(record.c.id, record.c.form, record.c.data, record.c.recorded_at,
                   record.c.parent_id, record.c.deleted, record.c.recorded_by,
                   record.c.change_seq)
            .where(record.c.change_seq > seen, record.c.change_seq <= upper,
                   record.c.form.in_(COUNTED_FORMS))
            .order_by(record.c.change_seq).limit(BATCH)
        ).all()
        if not rows:
            break
        parents = [row.id for row in rows if row.form in PARENT_FORMS.values()]
        children = session.execute(
            select(record.c.id, record.c.form, record.c.data, record.c.recorded_at,
                   record.c.parent_id, record.c.deleted, record.c.recorded_by)
            .where(record.c.parent_id.in_(parents))).all() if parents else []
        touched |= summarise(session, [*rows, *children], zone)
        read += len(rows)
        seen = rows[-1].change_seq
    add_up(session, touched)
    move_watermark(session, WATERMARK, upper)
    session.commit()
    return read


def summarise(session: Session, rows: Iterable, zone: tzinfo) -> set[tuple[str, date]]:
    """Replace the facts of these records by what their current data says.

    Return the (form, day) pairs whose daily totals must be added up again.
    """
    rows = list({row.id: row for row in rows}.values())
    ids = [row.id for row in rows]
    touched: set[tuple[str, date]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        touched |= {(form, day) for form, day in session.execute(
            select(ActivityFact.form, ActivityFact.day)
            .where(ActivityFact.record_id.in_(chunk)))}
        session.execute(delete(ActivityFact).where(ActivityFact.record_id.in_(chunk)))
        session.execute(delete(ActivityChoice).where(ActivityChoice.record_id.in_(chunk)))
    parent_ids = {row.parent_id for row in rows if row.parent_id}
    parent_days = {ident: _day(data.get("date")) for ident, data in session.execute(
        select(record.c.id, record.c.data).where(record.c.id.in_(parent_ids)))} \
        if parent_ids else {}
    # A plan's call counts for the person called (a registration, or a person file), so that
    # someone called in several series is reached once.
    tasks = {row.data.get("tache") for row in rows if row.form == "plan.appel"}
    called = {ident: entry or person for ident, entry, person in session.execute(
        select(CallTask.id, CallTask.entry_id, CallTask.person_id)
        .where(CallTask.id.in_(tasks)))} if tasks else {}
    facts, choices = [], []
    for row in rows:
        if row.deleted and not _counted_tombstone(row):
            continue
        fact = fact_of(row.form, row.data, _local_day(row.recorded_at, zone),
                       parent_days.get(row.parent_id))
        if row.form == "plan.appel":
            fact["person_id"] = called.get(row.data.get("tache"))
        facts.append({"record_id": row.id, "form": row.form, "recorded_by": row.recorded_by,
                      **fact})
        for field in CHOICE_FIELDS.get(row.form, ()):
            for value in row.data.get(field) or ():
                choices.append({"record_id": row.id, "form": row.form, "field": field,
                                "value": value, "day": fact["day"], "weight": fact["people"]})
    if facts:
        session.execute(insert(ActivityFact), facts)
    if choices:
        session.execute(insert(ActivityChoice), choices)
    return touched | {(fact["form"], fact["day"]) for fact in facts}


def add_up(session: Session, touched: set[tuple[str, date]]) -> None:
    """Add up again the daily totals of the touched (form, day) pairs, from the facts."""
    by_form: dict[str, set[date]] = {}
    for form, day in touched:
        by_form.setdefault(form, set()).add(day)
    for form, days in by_form.items():
        days = sorted(days)
        for start in range(0, len(days), 400):
            chunk = days[start:start + 400]
            session.execute(delete(ActivityDay).where(ActivityDay.form == form,
                                                      ActivityDay.day.in_(chunk)))
            for statement in _totals(form, chunk):
                session.execute(insert(ActivityDay).from_select(
                    ["form", "day", "measure", "value", "n"], statement))
    months: dict[str, set[str]] = {}
    for form, day in touched:
        if form in MEASURES:
            months.setdefault(form, set()).add(day.strftime("%Y-%m"))
    for form, chosen in months.items():
        chosen = sorted(chosen)
        for start in range(0, len(chosen), 100):
            chunk = chosen[start:start + 100]
            session.execute(delete(ActivityMonth).where(
                ActivityMonth.form == form, ActivityMonth.month.in_(chunk)))
            session.execute(insert(ActivityMonth).from_select(
                MONTH_COLUMNS, _days_by_month(session, form, chunk)))
            if form in PERSON_FORMS:
                session.execute(delete(ActivityPersonMonth).where(
                    ActivityPersonMonth.form == form, ActivityPersonMonth.month.in_(chunk)))
                session.execute(insert(ActivityPersonMonth).from_select(
                    PERSON_MONTH_COLUMNS, _people_by_month(session, form, chunk)))


def add_up_everything(session: Session) -> None:
    """Add up the daily totals of every day from the facts, into an empty `activity_day`.

    One statement per measure over all days (the first build), rather than days by the hundred.
    """
    for form in MEASURES:
        for statement in _totals(form, None):
            session.execute(insert(ActivityDay).from_select(
                ["form", "day", "measure", "value", "n"], statement))
    for form in MEASURES:
        session.execute(insert(ActivityMonth).from_select(
            MONTH_COLUMNS, _days_by_month(session, form, None)))
    for form in PERSON_FORMS:
        session.execute(insert(ActivityPersonMonth).from_select(
            PERSON_MONTH_COLUMNS, _people_by_month(session, form, None)))


MONTH_COLUMNS = ["form", "month", "measure", "value", "n"]
PERSON_MONTH_COLUMNS = ["form", "month", "person_id", "records", "seen"]


def month_of(session: Session, column) -> ColumnElement[str]:
    """Return a date column's month as YYYY-MM, in the database's own words."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


def _in_months(session: Session, column, months: list[str] | None) -> list:
    """Return the conditions keeping a date column's rows within these months (None: all)."""
    if months is None:
        return []
    first = date.fromisoformat(months[0] + "-01")
    after = (date.fromisoformat(months[-1] + "-28") + timedelta(days=4)).replace(day=1)
    return [column >= first, column < after, month_of(session, column).in_(months)]


def _days_by_month(session: Session, form: str, months: list[str] | None):
    """Return the SELECT adding up a form's daily totals by month (None: every month)."""
    day = ActivityDay
    month = month_of(session, day.day)
    return (select(literal(form), month, day.measure, day.value, func.sum(day.n))
            .where(day.form == form, *_in_months(session, day.day, months))
            .group_by(month, day.measure, day.value))


def _people_by_month(session: Session, form: str, months: list[str] | None):
    """Return the SELECT adding up a form's named people by month (None: every month)."""
    fact = ActivityFact
    month = month_of(session, fact.day)
    where = [fact.form == form, fact.person_id.is_not(None),
             *_in_months(session, fact.day, months)]
    seen = func.sum(case((fact.outcome == "oui", 1), else_=0)) if form == "visite.visite" \
        else literal(0)
    return (select(literal(form), month, fact.person_id, func.count(), seen)
            .where(*where).group_by(month, fact.person_id))


# What each form's figures sum, day by day (outreach.indicators reads them): few rows a day
# whatever the number of records, so that a year is summed in a few milliseconds.
MEASURES = {
    "maraude.tournee": ("records",),
    "maraude.rencontre": ("records", "flag", "others", "others_women", "others_men",
                          "others_by_outcome", "weight:prestations", "choice:besoins",
                          "choice:orientations"),
    "visite.visite": ("records", "outcome", "kind_outcome"),
    "permanence.session": ("records", "kind"),
    "permanence.accueil": ("records", "people", "others", "others_women", "others_men",
                           "outcome", "choice:motifs", "choice:actions", "choice:orientations"),
    "plan.appel": ("records", "choice:besoins"),
}


def _totals(form: str, days: list[date] | None) -> list:
    """Return the SELECTs that add up one form's facts of some days (None: all), by measure."""
    fact, choice = ActivityFact, ActivityChoice
    where = (fact.form == form, *(() if days is None else (fact.day.in_(days),)))
    # The people counted at each record: all of an anonymous one's, a named one's companions
    # (its count less the named person). « Dont femmes / hommes » count the named person too:
    # outreach.indicators takes them off their own sex, which their file says.
    anonymous, group = fact.person_id.is_(None), fact.people > 1
    others = case((anonymous, fact.people), (group, fact.people - 1), else_=0)

    def total(measure: str, value, amount, *extra):
        """Sum `amount` by day (and value) over the facts."""
        return (select(literal(form), fact.day, literal(measure), value, func.sum(amount))
                .where(*where, *extra).group_by(fact.day, value))

    known = {
        "records": lambda: total("records", literal(""), 1),
        "people": lambda: total("people", literal(""), fact.people),
        "flag": lambda: total("flag", literal(""), case((fact.flag.is_(True), 1), else_=0)),
        "others": lambda: total("others", literal(""), others),
        "others_women": lambda: total("others_women", literal(""),
                                      case((or_(anonymous, group), fact.women), else_=0)),
        "others_men": lambda: total("others_men", literal(""),
                                    case((or_(anonymous, group), fact.men), else_=0)),
        "others_by_outcome": lambda: total(
            "others_by_outcome", func.coalesce(fact.outcome, "inconnue"), others),
        "kind": lambda: total("kind", func.coalesce(fact.kind, ""), 1),
        "outcome": lambda: total("outcome", func.coalesce(fact.outcome, ""), 1),
        "kind_outcome": lambda: total(
            "kind_outcome", func.coalesce(fact.kind, "") + "|" + func.coalesce(fact.outcome, ""),
            1),
    }
    statements = []
    for measure in MEASURES.get(form, ()):
        if measure in known:
            statements.append(known[measure]())
            continue
        how, field = measure.split(":")
        amount = func.sum(choice.weight) if how == "weight" else func.count()
        statements.append(
            select(literal(form), choice.day, literal(measure), choice.value, amount)
            .where(choice.form == form, choice.field == field,
                   *(() if days is None else (choice.day.in_(days),)))
            .group_by(choice.day, choice.value))
    return statements


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


def _counted_tombstone(row) -> bool:
    """Tell whether a tombstone still counts: what an erasure keeps so the figures stay the same.

    A file erased on request keeps its sex and age band; an erased registration its category
    and dates (people.retention, register).
    """
    if row.form == "personne":
        return row.data.get("alias_prenom") == ERASED_FILE
    return row.form == "registre.inscription" and bool(row.data.get("date_retrait")) \
        and set(row.data) <= set(ERASED_ENTRY)


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
