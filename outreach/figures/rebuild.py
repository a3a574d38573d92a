"""The figures' summary tables built whole, in SQL over the records (issue 18).

What `facts.summarise` does record by record in Python (read the JSON, decide the day, the
people, the kind…), said here once as SQL, so that the first build after an upgrade (400,000
records: minutes in Python) is done by the database. `facts.fact_of` stays the definition; a test
builds both ways and compares every row. Tombstones that still count (an erased file, an erased
registration) are few, and go through `facts.summarise`. Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from types import ModuleType

from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    column,
    false,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
    values,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from outreach.figures.models import (
    ActivityChoice,
    ActivityDay,
    ActivityFact,
    ActivityMonth,
    ActivityPersonMonth,
)
from outreach.register import CallTask
from sync.schema import record

# Records summed up per statement: each step of the progress line.
STEP = 50_000
Progress = Callable[[int, int], None]


def can_rebuild(session: Session, zone: tzinfo) -> bool:
    """Tell whether this database can build the tables in SQL for this zone (named zones)."""
    return session.get_bind().dialect.name in ("sqlite", "postgresql") \
        and bool(getattr(zone, "key", None))


def rebuild(session: Session, zone: tzinfo, upper: int, facts: ModuleType,
            progress: Progress | None = None) -> None:
    """Empty the summary tables and sum up every record up to `upper` again, in SQL.

    `facts` is `outreach.figures.facts`, handed by its catch-up: the definitions said here again
    (forms counted, parents, choices) and its record-by-record path (the package allows no
    import cycle).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        _local_day_in_sqlite(session, zone)
    connection = session.connection()
    # Loaded without their secondary indexes, made again once at the end: a bulk load's way.
    indexes = [index for model in (*BUILT, *ADDED_UP) for index in model.__table__.indexes]
    for table in (*BUILT, *ADDED_UP):
        session.execute(table.__table__.delete())
    for index in indexes:
        index.drop(connection)
    if dialect == "postgresql":
        # Its key too: on PostgreSQL the choices are not joined to the facts, and a B-tree built
        # once is quicker than 400,000 random UUIDs inserted one by one (0.6 s against 1.8 s).
        session.execute(text(f"ALTER TABLE activity_fact DROP CONSTRAINT {FACT_KEY}"))
    total = session.scalar(select(func.count()).select_from(record).where(
        record.c.change_seq <= upper, record.c.form.in_(facts.COUNTED_FORMS)))
    done = 0
    if progress:
        progress(done, total)
    for low in range(0, upper, STEP):
        window = and_(record.c.change_seq > low, record.c.change_seq <= min(low + STEP, upper))
        if dialect == "postgresql":
            session.execute(_facts_and_choices(facts, zone, window))
        else:
            session.execute(insert(ActivityFact).from_select(
                FACT_COLUMNS, _facts(facts, zone, dialect, window)))
            for form, fields in facts.CHOICE_FIELDS.items():
                session.execute(_choices(fields),
                                {"form": form, "low": low, "high": min(low + STEP, upper)})
        done += session.scalar(select(func.count()).select_from(record).where(
            window, record.c.form.in_(facts.COUNTED_FORMS)))
        if progress:
            progress(done, total)
    if dialect == "postgresql":
        # Room to sort each index in memory, for this transaction only.
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for index in indexes:
        if index.table.name not in ADDED_UP_TABLES:
            index.create(connection)
    if dialect == "postgresql":
        session.execute(text(
            f"ALTER TABLE activity_fact ADD CONSTRAINT {FACT_KEY} PRIMARY KEY (record_id)"))
    tombstones = session.execute(
        select(record.c.id, record.c.form, record.c.data, record.c.recorded_at,
               record.c.parent_id, record.c.deleted, record.c.recorded_by)
        .where(record.c.deleted.is_(True), record.c.change_seq <= upper,
               record.c.form.in_(("personne", "registre.inscription")))).all()
    facts.summarise(session, tombstones, zone)
    facts.add_up_everything(session)
    for index in indexes:
        if index.table.name in ADDED_UP_TABLES:
            index.create(connection)
    if dialect == "postgresql":
        # Tables made anew: without fresh statistics the planner guesses at the dashboard's
        # queries on them.
        session.execute(text(
            "ANALYZE activity_fact, activity_choice, activity_day, activity_month, "
            "activity_person_month"))


# Built from the records, then added up from what they hold (their indexes made after that).
BUILT = (ActivityChoice, ActivityFact)
ADDED_UP = (ActivityDay, ActivityMonth, ActivityPersonMonth)
ADDED_UP_TABLES = {model.__tablename__ for model in ADDED_UP}
# The facts' primary key, as the naming convention calls it (its table's name).
FACT_KEY = ActivityFact.__table__.primary_key.name
FACT_COLUMNS = ["record_id", "form", "day", "person_id", "people", "women", "men", "kind",
                "outcome", "flag", "until", "recorded_by"]


def _facts_and_choices(facts, zone: tzinfo, window):
    """Insert a window's facts and their choices in one statement (PostgreSQL).

    Each record's JSON is read once for both: its facts and the arrays of its multiple-choice
    fields are kept aside (`x`), the facts inserted from there, and each array's values beside
    its record's day and people (9.3 s for the 400,000 records of the benchmark, against 10 s
    for the facts and then the choices joined to them).
    """
    fields = sorted({field for names in facts.CHOICE_FIELDS.values() for field in names})
    x = _facts(facts, zone, "postgresql", window, fields).cte("x").prefix_with("MATERIALIZED")
    stored = insert(ActivityFact).from_select(
        FACT_COLUMNS, select(*(x.c[name] for name in FACT_COLUMNS))).cte("f")
    pair = values(column("field", String), column("chosen", JSONB), name="k").data(
        [(field, x.c["c_" + field]) for field in fields]).lateral("k")
    array = case((func.jsonb_typeof(pair.c.chosen) == "array", pair.c.chosen),
                 else_=func.jsonb_build_array())
    value = func.jsonb_array_elements_text(array).table_valued("value").lateral("e")
    return insert(ActivityChoice).from_select(
        ["record_id", "form", "field", "value", "day", "weight"],
        select(x.c.record_id, x.c.form, pair.c.field, value.c.value, x.c.day, x.c.people)
        .select_from(x).join(pair, true()).join(value, true()).add_cte(stored))


def _facts(facts, zone: tzinfo, dialect: str, window, chosen: Iterable[str] = ()):
    """Select the rows of `activity_fact`: `facts.fact_of`, column by column.

    Then, for each field named in `chosen`, its array as `c_<field>` (PostgreSQL's jsonb) for
    a record of a form that counts it (`facts.CHOICE_FIELDS`), else NULL.
    """
    parent, task = aliased(record), aliased(CallTask)
    # PostgreSQL reads a `json` value again at each `->>`: each record is read as jsonb once.
    doc = cast(record.c.data, JSONB) if dialect == "postgresql" else record.c.data
    rows = (select(record.c.id, record.c.form, record.c.parent_id, record.c.recorded_at,
                   record.c.recorded_by, doc.label("data"))
            .where(window, record.c.deleted.is_(False), record.c.form.in_(facts.COUNTED_FORMS)))
    if dialect == "postgresql":
        rows = rows.offset(0)  # kept a subquery: flattened, the cast is made at each use again
    rows = rows.subquery("r")
    form = rows.c.form

    def answer(name: str, of=rows):
        """Read a top-level answer as text (NULL when absent or null)."""
        return of.c.data[name].as_string()

    def number(name: str):
        """Read a top-level answer as a whole number."""
        return rows.c.data[name].as_integer()

    def day_of(value):
        """Read a YYYY-MM-DD answer as a day; an empty one is none (`facts._day`)."""
        value = func.nullif(value, "")
        return cast(value, Date) if dialect == "postgresql" else value

    if dialect == "postgresql":
        recorded_day = cast(func.timezone(zone.key, rows.c.recorded_at), Date)
    else:
        recorded_day = func.outreach_local_day(rows.c.recorded_at)
    counted_people = ("maraude.rencontre", "permanence.accueil")
    dated = ("maraude.tournee", "visite.visite", "permanence.session")
    day = case(
        (form.in_(dated), func.coalesce(day_of(answer("date")), recorded_day)),
        (form.in_(tuple(facts.PARENT_FORMS)),
         func.coalesce(day_of(answer("date", parent)), recorded_day)),
        (form == "registre.inscription",
         func.coalesce(day_of(answer("date_demande")), recorded_day)),
        else_=recorded_day)
    person = case(
        (form.in_(("personne", "registre.inscription")), null()),
        (form == "plan.appel", func.coalesce(task.entry_id, task.person_id)),
        else_=answer("personne"))
    people = case(
        (form.in_(counted_people), func.coalesce(func.nullif(number("nombre_personnes"), 0), 1)),
        (form.in_(("permanence.session", "maraude.tournee")),
         func.coalesce(number("nombre_personnes"), 0)),
        else_=1)
    kinds = {"maraude.rencontre": "niveau", "permanence.accueil": "niveau",
             "visite.visite": "mode", "permanence.session": "site", "maraude.tournee": "secteur",
             "personne": "sexe", "registre.inscription": "categorie", "plan.appel": "tache"}
    outcomes = {"maraude.rencontre": "tranche_age", "visite.visite": "personne_vue",
                "personne": "tranche_age", "plan.appel": "issue"}
    rendez_vous = func.nullif(answer("rendez_vous_suivi"), "")
    urgent = rows.c.data["situation_urgente"].as_boolean()
    flag = case(
        (form.in_(counted_people), func.coalesce(urgent, false())),
        (form == "visite.visite",
         func.coalesce(answer("alerte"), "aucune") != "aucune"),
        else_=false())
    columns = [
        rows.c.id, form, day, person, people,
        case((form.in_(counted_people), func.coalesce(number("femmes"), 0)), else_=0),
        case((form.in_(counted_people), func.coalesce(number("hommes"), 0)), else_=0),
        case(*((form == key, answer(name)) for key, name in kinds.items()), else_=null()),
        case(*((form == key, answer(name)) for key, name in outcomes.items()),
             (and_(form == "permanence.accueil", rendez_vous.is_not(None)),
              literal("rendez_vous")),
             else_=null()),
        flag,
        case((form == "registre.inscription", day_of(answer("date_retrait"))), else_=null()),
        rows.c.recorded_by,
    ]
    arrays = [case((form.in_([key for key, names in facts.CHOICE_FIELDS.items()
                              if field in names]),
                    rows.c.data.op("->", return_type=JSONB)(field))).label("c_" + field)
              for field in chosen]
    return (
        select(*(column.label(name) for column, name in zip(columns, FACT_COLUMNS, strict=True)),
               *arrays)
        .select_from(rows)
        .outerjoin(parent, parent.c.id == rows.c.parent_id)
        .outerjoin(task, and_(form == "plan.appel", task.id == answer("tache")))
    )


def _choices(fields: tuple[str, ...]):
    """Insert a form's multiple-choice values, each weighted by its record's people (SQLite).

    Each of the window's records of that form is read once (their index) for all its fields,
    and joined to its fact: SQLite is told that order (CROSS JOIN), else it walks every fact of
    the form at each window.
    """
    # The app's own field names, not input; a UNION rather than VALUES: SQLite names no columns.
    names = " UNION ALL ".join(f"SELECT '{field}' AS field" for field in fields)
    source = ("record r CROSS JOIN activity_fact f ON f.record_id = r.id "
              f"CROSS JOIN ({names}) AS k "
              "CROSS JOIN json_each(r.data, '$.' || k.field) AS e")
    # json_each walks an array's items, and gives a scalar as one row: kept out.
    where = ("WHERE r.form = :form AND r.change_seq > :low AND r.change_seq <= :high "
             "AND json_type(r.data, '$.' || k.field) = 'array'")
    return text(
        "INSERT INTO activity_choice (record_id, form, field, value, day, weight) "
        f"SELECT f.record_id, f.form, k.field, e.value, f.day, f.people FROM {source} {where}")


def _local_day_in_sqlite(session: Session, zone: tzinfo) -> None:
    """Give this SQLite connection the CCAS's local day of a stored UTC time (no zones in SQL)."""

    def local_day(stored: str | None) -> str | None:
        """Read SQLite's 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; say the day in the zone."""
        if stored is None:
            return None
        moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
        return moment.astimezone(zone).date().isoformat()

    connection = session.connection().connection.driver_connection
    connection.create_function("outreach_local_day", 1, local_day, deterministic=True)
