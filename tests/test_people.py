"""/personnes: a person's file as one timeline, a search, and files that may be one person."""

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import AuditEvent, Record
from outreach.people.models import PersonMerge
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, rencontre

SENIOR = {"niveau": "identifie", "alias_prenom": "Jeanne", "nom": "Martin",
          "date_naissance": "1938-04-02", "adresse": "12 rue des Lilas", "telephone": "0555000001",
          "consentement": True, "date_consentement": "2026-01-05"}
ALIAS = {"niveau": "alias", "alias_prenom": "Momo", "tranche_age": "de_41_a_60",
         "notes": "Accompagné d'un chien."}


@pytest.fixture
def field(app):
    for login, role in (("maraude", "maraude"), ("maraude2", "maraude"), ("vera", "visiteur"),
                        ("sophie", "travailleur_social"), ("claire", "coordinateur"),
                        ("admin", "admin")):
        add_user(app, login, role)
    return lambda login: Tablet(app.test_client(), login)


def test_an_alias_file_shows_no_address_and_its_encounters(app, field, auth, client):
    team = field("maraude")
    momo = item("personne", ALIAS)
    team.push(momo, item(data=rencontre(niveau="alias", personne=momo["id"],
                                        besoins=["hebergement"], orientations=["siao_115"])))
    auth.login("maraude2")  # the same team sees its known people
    page = client.get(f"/personnes/{momo['id']}").text
    assert "<h1>Momo</h1>" in page and "Alias" in page
    assert "Accompagné d&#39;un chien." in page
    assert "Historique (1)" in page and "Rencontre" in page and "115 / SIAO" in page


def test_an_identified_file_shows_identity_consent_timeline_and_alerts(app, field, auth,
                                                                        client):
    office = field("claire")
    jeanne = item("personne", SENIOR, form_version=2)
    office.push(jeanne)
    office.push(item("visite.visite", {"personne": jeanne["id"], "date": "2026-11-20",
                                       "mode": "domicile", "personne_vue": "oui",
                                       "alerte": "chute", "detail_alerte": "Chute au salon."}))
    auth.login("claire")
    page = client.get(f"/personnes/{jeanne['id']}").text
    assert "Jeanne Martin" in page and "12 rue des Lilas" in page and "02/04/1938" in page
    assert "consentement recueilli le 05/01/2026" in page
    assert "Alertes (1)" in page and "Chute" in page and "Nouvelle" in page
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.read"))
        assert event.target == jeanne["id"]


def test_a_field_worker_outside_the_person_s_work_gets_403(app, field, auth, client):
    momo = item("personne", ALIAS)
    field("maraude").push(momo)
    for role in ("vera", "sophie"):
        auth.login(role)
        assert client.get(f"/personnes/{momo['id']}").status_code == 403
        auth.logout()
    auth.login("admin")
    assert client.get(f"/personnes/{momo['id']}").status_code == 200


def test_an_unknown_person_is_not_found(field, auth, client):
    auth.login("claire")
    response = client.get("/personnes/6f1c2a34-8d7e-4b5a-9c01-000000000000")
    assert response.status_code == 404 and "Personne introuvable" in response.text


def test_search_by_alias_without_accents_age_band_and_place(app, field, auth, client):
    team = field("maraude")
    helene = item("personne", {"niveau": "alias", "alias_prenom": "Hélène",
                               "tranche_age": "de_61_a_75"})
    momo = item("personne", ALIAS)
    team.push(helene, momo, item(data=rencontre(niveau="alias", personne=momo["id"],
                                                lieu={"label": "Parking du marché",
                                                      "lat": None, "lon": None})))
    auth.login("maraude")
    assert "Hélène" in client.get("/personnes?q=helene").text
    assert "Momo" not in client.get("/personnes?q=helene").text
    by_band = client.get("/personnes?tranche=de_41_a_60").text
    assert "Momo" in by_band and "Hélène" not in by_band
    by_place = client.get("/personnes?lieu=marche").text
    assert "Momo" in by_place and "Hélène" not in by_place


def test_a_visiteur_finds_only_their_own_people(app, field, auth, client):
    field("maraude").push(item("personne", ALIAS))
    auth.login("vera")
    page = client.get("/personnes").text
    assert "Momo" not in page and "0 personne" in page


def test_two_files_for_one_person_are_suggested_to_the_office_only(app, field, auth, client):
    field("maraude").push(item("personne", ALIAS))
    field("maraude2").push(item("personne", ALIAS | {"alias_prenom": "MOMO"}))
    auth.login("claire")
    page = client.get("/personnes").text
    assert "Doublons possibles (1)" in page
    auth.logout()
    auth.login("maraude")
    assert "Doublons possibles" not in client.get("/personnes").text


@pytest.mark.parametrize("role", ["maraude", "visiteur", "travailleur_social", "coordinateur",
                                  "admin"])
def test_every_role_may_search_within_its_work(auth, client, role):
    auth.login(role)
    assert client.get("/personnes").status_code == 200


def test_no_session_no_person(client):
    response = client.get("/personnes")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


# --- Merging two files of one person, and undoing it ----------------------------------------


def two_files(field):
    """Momo, met by two agents of the team on two tablets, with one rencontre each."""
    first, second = item("personne", ALIAS), item("personne", ALIAS | {"alias_prenom": "MOMO"})
    field("maraude").push(first, item(data=rencontre(niveau="alias", personne=first["id"])))
    agent2 = field("maraude2")
    met = item(data=rencontre(niveau="alias", personne=second["id"]))
    agent2.push(second, met)
    return first["id"], second["id"], met["id"], agent2


def test_merging_moves_the_records_and_tablets_get_a_tombstone(app, field, auth, client):
    kept, merged, met, agent2 = two_files(field)
    cursor = agent2.pull()["cursor"]
    auth.login("claire")
    response = auth.post("/personnes/fusionner", {"garder": kept, "fusionner": merged},
                         follow_redirects=True)
    assert "Fiches fusionnées : 1 fiche rattachée à celle-ci." in response.text
    assert "Historique (2)" in response.text
    with app.app_context():
        moved = db.session.get(Record, met)
        assert (moved.data["personne"], moved.revision) == (kept, 2)
        assert db.session.get(Record, merged).deleted is True
    people = {p["id"]: p for p in agent2.pull(cursor)["people"]}
    assert people[merged] == {"id": merged, "deleted": True}
    assert client.get(f"/personnes/{merged}").status_code == 404


def test_a_merge_can_be_undone(app, field, auth, client):
    kept, merged, met, _ = two_files(field)
    auth.login("claire")
    auth.post("/personnes/fusionner", {"garder": kept, "fusionner": merged})
    with app.app_context():
        [done] = db.session.scalars(select(PersonMerge)).all()
    page = client.get(f"/personnes/{kept}").text
    assert "Annuler la fusion" in page
    response = auth.post(f"/personnes/fusions/{done.id}/annuler", follow_redirects=True)
    assert "Fusion annulée" in response.text
    with app.app_context():
        back = db.session.get(Record, met)
        assert (back.data["personne"], back.revision) == (merged, 3)
        assert db.session.get(Record, merged).deleted is False
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "person.merge" in actions and "person.merge_undo" in actions
    again = auth.post(f"/personnes/fusions/{done.id}/annuler", follow_redirects=True)
    assert "Cette fusion a déjà été annulée." in again.text


def test_a_merge_that_cannot_be_done_changes_nothing(app, field, auth, client):
    kept, merged, met, _ = two_files(field)
    auth.login("claire")
    same = auth.post("/personnes/fusionner", {"garder": kept, "fusionner": kept},
                     follow_redirects=True)
    assert "Rien n&#39;a changé : Choisissez deux fiches différentes." in same.text
    unknown = auth.post("/personnes/fusionner", {"garder": kept, "fusionner": "inconnue"},
                        follow_redirects=True)
    assert "Rien n&#39;a changé" in unknown.text
    with app.app_context():
        assert db.session.get(Record, met).revision == 1


@pytest.mark.parametrize("role", ["maraude", "visiteur", "travailleur_social"])
def test_only_the_office_merges(app, field, auth, client, role):
    kept, merged, met, _ = two_files(field)
    auth.login(role)
    assert auth.post("/personnes/fusionner",
                     {"garder": kept, "fusionner": merged}).status_code == 403
    with app.app_context():
        assert db.session.get(Record, merged).deleted is False
