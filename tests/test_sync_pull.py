"""Pull (DESIGN §4, §9): what a person may have offline, incrementally, filtered by role."""

import pytest
from sqlalchemy import update

from outreach.core.db import db
from outreach.core.models import ReferenceItem
from sync import sequence
from sync.schema import record, sync_log
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, personne


@pytest.fixture
def agents(app):
    for login, role in (("maraude", "maraude"), ("maraude2", "maraude"),
                        ("visiteur", "visiteur"), ("visiteur2", "visiteur"),
                        ("social", "travailleur_social"), ("coordinateur", "coordinateur")):
        add_user(app, login, role)
    return lambda login: Tablet(app.test_client(), login)


def test_first_pull_gives_forms_reference_and_people(app, agents):
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls"))
        db.session.commit()
    agent = agents("maraude")
    made = item("personne", personne(alias_prenom="Jojo"))
    agent.push(made)
    answer = agent.pull()
    # Every field role records the calls of an alert plan (plan.appel).
    assert {f["key"] for f in answer["forms"]} == {"maraude.tournee", "maraude.rencontre",
                                                   "personne", "maraude.lieu", "plan.appel"}
    assert answer["reference"] == {"sites": [{"value": "tilleuls",
                                              "label": "Centre social des Tilleuls"}]}
    assert answer["people"] == [{"id": made["id"], "revision": 1, "data": made["data"]}]
    assert answer["more"] is False and answer["cursor"]


def test_incremental_pull_sends_only_what_changed(app, agents):
    agent = agents("maraude")
    first, second = item("personne"), item("personne", personne(alias_prenom="Lulu"))
    agent.push(first)
    cursor = agent.pull()["cursor"]
    nothing = agent.pull(cursor)
    assert nothing["people"] == [] and nothing["forms"] == [] and nothing["reference"] == {}
    agent.push(second, {**first, "base_revision": 1, "data": personne(alias_prenom="Momo B.")})
    changed = agent.pull(nothing["cursor"])
    assert [(p["id"], p["revision"]) for p in changed["people"]] == [
        (second["id"], 1), (first["id"], 2)]


def test_pages_of_bounded_size_with_more(app, agents):
    agent = agents("maraude")
    sent = [item("personne", personne(alias_prenom=f"P{n}")) for n in range(7)]
    agent.push(*sent)
    from sync.pull import build_pull
    from sync.push import Actor

    seen, cursor, pages = [], None, 0
    with app.app_context():
        while True:
            page = build_pull(db.session, Actor(1, "maraude"), cursor, [], {}, page_size=3)
            seen += [p["id"] for p in page["people"]]
            cursor, pages = page["cursor"], pages + 1
            if not page["more"]:
                break
    assert pages == 3 and seen == [s["id"] for s in sent]


def test_tombstone_for_a_removed_person(app, agents):
    agent = agents("maraude")
    made = item("personne")
    agent.push(made)
    cursor = agent.pull()["cursor"]
    with app.app_context():
        seq = sequence.reserve(db.session, 1)
        db.session.execute(update(record).where(record.c.id == made["id"])
                           .values(deleted=True, change_seq=seq))
        db.session.commit()
    assert agent.pull(cursor)["people"] == [{"id": made["id"], "deleted": True}]


def test_role_filtering(app, agents):
    maraude, maraude2 = agents("maraude"), agents("maraude2")
    visiteur, visiteur2 = agents("visiteur"), agents("visiteur2")
    alias = item("personne", personne(alias_prenom="Tonio"))
    maraude.push(alias)
    senior = item("personne", {"niveau": "identifie", "alias_prenom": "Jeanne", "nom": "Roux"})
    visiteur.push(senior)
    visit = item("visite.visite", {"personne": senior["id"], "date": "2026-11-20",
                                   "mode": "domicile", "personne_vue": "oui", "alerte": "aucune"})
    visiteur.push(visit)

    def people(tablet):
        return {p["id"] for p in tablet.pull()["people"]}

    assert people(maraude2) == {alias["id"]}, "a maraude team shares its known people"
    assert people(visiteur) == {senior["id"]}
    assert people(visiteur2) == set(), "a visiteur never receives another visiteur's people"
    assert people(agents("social")) == set()
    # An office tablet carries only the people of its own records (DESIGN §9), not the service.
    coordinateur = agents("coordinateur")
    assert people(coordinateur) == set()
    coordinateur.push(item("visite.visite", {"personne": senior["id"], "date": "2026-11-21",
                                             "mode": "telephone", "personne_vue": "oui",
                                             "alerte": "aucune"}))
    assert people(coordinateur) == {senior["id"]}
    forms = {f["key"] for f in maraude.pull()["forms"]}
    assert "visite.visite" not in forms, "a maraude agent never receives the visits"


def test_naming_a_person_outside_my_work_does_not_make_them_mine(app, agents):
    # Issue 14, finding 1: the old rule gave a person to whoever named them in a record.
    social, other = agents("social"), agents("maraude")
    known = item("personne", personne(alias_prenom="Sami"))
    other.push(known)
    accueil = item("permanence.accueil", {"niveau": "alias", "personne": known["id"],
                                          "nombre_personnes": 1, "motifs": ["logement"]})
    [result] = social.push(accueil)
    assert result["status"] == "rejected" and "personne" in result["errors"]
    assert social.pull()["people"] == []
    mine = item("personne", personne(alias_prenom="Lina"))
    social.push(mine)
    received = item("permanence.accueil", {"niveau": "alias", "personne": mine["id"],
                                           "nombre_personnes": 1, "motifs": ["logement"]})
    assert social.push(received)[0]["status"] == "created"
    assert [p["id"] for p in social.pull()["people"]] == [mine["id"]]


def test_bad_cursor_and_bad_device_are_400(agents):
    agent = agents("maraude")
    for query in ({"cursor": "n'importe quoi"}, {"device_id": "pas-un-uuid"}):
        answer = agent.client.get("/api/v1/sync/pull", query_string=query)
        assert answer.status_code == 400 and answer.json["error"]


def test_pull_is_logged_and_needs_a_session(app, agents):
    agents("maraude").pull()
    with app.app_context():
        assert db.session.execute(sync_log.select()).one().kind == "pull"
    anonymous = app.test_client().get("/api/v1/sync/pull")
    assert anonymous.status_code == 401


def test_push_answers_the_pull_cursor_after_the_batch(app, agents):
    agent = agents("maraude")
    cursor = agent.pull()["cursor"]
    answer = agent.push_raw({"device_id": agent.device_id, "records": [item("personne")]})
    after = answer.json["cursor"]
    assert after != cursor
    assert agent.pull(after)["people"] == []


def test_large_answers_are_gzip_compressed(agents):
    agent = agents("maraude")
    answer = agent.client.get("/api/v1/sync/pull", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["Content-Encoding"] == "gzip"
    import gzip
    import json

    assert json.loads(gzip.decompress(answer.data))["forms"]
