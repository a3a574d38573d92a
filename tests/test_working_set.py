"""The pull's domain kinds: a visiteur's seniors ("visits") and the alerts one raised, under the
same cursor as people; a senior given to another visiteur leaves the first one's tablet."""

from datetime import date, timedelta

import pytest

from outreach.core import catalog, signals
from outreach.core.db import db
from outreach.core.models import User
from outreach.visits import planning
from sync.pull import build_pull
from sync.push import Actor
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item

TODAY = date.today()


def senior_data(alias="Jeanne", nom="Martin"):
    return {"niveau": "identifie", "alias_prenom": alias, "nom": nom, "consentement": True,
            "date_consentement": "2026-01-05", "adresse": "12 rue des Lilas"}


def visite(person, day, **data):
    return {"personne": person, "date": day.isoformat(), "mode": "domicile",
            "personne_vue": "oui", "alerte": "aucune", **data}


@pytest.fixture
def office(app):
    ids = {login: add_user(app, login, role) for login, role in (
        ("vera", "visiteur"), ("victor", "visiteur"), ("claire", "coordinateur"))}
    tablets = {login: Tablet(app.test_client(), login) for login in ids}
    made = item("personne", senior_data(), form_version=2)
    assert tablets["claire"].push(made)[0]["status"] == "created"

    class Office:
        senior = made["id"]

        def assign(self, login, starts_on=TODAY, rhythm="hebdomadaire"):
            with app.app_context():
                row = planning.assign(db.session, self.senior, ids[login], rhythm, "domicile",
                                      starts_on, ids["claire"])
                db.session.commit()
                return row.id

    office = Office()
    office.ids, office.tablets = ids, tablets
    return office


def test_a_visiteur_receives_their_seniors_and_never_another_s(office):
    office.assign("vera")
    vera, victor = office.tablets["vera"].pull(), office.tablets["victor"].pull()
    assert [p["id"] for p in vera["people"]] == [office.senior]
    assert vera["people"][0]["data"]["adresse"] == "12 rue des Lilas"
    [visit] = vera["visits"]
    assert visit["data"]["person_id"] == office.senior
    assert visit["data"]["next_due"] == TODAY.isoformat()
    assert visit["data"]["rhythm_label"] == "Chaque semaine"
    assert victor["people"] == [] and victor["visits"] == []


def test_a_senior_given_to_another_visiteur_leaves_the_first_tablet(app, office):
    assignment = office.assign("vera")
    cursor = office.tablets["vera"].pull()["cursor"]
    with app.app_context():
        from outreach.visits.models import VisitAssignment

        planning.reassign(db.session, db.session.get(VisitAssignment, assignment),
                          office.ids["victor"], office.ids["claire"])
        db.session.commit()
    after = office.tablets["vera"].pull(cursor)
    assert after["people"] == [{"id": office.senior, "deleted": True}]
    assert after["visits"] == [{"id": assignment, "deleted": True}]
    victor = office.tablets["victor"].pull()
    assert [p["id"] for p in victor["people"]] == [office.senior]
    assert len(victor["visits"]) == 1


def test_a_visite_moves_the_next_one_and_every_visiteur_reads_its_notes(office):
    office.assign("vera", starts_on=TODAY - timedelta(days=10))
    office.assign("victor", starts_on=TODAY - timedelta(days=3), rhythm="quinzaine")
    cursors = {login: office.tablets[login].pull()["cursor"] for login in ("vera", "victor")}
    day = TODAY - timedelta(days=1)
    office.tablets["vera"].push(item("visite.visite", visite(
        office.senior, day, notes="Contente de la visite.", etat_general="bon")))
    [vera] = office.tablets["vera"].pull(cursors["vera"])["visits"]
    assert vera["data"]["next_due"] == (day + timedelta(days=7)).isoformat()
    shown = dict(vera["data"]["last_visit"]["shown"])
    assert shown["Notes"] == "Contente de la visite." and shown["État général"] == "Bon"
    assert "Alerte" not in shown, "no alert says nothing"
    [victor] = office.tablets["victor"].pull(cursors["victor"])["visits"]
    # Victor's own rhythm does not move for Vera's visit, but he reads its notes.
    assert victor["data"]["next_due"] == (TODAY - timedelta(days=3)).isoformat()
    assert victor["data"]["last_visit"]["by"] == "Vera"


def test_the_next_visit_asked_at_the_visit_wins_over_the_rhythm(office):
    office.assign("vera")
    asked = TODAY + timedelta(days=3)
    office.tablets["vera"].push(item("visite.visite", visite(
        office.senior, TODAY, prochaine_visite=asked.isoformat())))
    [visit] = office.tablets["vera"].pull()["visits"]
    assert visit["data"]["next_due"] == asked.isoformat()


def test_kinds_share_one_cursor_and_small_pages_lose_nothing(app, office):
    office.assign("vera")
    tablet = office.tablets["vera"]
    for number in range(4):
        tablet.push(item("visite.visite", visite(office.senior, TODAY - timedelta(days=number),
                                                 alerte="chute")))
        tablet.push(item("personne", senior_data(alias=f"Voisin {number}")))
    with app.app_context():
        actor = Actor(id=office.ids["vera"], role="visiteur", office=False)
        user = db.session.get(User, office.ids["vera"])
        seen = {"people": [], "visits": [], "alerts": []}
        cursor, pages = None, 0
        while True:
            page = build_pull(db.session, actor, cursor, catalog.offline_forms(user),
                              catalog.offline_reference(), page_size=2,
                              kinds=signals.every_pull_kind())
            for kind in seen:
                seen[kind] += [entry["id"] for entry in page[kind]]
            pages += 1
            cursor = page["cursor"]
            if not page["more"]:
                break
    assert pages > 3
    assert len(set(seen["people"])) == 5
    assert len(set(seen["alerts"])) == 4
    assert len(set(seen["visits"])) == 1


def test_a_maraude_team_knows_when_and_where_each_person_was_last_met(app):
    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    add_user(app, "vera", "visiteur")
    from tests.sync_helpers import rencontre

    sami = Tablet(app.test_client(), "sami")
    momo = item("personne", {"niveau": "alias", "alias_prenom": "Momo"})
    sami.push(momo, item(data=rencontre(niveau="alias", personne=momo["id"],
                                        besoins=["hebergement"], prestations=["duvet"])))
    lea = Tablet(app.test_client(), "lea")
    first = lea.pull()
    [met] = first["encounters"]
    assert met["id"] == momo["id"]
    assert (met["data"]["lieu"], met["data"]["besoins"], met["data"]["prestations"]) == (
        "Parvis de la gare", ["Hébergement / mise à l'abri"], ["Duvet / couverture"])
    later = item(data=rencontre(niveau="alias", personne=momo["id"], besoins=["sante"],
                                lieu={"label": "Square Jean-Moulin", "lat": None, "lon": None}),
                 recorded_at="2026-11-21T21:00:00+00:00")
    sami.push(later)
    [again] = lea.pull(first["cursor"])["encounters"]
    assert again["data"]["lieu"] == "Square Jean-Moulin"
    assert Tablet(app.test_client(), "vera").pull()["encounters"] == []
