"""/permanences: sessions planned in a calendar; a travailleur social's tablet receives them,
and the follow-up appointments given at accueils ("À venir")."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record, ReferenceItem
from outreach.permanences.models import PlannedSession
from outreach.permanences.views import SECOND_SESSION, record_id
from sync.schema import quarantine
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item

TOMORROW = date.today() + timedelta(days=1)
ROLES = ("maraude", "visiteur", "travailleur_social", "coordinateur", "admin")


@pytest.fixture
def office(app, auth):
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls",
                                     details="2 rue des Tilleuls, salle du fond"))
        db.session.commit()
    sophie = add_user(app, "sophie", "travailleur_social")
    auth.login("coordinateur")
    return {"sophie": sophie}


def form(office, **changes):
    return {"site": "tilleuls", "date": TOMORROW.isoformat(), "debut": "09:00", "fin": "12:00",
            "travailleur": str(office["sophie"]), "notes": "Clé à la mairie.", **changes}


def planned(app):
    with app.app_context():
        found = list(db.session.scalars(select(PlannedSession)))
        db.session.expunge_all()
        return found


def test_a_planned_session_reaches_the_worker_s_tablet_and_a_cancel_removes_it(app, office,
                                                                                auth, client):
    response = auth.post("/permanences", form(office), follow_redirects=True)
    assert "Permanence planifiée le" in response.text and "pour Sophie." in response.text
    tablet = Tablet(app.test_client(), "sophie")
    first = tablet.pull()
    [session] = first["sessions"]
    assert session["data"] == {
        "site": "tilleuls", "site_label": "Centre social des Tilleuls",
        "site_details": "2 rue des Tilleuls, salle du fond", "date": TOMORROW.isoformat(),
        "starts": "09:00", "ends": "12:00", "notes": "Clé à la mairie.",
        # Issue 15: the id its session record takes, and whether it is held already.
        "record_id": record_id(session["id"]), "held": False}
    [row] = planned(app)
    auth.post(f"/permanences/{row.id}/annuler")
    assert tablet.pull(first["cursor"])["sessions"] == [{"id": row.id, "deleted": True}]


@pytest.mark.parametrize("change, field, message", [
    ({"site": "lune"}, "site", "Choisissez un site."),
    ({"date": "2026-02-30"}, "date", "Date invalide (AAAA-MM-JJ)."),
    ({"date": "2000-01-01"}, "date", "Une permanence se planifie à partir d&#39;aujourd&#39;hui."),
    ({"debut": "9h"}, "debut", "Heure attendue (HH:MM)."),
    ({"fin": "08:00"}, "fin", "La fin vient après le début."),
    ({"travailleur": ""}, "travailleur", "Choisissez un travailleur social."),
])
def test_each_bad_answer_is_said_beside_its_field(app, office, auth, change, field, message):
    response = auth.post("/permanences", form(office, **change))
    assert response.status_code == 400
    assert f'<p class="error" id="erreur-{field}">{message}</p>' in response.text
    assert planned(app) == []


def session(planned_id: str | None = None, **data) -> dict:
    """Return a permanence.session record: the planned one's id when it is given."""
    found = item("permanence.session", {"site": "tilleuls", "date": TOMORROW.isoformat(),
                                        "heure_debut": "09:00", "intervenants": "Sophie",
                                        **data})
    if planned_id:
        found["id"] = record_id(planned_id)
    return found


def test_a_session_held_once_is_offered_to_resume_and_never_made_twice(app, office, auth):
    auth.post("/permanences", form(office))
    [row] = planned(app)
    tablet = Tablet(app.test_client(), "sophie")
    first = tablet.pull()
    [offered] = first["sessions"]
    assert (offered["data"]["record_id"], offered["data"]["held"]) == (record_id(row.id), False)

    held = session(row.id)
    assert [r["status"] for r in tablet.push(held)] == ["created"]
    # The tablet hears that the session is held, under the id it will add its accueils to.
    [again] = tablet.pull(first["cursor"])["sessions"]
    assert (again["data"]["record_id"], again["data"]["held"]) == (held["id"], True)
    assert " · tenue" in auth.client.get("/permanences").text

    # A second session for the same site, day and agent, under another id: refused, kept.
    [second] = tablet.push(session(intervenants="Sophie et Marc"))
    assert (second["status"], second["errors"]) == ("rejected", {"_schema": [SECOND_SESSION]})
    # The same session again, or changed, is that session, never a second one.
    assert tablet.push(held)[0]["status"] == "unchanged"
    changed = {**held, "data": {**held["data"], "nombre_personnes": 4}, "base_revision": 1}
    assert tablet.push(changed)[0]["status"] == "updated"
    with app.app_context():
        sessions = db.session.scalars(select(Record).where(Record.form == "permanence.session"))
        assert [s.id for s in sessions] == [held["id"]]
        [kept] = db.session.execute(select(quarantine.c.record_id, quarantine.c.status)).all()
        assert kept == (second["id"], "open")


def test_another_worker_s_session_at_the_same_site_and_day_is_theirs(app, office):
    add_user(app, "samia", "travailleur_social")
    assert Tablet(app.test_client(), "sophie").push(session())[0]["status"] == "created"
    assert Tablet(app.test_client(), "samia").push(session())[0]["status"] == "created"


def test_a_second_session_for_the_same_site_day_and_worker_is_not_planned(app, office, auth):
    auth.post("/permanences", form(office))
    response = auth.post("/permanences", form(office, debut="14:00", fin="17:00"))
    assert response.status_code == 400
    assert ('<p class="error" id="erreur-date">Sophie a déjà une permanence à ce site ce '
            'jour-là.</p>') in response.text
    assert len(planned(app)) == 1


def test_follow_up_appointments_reach_the_worker_s_tablet(app, office):
    tablet = Tablet(app.test_client(), "sophie")
    later = (date.today() + timedelta(days=14)).isoformat()
    tablet.push(item("permanence.accueil", {
        "niveau": "anonyme", "nombre_personnes": 1, "motifs": ["logement", "energie"],
        "rendez_vous_suivi": later}),
        item("permanence.accueil", {"niveau": "anonyme", "nombre_personnes": 1,
                                    "motifs": ["budget"]}))
    [appointment] = [a for a in tablet.pull()["appointments"] if not a.get("deleted")]
    assert appointment["data"]["date"] == later
    assert appointment["data"]["motifs"] == ["Logement", "Énergie (factures)"]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_plans_sessions(app, office, auth, client, role):
    auth.logout()
    auth.login(role)
    allowed = role in ("coordinateur", "admin")
    assert client.get("/permanences").status_code == (200 if allowed else 403)
    if not allowed:
        assert auth.post("/permanences", form(office)).status_code == 403
        assert planned(app) == []
