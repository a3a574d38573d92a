"""`outreach purge`: a person's file anonymised two years after the last contact, logs kept a year.

Invented people, pushed through the sync API as tablets would, with their contacts dated back:
one last met 25 months ago (anonymised), one 23 months ago, one with an open alert, one with an
active visit assignment (kept). The dashboard's figures are computed before and after and must
not change; a dry run changes nothing.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from outreach.alerts.models import Alert
from outreach.cli import main
from outreach.core.db import db
from outreach.core.models import AuditEvent, LoginAttempt, LoginSession, Record
from outreach.figures import facts, indicators
from outreach.people import retention
from outreach.visits import planning
from sync.schema import quarantine, record_conflict, record_revision, sync_log
from tests.conftest import add_user, assert_not_on_disk
from tests.sync_helpers import Tablet, item, rencontre

PARIS = ZoneInfo("Europe/Paris")
TODAY = date.today()


def months_ago(months: int, days: int = 0) -> str:
    """Return an ISO moment `months` months (and `days` days) before today, at 10:00 UTC."""
    day = retention.months_before(TODAY, months) - timedelta(days=days)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC).isoformat()


def person(alias, at, **data):
    """A personne record made at `at`."""
    return item("personne", {"niveau": "alias", "alias_prenom": alias, **data}, form_version=2,
                recorded_at=at)


def met(person_id, at, **data):
    """A rencontre naming a person at `at`."""
    return item(data=rencontre(**{"niveau": "alias", "personne": person_id,
                                  "nombre_personnes": 1, **data}), recorded_at=at)


def figures(app) -> dict:
    """Every dashboard figure of this year, last year and the year before."""
    with app.app_context():
        facts.catch_up(db.session, PARIS)
        found = {year: indicators.compute_all(
            db.session, indicators.Period(date(year, 1, 1), date(year, 12, 31)), PARIS)
            for year in (TODAY.year - 2, TODAY.year - 1, TODAY.year)}
        # A day the withdrawn registration was still on the register.
        middle = retention.months_before(TODAY, 27)
        found["middle"] = indicators.compute_all(
            db.session, indicators.Period(middle.replace(day=1), middle), PARIS)
        db.session.rollback()
        return found


@pytest.fixture
def people(app):
    """Four people and their contacts; return their records by name."""
    add_user(app, "mara", "maraude")
    vero = add_user(app, "vero", "visiteur")
    office = add_user(app, "coord", "coordinateur")
    mara = Tablet(app.test_client(), "mara")
    old = person("Lucienne", months_ago(30), niveau="identifie", nom="Zephyrine",
                 date_naissance="1950-04-03", telephone="06 11 22 33 44",
                 adresse="12 impasse des Glycines", contact_urgence="Odile, sa soeur",
                 telephone_urgence="06 55 44 33 22", consentement=True,
                 date_consentement="2024-01-02", sexe="femme", tranche_age="plus_75",
                 notes="Lucienne Zephyrine dort sous le pont")
    recent = person("Basile", months_ago(30), sexe="homme", tranche_age="de_41_a_60")
    alerted = person("Capucine", months_ago(30), sexe="femme")
    visited = person("Dorothee", months_ago(30), tranche_age="plus_75")
    records = {
        "old": old, "recent": recent, "alerted": alerted, "visited": visited,
        "old_met": met(old["id"], months_ago(25), besoins=["hebergement"],
                       notes="Lucienne Zephyrine a froid"),
        "recent_met": met(recent["id"], months_ago(23), notes="Basile va mieux"),
        "old_entry": item("registre.inscription", {
            "nom": "Zephyrine", "prenoms": "Lucienne", "date_naissance": "1950-04-03",
            "categorie": "65_ans_plus", "adresse": "12 impasse des Glycines",
            "telephone": "06 11 22 33 44", "contact_urgence": "Odile, sa soeur",
            "telephone_urgence": "06 55 44 33 22", "demandeur": "personne",
            "date_demande": months_ago(30)[:10], "date_retrait": months_ago(25)[:10],
            "personne": old["id"]}, form_version=2, recorded_at=months_ago(30)),
        "alerted_met": met(alerted["id"], months_ago(27), situation_urgente=True,
                           detail_urgence="Capucine blessée"),
    }
    entry = records.pop("old_entry")
    results = mara.push(*records.values())
    assert {r["status"] for r in results} == {"created"}, results
    # The register is kept at the office.
    assert Tablet(app.test_client(), "coord").push(entry)[0]["status"] == "created"
    records["old_entry"] = entry
    # An edit (its history keeps the first version), a stale one (kept in conflict) and a
    # refused one (kept in quarantine), all with the name in them.
    edited = {**old, "base_revision": 1, "recorded_at": months_ago(26),
              "data": {**old["data"], "notes": "Lucienne Zephyrine, 2e version"}}
    stale = {**old, "base_revision": 1, "recorded_at": months_ago(26),
             "data": {**old["data"], "notes": "Lucienne Zephyrine, en conflit"}}
    refused = met(old["id"], months_ago(26), nombre_personnes=-3,
                  notes="Lucienne Zephyrine refusée")
    assert [r["status"] for r in mara.push(edited)] == ["updated"]
    assert [r["status"] for r in mara.push(stale, refused)] == ["conflict", "rejected"]
    with app.app_context():
        planning.assign(db.session, visited["id"], vero, "hebdomadaire", "domicile",
                        TODAY - timedelta(days=900), office)
        db.session.commit()
        assert db.session.scalar(select(Alert.status).where(
            Alert.person_id == alerted["id"])) == "nouvelle"
    return records


def test_a_file_is_anonymised_two_years_after_the_last_contact(app, people, runner):
    before = figures(app)
    assert before["middle"]["registre.categories"] == {"65_ans_plus": 1}
    answer = runner.invoke(main, ["purge"])
    assert answer.exit_code == 0, answer.output
    assert "Registre : 1 inscription(s) retirée(s) effacée(s)." in answer.output
    assert "Personnes : 1 fiche(s) anonymisée(s)" in answer.output
    with app.app_context():
        old = db.session.get(Record, people["old"]["id"])
        assert old.data == {"niveau": "alias", "alias_prenom": "Personne anonymisée",
                            "sexe": "femme", "tranche_age": "plus_75"}
        assert not old.deleted and old.revision == 3
        # The rencontre keeps what is counted, not what was written.
        rencontre_ = db.session.get(Record, people["old_met"]["id"])
        assert "notes" not in rencontre_.data and rencontre_.data["besoins"] == ["hebergement"]
        assert rencontre_.data["personne"] == old.id
        assert db.session.scalar(select(func.count()).select_from(record_revision).where(
            record_revision.c.record_id == old.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(record_conflict).where(
            record_conflict.c.record_id == old.id)) == 0
        [raw] = db.session.scalars(select(quarantine.c.raw)).all()
        assert "notes" not in raw["data"] and raw["data"]["personne"] == old.id
        # The others are kept whole: 23 months, an open alert, an active assignment.
        for name, alias in (("recent", "Basile"), ("alerted", "Capucine"),
                            ("visited", "Dorothee")):
            assert db.session.get(Record, people[name]["id"]).data["alias_prenom"] == alias
        assert db.session.get(Record, people["recent_met"]["id"]).data["notes"] == \
            "Basile va mieux"
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "person.anonymise"))
        assert event.target == old.id and event.user_id is None
        assert event.details["reason"] == "conservation" and event.details["files"] == 1
        assert "Lucienne" not in str(event.details) and "Zephyrine" not in str(event.details)
        path = db.engine.url.database
    assert figures(app) == before
    # Nothing of her is left in the database file (nor in its write-ahead log).
    assert_not_on_disk(path, [b"Zephyrine", b"06 11 22 33 44", b"Glycines", b"Odile"])
    # A second run has nothing more to do.
    assert "Personnes : 0 fiche(s)" in runner.invoke(main, ["purge"]).output


def test_the_tablet_receives_the_anonymised_file(app, people, runner):
    mara = Tablet(app.test_client(), "mara")
    cursor = mara.pull()["cursor"]
    runner.invoke(main, ["purge"])
    [changed] = [p for p in mara.pull(cursor)["people"] if p["id"] == people["old"]["id"]]
    assert changed["data"]["alias_prenom"] == "Personne anonymisée"
    assert "nom" not in changed["data"] and "telephone" not in changed["data"]


def test_a_dry_run_lists_what_would_go_and_changes_nothing(app, people, runner):
    with app.app_context():
        db.session.add(LoginAttempt(login="mara", address="10.0.0.1", succeeded=True,
                                    at=datetime.now(UTC) - timedelta(days=400)))
        db.session.commit()
        seq = db.session.scalar(select(func.max(Record.change_seq)))
        logins = db.session.scalar(select(func.count()).select_from(LoginAttempt))
    answer = runner.invoke(main, ["purge", "--dry-run"])
    assert answer.exit_code == 0, answer.output
    assert "Simulation (--dry-run) : rien n'a changé." in answer.output
    assert "Personnes : 1 fiche(s) à anonymiser" in answer.output
    assert f"fiche {people['old']['id']}" in answer.output
    assert "connexions 1" in answer.output
    # Identifiers and counts only: no name.
    assert "Lucienne" not in answer.output and "Zephyrine" not in answer.output
    with app.app_context():
        assert db.session.get(Record, people["old"]["id"]).data["nom"] == "Zephyrine"
        assert db.session.scalar(select(func.max(Record.change_seq))) == seq
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == logins


def test_a_shorter_period_is_a_setting_and_an_option(app, people, runner):
    app.config["PERSON_RETENTION_MONTHS"] = 22
    answer = runner.invoke(main, ["purge", "--dry-run"])
    assert "Personnes : 2 fiche(s) à anonymiser" in answer.output
    assert f"fiche {people['recent']['id']}" in answer.output
    answer = runner.invoke(main, ["purge", "--dry-run", "--personnes-apres-mois", "26"])
    assert "Personnes : 0 fiche(s) à anonymiser" in answer.output
    refused = runner.invoke(main, ["purge", "--journaux-apres-mois", "0"])
    assert refused.exit_code == 1 and "1 mois au moins" in refused.output


def test_logs_older_than_a_year_are_deleted(app, runner):
    user = add_user(app, "vero", "visiteur")
    old, fresh = (datetime.now(UTC) - timedelta(days=370), datetime.now(UTC) - timedelta(days=300))
    with app.app_context():
        for at in (old, fresh):
            db.session.add(LoginAttempt(login="vero", address="10.0.0.2", succeeded=False, at=at))
            db.session.add(AuditEvent(user_id=user, action="person.read", target="x", at=at,
                                      details={}))
            db.session.execute(insert(sync_log).values(at=at, user_id=user, kind="pull",
                                                       counts={}, duration_ms=3))
            db.session.add(LoginSession(token_hash=str(at), user_id=user, created_at=at,
                                        last_seen_at=at, expires_at=at + timedelta(hours=12),
                                        address="10.0.0.2"))
        # Revoked long ago, though it would have lasted: over too.
        db.session.add(LoginSession(token_hash="revoked", user_id=user, created_at=old,
                                    last_seen_at=old, expires_at=fresh + timedelta(days=90),
                                    revoked_at=old, revoked_reason="logout"))
        db.session.commit()
    answer = runner.invoke(main, ["purge"])
    assert answer.exit_code == 0, answer.output
    assert ("connexions 1, sessions 2, audit 1, synchronisations 1 ligne(s) supprimée(s)"
            in answer.output)
    with app.app_context():
        for table, at in ((LoginAttempt.__table__, LoginAttempt.at),
                          (LoginSession.__table__, LoginSession.created_at),
                          (AuditEvent.__table__, AuditEvent.at), (sync_log, sync_log.c.at)):
            kept = db.session.scalars(select(at).select_from(table)).all()
            assert kept and min(kept) > old + timedelta(days=1), table.name


def test_months_before_keeps_the_day_or_the_last_of_the_month():
    assert retention.months_before(date(2026, 12, 1), 24) == date(2024, 12, 1)
    assert retention.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert retention.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
