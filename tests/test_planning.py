"""/planning: seniors given to visiteurs, the weeks done, planned and missed, and reassignment."""

from datetime import date

import pytest
from sqlalchemy import select

from outreach import planning
from outreach.db import db
from outreach.models import AccessChange, VisitAssignment
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item

TODAY = date(2026, 11, 25)  # a Wednesday
ROLES = ("maraude", "visiteur", "travailleur_social", "coordinateur", "admin")


@pytest.fixture
def office(app, auth, monkeypatch):
    monkeypatch.setattr(planning, "today", lambda: TODAY)
    ids = {login: add_user(app, login, "visiteur") for login in ("vera", "victor")}
    ids["gone"] = add_user(app, "gone", "visiteur", active=False)
    auth.login("coordinateur")
    senior = item("personne", {"niveau": "identifie", "alias_prenom": "Jeanne",
                               "nom": "Martin", "consentement": True,
                               "date_consentement": "2026-01-05"}, form_version=2)
    Tablet(app.test_client(), "coordinateur").push(senior)
    return {"ids": ids, "senior": senior["id"]}


def assignments(app):
    with app.app_context():
        found = list(db.session.scalars(select(VisitAssignment)))
        db.session.expunge_all()
        return found


def assign_form(office, **changes):
    return {"personne": office["senior"], "visiteur": str(office["ids"]["vera"]),
            "rythme": "hebdomadaire", "mode": "domicile", "debut": "2026-11-02", **changes}


def test_assigning_a_senior_makes_the_first_visit_due_and_tells_the_tablet(app, office, auth):
    response = auth.post("/planning/affecter", assign_form(office), follow_redirects=True)
    assert "Senior affecté à Vera." in response.text
    [row] = assignments(app)
    assert (row.visiteur_id, row.next_due, row.active) == (office["ids"]["vera"],
                                                           date(2026, 11, 2), True)
    with app.app_context():
        [seen] = db.session.scalars(select(AccessChange)).all()
        assert (seen.user_id, seen.person_id) == (office["ids"]["vera"], office["senior"])


@pytest.mark.parametrize("change, field, message", [
    ({"personne": ""}, "personne", "Choisissez un senior."),
    ({"visiteur": ""}, "visiteur", "Choisissez un visiteur."),
    ({"rythme": "annuel"}, "rythme", "Choisissez un rythme."),
    ({"mode": ""}, "mode", "Choisissez à domicile ou par téléphone."),
    ({"debut": "2026-02-30"}, "debut", "Date invalide (AAAA-MM-JJ)."),
])
def test_each_bad_answer_is_refused_beside_its_field(app, office, auth, change, field, message):
    response = auth.post("/planning/affecter", assign_form(office, **change))
    assert response.status_code == 400
    assert f'<p class="error" id="erreur-{field}">{message}</p>' in response.text.replace(
        "&#39;", "'")
    assert assignments(app) == []


def test_a_disabled_visiteur_and_a_second_same_assignment_are_refused(app, office, auth):
    gone = auth.post("/planning/affecter", assign_form(office, visiteur=office["ids"]["gone"]))
    assert gone.status_code == 400 and "Le compte de Gone est désactivé." in gone.text
    auth.post("/planning/affecter", assign_form(office))
    twice = auth.post("/planning/affecter", assign_form(office))
    assert twice.status_code == 400 and "Ce senior est déjà confié à ce visiteur." in twice.text
    assert len(assignments(app)) == 1


def visite(app, login, person, day):
    Tablet(app.test_client(), login).push(item("visite.visite", {
        "personne": person, "date": day.isoformat(), "mode": "domicile",
        "personne_vue": "oui", "alerte": "aucune"}))


def test_the_weeks_say_done_missed_and_planned(app, office, auth, client):
    auth.post("/planning/affecter", assign_form(office, debut="2026-10-26"))
    visite(app, "vera", office["senior"], date(2026, 10, 27))  # week of 26/10: done
    # Nothing the weeks of 02/11 and 09/11; a visit on 19/11 (week of 16/11).
    visite(app, "vera", office["senior"], date(2026, 11, 19))
    [row] = assignments(app)
    assert row.next_due == date(2026, 11, 26)
    page = client.get("/planning?du=2026-11-25").text
    cells = page.split('<td class="state ')[1:]
    words = [cell.split(">", 1)[1].split("<")[0] if "<a" not in cell.split("</td>")[0]
             else "fait" for cell in cells]
    # Weeks from 26/10 to 21/12: done, missed, missed, done, planned (this week), planned…
    assert words == ["fait", "manquée", "manquée", "fait", "prévue", "prévue", "prévue",
                     "prévue", "prévue"]
    assert "<strong>1</strong> visite prévue cette semaine" in page
    assert "<strong>0</strong> en retard" in page


def test_an_overdue_senior_is_counted_and_marked(app, office, auth, client):
    auth.post("/planning/affecter", assign_form(office, debut="2026-11-09"))
    page = client.get("/planning").text
    assert "(en retard)" in page and "<strong>1</strong> en retard" in page


def test_reassigning_moves_the_senior_and_both_tablets_hear_of_it(app, office, auth):
    auth.post("/planning/affecter", assign_form(office))
    [first] = assignments(app)
    response = auth.post(f"/planning/{first.id}/reaffecter",
                         {"nouveau_visiteur": office["ids"]["victor"]}, follow_redirects=True)
    assert "Senior confié à Victor." in response.text
    old, new = sorted(assignments(app), key=lambda a: a.active)
    assert (old.active, old.ended_on) == (False, TODAY)
    assert (new.visiteur_id, new.next_due) == (office["ids"]["victor"], first.next_due)
    with app.app_context():
        told = {c.user_id for c in db.session.scalars(select(AccessChange))}
    assert told == {office["ids"]["vera"], office["ids"]["victor"]}


def test_reassigning_to_the_same_visiteur_changes_nothing(app, office, auth):
    auth.post("/planning/affecter", assign_form(office))
    [first] = assignments(app)
    response = auth.post(f"/planning/{first.id}/reaffecter",
                         {"nouveau_visiteur": office["ids"]["vera"]}, follow_redirects=True)
    assert "Rien n&#39;a changé : Choisissez un autre visiteur." in response.text
    assert [a.active for a in assignments(app)] == [True]


def test_a_volunteer_who_stops_hands_all_their_seniors_over(app, office, auth):
    auth.post("/planning/affecter", assign_form(office))
    response = auth.post(f"/planning/visiteur/{office['ids']['vera']}/tout-reaffecter",
                         {"nouveau_visiteur": office["ids"]["victor"]}, follow_redirects=True)
    assert "1 senior de Vera réaffecté." in response.text
    active = [a for a in assignments(app) if a.active]
    assert [a.visiteur_id for a in active] == [office["ids"]["victor"]]


def test_ending_an_assignment_and_an_unknown_one(app, office, auth):
    auth.post("/planning/affecter", assign_form(office))
    [first] = assignments(app)
    auth.post(f"/planning/{first.id}/terminer")
    assert assignments(app)[0].active is False
    again = auth.post(f"/planning/{first.id}/terminer", follow_redirects=True)
    assert "Cette affectation est déjà terminée." in again.text
    assert auth.post("/planning/inconnue/terminer").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_plans(app, office, auth, client, role):
    auth.logout()
    auth.login(role)
    allowed = role in ("coordinateur", "admin")
    for url in ("/planning", "/planning/affecter"):
        assert client.get(url).status_code == (200 if allowed else 403)
    if not allowed:
        assert auth.post("/planning/affecter", assign_form(office)).status_code == 403
        assert auth.post(f"/planning/visiteur/{office['ids']['vera']}/tout-reaffecter",
                         {"nouveau_visiteur": office["ids"]["victor"]}).status_code == 403
        assert assignments(app) == []


def test_no_session_no_planning(client):
    assert client.get("/planning").status_code == 302
