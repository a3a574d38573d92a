"""The summary tables built whole in SQL hold exactly what the record-by-record path makes.

`facts.fact_of` is the figures' definition, applied record by record as records arrive;
`figures.rebuild` says it again in SQL for the first build of a large database (issue 18). Both
are run over the demonstration CCAS (two years of every form) with tombstones added, and every
row of the three tables is compared.
"""

import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from outreach.core.db import db
from outreach.core.models import AppState
from outreach.demo.load import load_demo
from outreach.figures import ERASED_FILE, facts, rebuild
from outreach.figures.models import (
    ActivityChoice,
    ActivityDay,
    ActivityFact,
    ActivityMonth,
    ActivityPersonMonth,
)
from sync import sequence
from sync.schema import record
from tests.conftest import make_app

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, migrated_database):
    """The demo, with what an erasure leaves: a file, a registration, a rencontre removed."""
    app = make_app(tmp_path_factory.mktemp("rebuild"), migrated_database)
    with app.app_context():
        load_demo(app.extensions["outreach.forms"])
        for form, data in (
            ("personne", {"alias_prenom": ERASED_FILE, "sexe": "femme",
                          "tranche_age": "plus_75"}),
            ("registre.inscription", {"categorie": "65_ans_plus", "date_demande": "2025-06-01",
                                      "date_retrait": "2025-09-01"}),
            ("maraude.rencontre", None),
        ):
            ident = db.session.scalar(select(record.c.id).where(record.c.form == form,
                                                                record.c.deleted.is_(False)))
            values = {"deleted": True} | ({"data": data} if data else {})
            db.session.execute(update(record).where(record.c.id == ident).values(values))
        # Answers left out, a parent or a call's task that is not there.
        for form, change in (
            ("maraude.rencontre", lambda row: {"data": {"lieu": {"label": "Gare"},
                                                        "niveau": "anonyme",
                                                        "nombre_personnes": 2}}),
            ("maraude.rencontre", lambda row: {"parent_id": str(uuid.uuid4())}),
            ("maraude.tournee", lambda row: {"data": {k: v for k, v in row.data.items()
                                                      if k != "nombre_personnes"}}),
            ("plan.appel", lambda row: {"data": row.data | {"tache": str(uuid.uuid4())}}),
        ):
            row = db.session.execute(select(record).where(
                record.c.form == form, record.c.deleted.is_(False)).offset(3)).first()
            db.session.execute(update(record).where(record.c.id == row.id).values(change(row)))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def tables() -> dict[str, list[tuple]]:
    """Every row of the summary tables, without their own ids, in one order."""
    def rows(model, *columns):
        return sorted((tuple(str(value) for value in row)
                       for row in db.session.execute(select(*columns))), key=str)
    fact = ActivityFact
    choice, day, month, total = ActivityChoice, ActivityDay, ActivityPersonMonth, ActivityMonth
    return {
        "fact": rows(fact, fact.record_id, fact.form, fact.day, fact.person_id, fact.people,
                     fact.women, fact.men, fact.kind, fact.outcome, fact.flag, fact.until),
        "choice": rows(choice, choice.record_id, choice.form, choice.field, choice.value,
                       choice.day, choice.weight),
        "day": rows(day, day.form, day.day, day.measure, day.value, day.n),
        "month": rows(total, total.form, total.month, total.measure, total.value, total.n),
        "person_month": rows(month, month.form, month.month, month.person_id, month.records,
                             month.seen),
    }


def built(monkeypatch, in_sql: bool) -> dict[str, list[tuple]]:
    """Build the tables from nothing, in SQL or record by record; return their rows."""
    with monkeypatch.context() as patch:
        if not in_sql:
            patch.setattr(rebuild, "can_rebuild", lambda session, zone: False)
        db.session.get(AppState, facts.WATERMARK).value = "0"
        db.session.commit()
        facts.catch_up(db.session, PARIS)
    return tables()


def test_sql_and_record_by_record_make_the_same_tables(demo_app, monkeypatch):
    with demo_app.app_context():
        by_record = built(monkeypatch, in_sql=False)
        in_sql = built(monkeypatch, in_sql=True)
    assert len(by_record["fact"]) > 2000 and len(by_record["choice"]) > 1000
    forms = {row[1] for row in by_record["fact"]}
    assert set(facts.COUNTED_FORMS) <= forms, "every counted form is in the data set"
    for name in ("fact", "choice", "day", "month", "person_month"):
        missing = set(by_record[name]) - set(in_sql[name])
        extra = set(in_sql[name]) - set(by_record[name])
        assert not missing and not extra, (name, sorted(missing)[:3], sorted(extra)[:3])
        assert by_record[name] == in_sql[name]


def test_the_build_says_how_far_it_is(demo_app):
    told = []
    with demo_app.app_context():
        db.session.get(AppState, facts.WATERMARK).value = "0"
        db.session.commit()
        facts.catch_up(db.session, PARIS, progress=lambda done, total: told.append((done, total)))
    total = told[0][1]
    assert told[0] == (0, total) and told[-1] == (total, total) and total > 2000
    assert [done for done, _ in told] == sorted(done for done, _ in told)


def test_records_changed_after_the_build_leave_the_tables_as_a_new_build_makes_them(demo_app):
    """A tournée moved to another month takes its rencontres' people with it; a visite moved,
    made an absence or removed leaves its month: the months touched are added up again."""
    with demo_app.app_context():
        facts.catch_up(db.session, PARIS)
        changes = []
        tournee = db.session.execute(select(record).where(
            record.c.form == "maraude.tournee", record.c.deleted.is_(False))).first()
        changes.append((tournee.id, {"data": tournee.data | {"date": "2024-02-29"}}))
        visites = db.session.execute(select(record).where(
            record.c.form == "visite.visite", record.c.deleted.is_(False),
            record.c.data["personne_vue"].as_string() == "oui").limit(3)).all()
        changes.append((visites[0].id, {"data": visites[0].data | {"date": "2024-03-15"}}))
        changes.append((visites[1].id, {"data": visites[1].data | {"personne_vue": "non"}}))
        changes.append((visites[2].id, {"deleted": True}))
        first = sequence.reserve(db.session, len(changes))
        for seq, (ident, values) in enumerate(changes, start=first):
            db.session.execute(update(record).where(record.c.id == ident)
                               .values(values | {"change_seq": seq}))
        db.session.commit()
        facts.catch_up(db.session, PARIS)
        kept = tables()
        db.session.get(AppState, facts.WATERMARK).value = "0"
        db.session.commit()
        facts.catch_up(db.session, PARIS)
        anew = tables()
    moved = [row for row in kept["person_month"] if row[1] in ("2024-02", "2024-03")]
    assert moved, "the moved records' people are in their new month"
    for name in ("fact", "choice", "day", "month", "person_month"):
        assert kept[name] == anew[name], name
