"""/permanences: sessions planned in a calendar; a travailleur social's tablet receives them,
and the follow-up appointments given at accueils ("À venir")."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from outreach.db import db
from outreach.models import PlannedSession, ReferenceItem
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
        "starts": "09:00", "ends": "12:00", "notes": "Clé à la mairie."}
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
