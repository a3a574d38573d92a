"""/alertes: the coordinateur's inbox — new, taken in charge, closed — and what the field learns."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.alerts import age, alerts_for_pull
from outreach.db import db
from outreach.models import Alert, AuditEvent
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item

PERSON = "6f1c2a34-8d7e-4b5a-9c01-23456789abcd"
ROLES = ("maraude", "visiteur", "travailleur_social", "coordinateur", "admin")


def fall(**data):
    return item("visite.visite", {"personne": PERSON, "date": "2026-11-20", "mode": "domicile",
                                  "personne_vue": "oui", "alerte": "chute",
                                  "detail_alerte": "Chute au salon.", **data})


@pytest.fixture
def raised(app):
    """An alert raised by Vera's visite, the way it arrives: through a sync."""
    vera = add_user(app, "vera", "visiteur")
    tablet = Tablet(app.test_client(), "vera")
    record = fall()
    tablet.push(record)
    with app.app_context():
        alert = db.session.scalars(select(Alert)).one()
        return {"id": alert.id, "record": record, "tablet": tablet, "vera": vera}


def stored(app, alert_id):
    with app.app_context():
        found = db.session.get(Alert, alert_id)
        db.session.expunge(found)
        return found


def test_the_inbox_shows_a_new_alert_with_its_age_and_who_raised_it(app, raised, auth, client):
    auth.login("coordinateur")
    page = client.get("/alertes").text
    assert "Nouvelles (1)" in page and "Chute" in page and "Chute au salon." in page
    assert "par Vera" in page and "Signalée il y a" in page
    assert f'/fiches/{raised["record"]["id"]}' in page


def test_taking_then_closing_an_alert(app, raised, auth, client):
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/prendre")
    assert response.status_code == 302
    taken = stored(app, raised["id"])
    assert taken.status == "prise_en_charge" and taken.taken_at is not None
    assert "Prises en charge (1)" in client.get("/alertes").text
    response = auth.post(f"/alertes/{raised['id']}/clore",
                         {"outcome": "Fille prévenue, téléassistance installée."})
    assert response.status_code == 302
    closed = stored(app, raised["id"])
    assert closed.status == "close" and closed.outcome.startswith("Fille prévenue")
    assert closed.revision == 3 and closed.change_seq > taken.change_seq
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"alert.take", "alert.close"} <= actions


def test_closing_without_saying_what_was_done_changes_nothing(app, raised, auth, client):
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "  "})
    assert response.status_code == 400
    assert "Dites ce qui a été fait." in response.text
    assert stored(app, raised["id"]).status == "nouvelle"


def test_an_alert_taken_by_someone_else_is_not_taken_twice(app, raised, auth, client):
    auth.login("admin")
    auth.post(f"/alertes/{raised['id']}/prendre")
    auth.logout()
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/prendre", follow_redirects=True)
    assert "Cette alerte a déjà été prise en charge par Admin." in response.text
    assert stored(app, raised["id"]).taken_by == auth.user("admin")


def test_an_unknown_alert_is_not_found(app, raised, auth, client):
    auth.login("coordinateur")
    assert auth.post("/alertes/inconnue/prendre").status_code == 404


def test_the_summary_counts_the_new_alerts_for_polling(app, raised, auth, client):
    auth.login("coordinateur")
    summary = client.get("/api/v1/alerts/summary").json
    assert summary["new"] == 1 and summary["ids"] == [raised["id"]]
    auth.post(f"/alertes/{raised['id']}/prendre")
    assert client.get("/api/v1/alerts/summary").json["new"] == 0


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_has_the_inbox(app, raised, auth, client, role):
    auth.login(role)
    allowed = role in ("coordinateur", "admin")
    assert client.get("/alertes").status_code == (200 if allowed else 403)
    summary = client.get("/api/v1/alerts/summary")
    assert summary.status_code == (200 if allowed else 403) and summary.is_json
    if not allowed:
        assert auth.post(f"/alertes/{raised['id']}/prendre").status_code == 403
        assert auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "x"}).status_code == 403
        assert stored(app, raised["id"]).status == "nouvelle"


def test_no_session_no_alerts(client):
    assert client.get("/alertes").status_code == 302
    assert client.get("/api/v1/alerts/summary").status_code == 401


def test_the_person_who_raised_it_learns_what_became_of_it(app, raised, auth, client):
    first = raised["tablet"].pull()
    [mine] = first["alerts"]
    assert (mine["id"], mine["data"]["status"], mine["data"]["kind_label"]) == (
        raised["id"], "nouvelle", "Chute")
    auth.login("coordinateur")
    auth.post(f"/alertes/{raised['id']}/prendre")
    [changed] = raised["tablet"].pull(first["cursor"])["alerts"]
    assert changed["data"]["status"] == "prise_en_charge"
    assert changed["data"]["taken_by_name"] == "Coordinateur"
    with app.app_context():
        assert alerts_for_pull(db.session, auth.user("coordinateur"), 0, 10**9) == []


def test_ages_read_as_people_say_them():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert age(now - timedelta(seconds=20), now) == "à l'instant"
    assert age(now - timedelta(minutes=5), now) == "il y a 5 min"
    assert age(now - timedelta(hours=3), now) == "il y a 3 h"
    assert age(now - timedelta(days=2), now) == "il y a 2 jours"
