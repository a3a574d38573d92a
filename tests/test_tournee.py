"""/tournees/<id>: a round with its rencontres; closing it fills its count from them."""

import pytest

from outreach.core.db import db
from outreach.core.models import Record
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, rencontre

TOURNEE = {"date": "2026-11-20", "heure_depart": "20:30", "secteur": "Gare et quais",
           "equipe": "Léa, Sami"}


@pytest.fixture
def round_(app):
    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    add_user(app, "vera", "visiteur")
    tablet = Tablet(app.test_client(), "lea")
    tournee = item("maraude.tournee", TOURNEE)
    tablet.push(tournee,
                item(data=rencontre(nombre_personnes=3, femmes=1, hommes=2,
                                    prestations=["boisson_chaude", "duvet"]),
                     parent_id=tournee["id"]),
                item(data=rencontre(nombre_personnes=1, prestations=["boisson_chaude"],
                                    situation_urgente=True, detail_urgence="115 appelé."),
                     parent_id=tournee["id"]))
    return tournee["id"]


def stored(app, ident):
    with app.app_context():
        found = db.session.get(Record, ident)
        db.session.expunge(found)
        return found


def test_the_round_adds_up_its_rencontres(app, round_, auth, client):
    auth.login("sami")  # the team shares its rounds
    page = client.get(f"/tournees/{round_}").text
    assert "2</strong> rencontres" in page
    assert "4</strong> personnes (1 femme, 2 hommes, 1 non précisé)" in page
    # Once for each person of the rencontre, as the figures count them: 3 + 1, and 3 duvets.
    assert "Boisson chaude × 4" in page and "× 3" in page
    assert "1</strong> situation urgente" in page
    assert "Clore la tournée" in page, "any agent of the team closes a team round"


def test_closing_sets_the_return_time_and_the_count(app, round_, auth, client):
    auth.login("lea")
    response = auth.post(f"/tournees/{round_}", {"heure_retour": "23:45", "revision": "1"},
                         follow_redirects=True)
    assert "Tournée close : 4 personnes rencontrées." in response.text
    closed = stored(app, round_)
    assert (closed.revision, closed.data["heure_retour"], closed.data["nombre_personnes"]) == (
        2, "23:45", 4)


def test_a_closed_tournee_leaves_en_cours_and_is_not_offered_to_close_again(app, auth):
    from datetime import UTC, datetime

    add_user(app, "lea", "maraude")
    tablet = Tablet(app.test_client(), "lea")
    now = datetime.now(UTC)
    tournee = item("maraude.tournee", {**TOURNEE, "date": now.date().isoformat()},
                   recorded_at=now.isoformat())
    tablet.push(tournee)
    auth.login("lea")
    new_rencontre = f"/saisie/maraude.rencontre?parent={tournee['id']}"
    home = auth.client.get("/").text
    assert 'id="en-cours"' in home and new_rencontre in home
    assert "Clore la tournée" in auth.client.get(f"/tournees/{tournee['id']}").text

    auth.post(f"/tournees/{tournee['id']}", {"heure_retour": "23:45", "revision": "1"})
    home = auth.client.get("/").text
    assert 'id="en-cours"' not in home and new_rencontre not in home
    page = auth.client.get(f"/tournees/{tournee['id']}").text
    assert "Tournée close (retour 23:45) : 0 personnes rencontrées." in page
    assert "Clore la tournée" not in page and "Nouvelle rencontre" not in page
    assert f"/tournees/{tournee['id']}" not in home  # nor kept for offline use any more


def test_a_bad_return_time_is_refused_and_nothing_changes(app, round_, auth, client):
    auth.login("lea")
    response = auth.post(f"/tournees/{round_}", {"heure_retour": "25h", "revision": "1"})
    assert response.status_code == 400 and "Heure attendue (HH:MM)." in response.text
    assert stored(app, round_).revision == 1


def test_other_services_do_not_see_the_round(app, round_, auth, client):
    auth.login("vera")
    assert client.get(f"/tournees/{round_}").status_code == 403
    auth.logout()
    auth.login("coordinateur")
    assert client.get(f"/tournees/{round_}").status_code == 200
    assert client.get("/tournees/inconnue").status_code == 404


def test_a_tournee_planned_ahead_is_on_every_team_member_s_home_until_it_is_closed(app, auth):
    from datetime import timedelta

    add_user(app, "lea", "maraude")
    add_user(app, "hugo", "maraude")
    with app.app_context():
        from outreach.core.clock import today  # the CCAS's day, not the machine's (past 23:00 UTC)

        local_today = today()
    tomorrow = (local_today + timedelta(days=1)).isoformat()
    far = (local_today + timedelta(days=30)).isoformat()
    auth.user("coordinateur")
    office = Tablet(app.test_client(), "coordinateur")
    planned = item("maraude.tournee", {**TOURNEE, "date": tomorrow, "secteur": "Canal",
                                       "equipe": "Léa, Hugo"})
    closed = item("maraude.tournee", {**TOURNEE, "date": local_today.isoformat(),
                                      "secteur": "Fermée", "heure_retour": "23:00"})
    later = item("maraude.tournee", {**TOURNEE, "date": far, "secteur": "Plus tard"})
    office.push(planned, closed, later)
    auth.login("hugo")
    home = auth.client.get("/").text
    assert "Prévue" in home and "Canal" in home and "équipe : Léa, Hugo" in home
    assert f"/saisie/maraude.rencontre?parent={planned['id']}" in home
    assert f"/saisie/maraude.rencontre/rapide?parent={planned['id']}" in home
    assert "Fermée" not in home and "Plus tard" not in home
    # A visiteur has no rounds: nothing of the maraude on their home.
    add_user(app, "vera", "visiteur")
    auth.logout()
    auth.login("vera")
    assert "Canal" not in auth.client.get("/").text
