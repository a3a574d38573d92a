"""/modifier/<id>: changing a stored record, sent with the revision it was read at."""

import pytest
from conftest import add_user
from sqlalchemy import select
from test_entry import POSTED, STORED, Page

from outreach.core.db import db
from outreach.core.models import Record
from sync.schema import record_conflict, record_revision


def _make(auth, client, role="maraude", key="maraude.tournee") -> str:
    auth.login(role)
    response = auth.post(f"/saisie/{key}", POSTED[key])
    assert response.status_code == 302
    with auth.app.app_context():
        return db.session.scalars(select(Record.id).where(Record.form == key)).one()


def _stored(app, record_id):
    with app.app_context():
        found = db.session.get(Record, record_id)
        db.session.expunge(found)
        return found


def test_the_author_sees_the_record_filled_with_its_revision(app, auth, client):
    record_id = _make(auth, client)
    page = Page(client.get(f"/modifier/{record_id}").text)
    assert page.find("input", name="secteur")[0][1]["value"] == "Gare et quais"
    assert page.find("input", name="base_revision")[0][1]["value"] == "1"
    form = page.find("form", class_="record-form")[0][1]
    assert form["data-record-id"] == record_id
    assert form["data-base-revision"] == "1"
    assert "Modification de la fiche du" in client.get(f"/modifier/{record_id}").text


def test_a_change_is_stored_as_a_new_revision_and_the_old_one_kept(app, auth, client):
    record_id = _make(auth, client)
    recorded_at = _stored(app, record_id).recorded_at
    changed = {**POSTED["maraude.tournee"], "secteur": "Centre-ville", "base_revision": "1"}
    response = auth.post(f"/modifier/{record_id}", changed)
    assert response.status_code == 302
    stored = _stored(app, record_id)
    assert stored.revision == 2
    assert stored.data == {**STORED["maraude.tournee"], "secteur": "Centre-ville"}
    with app.app_context():
        history = db.session.execute(select(record_revision)).mappings().one()
    assert history["revision"] == 1 and history["data"]["secteur"] == "Gare et quais"
    # The encounter keeps its time: only the change is new.
    assert stored.recorded_at == recorded_at


def test_a_change_made_meanwhile_is_a_conflict_never_an_overwrite(app, auth, client):
    record_id = _make(auth, client)
    stale = {**POSTED["maraude.tournee"], "base_revision": "1"}
    assert auth.post(f"/modifier/{record_id}", {**stale, "secteur": "Nord"}).status_code == 302
    response = auth.post(f"/modifier/{record_id}", {**stale, "secteur": "Sud"})
    assert response.status_code == 409
    assert "modifiée entre-temps" in response.text
    assert _stored(app, record_id).data["secteur"] == "Nord"
    with app.app_context():
        kept = db.session.execute(select(record_conflict)).mappings().one()
    assert kept["data"]["secteur"] == "Sud"


def test_a_bad_change_is_refused_in_french_and_nothing_changes(app, auth, client):
    record_id = _make(auth, client)
    bad = {**POSTED["maraude.tournee"], "heure_depart": "25:00", "base_revision": "1"}
    response = auth.post(f"/modifier/{record_id}", bad)
    assert response.status_code == 400
    assert "Cette heure n&#39;existe pas." in response.text
    assert _stored(app, record_id).revision == 1


def test_a_team_mate_may_change_the_team_s_tournee_another_service_may_not(app, auth, client):
    record_id = _make(auth, client)
    auth.logout()
    add_user(app, "maraude2", "maraude")
    auth.login("maraude2")  # a maraude team shares its rounds: any agent closes one
    assert client.get(f"/modifier/{record_id}").status_code == 200
    auth.logout()
    add_user(app, "vera", "visiteur")
    auth.login("vera")
    assert client.get(f"/modifier/{record_id}").status_code == 403
    assert auth.post(f"/modifier/{record_id}", POSTED["maraude.tournee"]).status_code == 403
    assert _stored(app, record_id).revision == 1


@pytest.mark.parametrize("role, status", [("coordinateur", 200), ("admin", 200),
                                          ("visiteur", 403), ("travailleur_social", 403)])
def test_the_office_may_change_any_record_and_other_roles_none(app, auth, client, role, status):
    record_id = _make(auth, client)
    auth.logout()
    auth.login(role)
    assert client.get(f"/modifier/{record_id}").status_code == status


def test_an_unknown_record_is_not_found(app, auth, client):
    auth.login("maraude")
    response = client.get("/modifier/6f1c2a34-8d7e-4b5a-9c01-000000000000")
    assert response.status_code == 404
    assert "Fiche introuvable" in response.text


def test_the_home_page_offers_to_change_ones_last_records(app, auth, client):
    record_id = _make(auth, client)
    assert f'href="/modifier/{record_id}"' in client.get("/").text
