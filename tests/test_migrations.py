"""Migrations of tables that already hold rows keep them, both ways, on both engines; one that
changes what the figures' summary holds makes the next run sum it up again."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from outreach.core.db import MIGRATIONS, db
from outreach.figures import facts
from outreach.figures.models import ActivityFact
from tests.sync_helpers import Tablet, item, personne, rencontre

PARIS = ZoneInfo("Europe/Paris")

CHOICE = ("INSERT INTO activity_choice (record_id, form, field, value, day, weight) "
          "VALUES ('r1', 'maraude.rencontre', 'prestations', 'repas', '2026-01-02', 2)")
COLUMNS = "SELECT record_id, form, field, value, weight FROM activity_choice"


def migrate(step, revision: str) -> None:
    db.session.remove()  # PostgreSQL: no open transaction may hold the tables being moved
    step(directory=MIGRATIONS, revision=revision)


def test_the_choices_lose_their_surrogate_id_and_keep_their_rows(app):
    with app.app_context():
        migrate(downgrade, "0011")
        db.session.execute(text(CHOICE))
        db.session.commit()
        migrate(upgrade, "0012")
        assert db.session.execute(text(COLUMNS)).all() == [
            ("r1", "maraude.rencontre", "prestations", "repas", 2)]
        columns = db.session.execute(text("SELECT * FROM activity_choice")).keys()
        assert "id" not in columns
        migrate(downgrade, "0011")
        assert db.session.execute(text("SELECT id FROM activity_choice")).scalars().all() \
            == [1]
        migrate(upgrade, "head")
        assert db.session.execute(text(COLUMNS)).all() == [
            ("r1", "maraude.rencontre", "prestations", "repas", 2)]


def test_the_facts_gain_their_author_and_are_summed_up_again_at_the_next_run(app, auth):
    auth.login("coordinateur")
    tablet = Tablet(app.test_client(), "coordinateur")
    tournee = item("maraude.tournee", {"date": "2026-11-20", "heure_depart": "20:30",
                                       "secteur": "Gare", "equipe": "Léa"})
    tablet.push(tournee, item(data=rencontre(nombre_personnes=2), parent_id=tournee["id"]))
    with app.app_context():
        facts.catch_up(db.session, PARIS)
        migrate(downgrade, "0012")
        assert "recorded_by" not in db.session.execute(
            text("SELECT * FROM activity_fact")).keys()
        migrate(upgrade, "0013")
        assert db.session.execute(text(
            "SELECT value FROM app_state WHERE key = 'facts_seq'")).scalar() == "0"
        assert db.session.execute(text(
            "SELECT count(*) FROM activity_fact WHERE recorded_by IS NULL")).scalar() == 2
        migrate(upgrade, "head")
        facts.catch_up(db.session, PARIS)
        authors = set(db.session.scalars(select(ActivityFact.recorded_by)))
        assert len(authors) == 1 and None not in authors


def test_the_people_by_month_are_filled_at_the_next_run(app, auth):
    auth.login("coordinateur")
    tablet = Tablet(app.test_client(), "coordinateur")
    tournee = item("maraude.tournee", {"date": "2026-11-20", "heure_depart": "20:30",
                                       "secteur": "Gare", "equipe": "Léa"})
    person = item("personne", personne())
    tablet.push(tournee, person, item(data=rencontre(niveau="alias", personne=person["id"]),
                                      parent_id=tournee["id"]))
    with app.app_context():
        facts.catch_up(db.session, PARIS)
        migrate(downgrade, "0013")
        assert "activity_person_month" not in db.inspect(db.engine).get_table_names()
        migrate(upgrade, "0014")
        assert db.session.execute(text(
            "SELECT value FROM app_state WHERE key = 'facts_seq'")).scalar() == "0"
        migrate(upgrade, "head")
        facts.catch_up(db.session, PARIS)
        assert db.session.execute(text(
            "SELECT form, month, person_id, records FROM activity_person_month")).all() == [
            ("maraude.rencontre", "2026-11", person["id"], 1)]
