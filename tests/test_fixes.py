"""Where people fix things: /a-corriger, /quarantaine, /conflits (issue 5, point 3)."""

import html
import json

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import AuditEvent, User
from outreach.core.roles import ROLES
from sync.schema import quarantine, record, record_conflict
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, personne, rencontre

FIELD_ROLES = ("maraude", "visiteur", "travailleur_social")


@pytest.fixture
def agent(app, auth):
    """A maraude agent with a tablet (its own browser session)."""
    auth.user("maraude")
    return Tablet(app.test_client(), "maraude")


@pytest.fixture
def office(auth):
    """The coordinateur, logged in through the login page."""
    auth.login("coordinateur")
    return auth


def post(tablet, url, data=None):
    """POST a page form from the tablet's session, with its CSRF token."""
    return tablet.client.post(url, data={**(data or {}), "csrf_token": tablet.token})


def rows(app, table, **where):
    with app.app_context():
        query = select(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return [dict(row._mapping) for row in db.session.execute(query)]


def agent_id(app):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.login == "maraude"))


def audit_events(app):
    """Return the decisions' audit rows (pushes and reads have theirs: tests/test_journal.py)."""
    with app.app_context():
        return [(e.action, e.target, e.details) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.not_like("sync.%"),
                                     AuditEvent.action != "record.read"))]


def rejected(app, tablet, **data):
    """Push one bad rencontre; return (its record, its quarantine row id)."""
    bad = item(data=rencontre(**data))
    [result] = tablet.push(bad)
    assert result["status"] == "rejected"
    [row] = rows(app, quarantine, record_id=bad["id"])
    return bad, row["id"]


def conflict(app, tablet, form="maraude.rencontre", first=None, current=None, incoming=None):
    """Push a record, update it (revision 2), then a stale version; return (record, conflict id)."""
    sent = item(form, first)
    tablet.push(sent)
    tablet.push({**sent, "base_revision": 1, "data": current})
    [result] = tablet.push({**sent, "base_revision": None, "data": incoming})
    assert result["status"] == "conflict"
    [row] = rows(app, record_conflict, record_id=sent["id"])
    return sent, row["id"]


def rencontre_form(**changes):
    """Return what the browser posts for a valid rencontre."""
    return {"lieu.label": "Parvis de la gare", "niveau": "anonyme", "nombre_personnes": "2",
            "prestations": ["boisson_chaude"], **changes}


# --- /a-corriger ---------------------------------------------------------------------------------


def test_a_person_sees_their_rejected_record_with_its_french_error(app, agent):
    [good] = agent.push(item())
    assert good["status"] == "created"
    _, mine = rejected(app, agent, nombre_personnes=0)
    add_user(app, "autre", "maraude")
    other = Tablet(app.test_client(), "autre")
    rejected(app, other, nombre_personnes=99)

    page = agent.client.get("/a-corriger")
    assert page.status_code == 200
    assert "À corriger" in page.text
    assert "Nombre de personnes" in page.text and "Au moins 1." in page.text
    assert f'href="/a-corriger/{mine}"' in page.text and "Corriger" in page.text
    assert "Au plus 50." not in page.text, "another person's rejected record is not shown"


def test_the_fix_form_is_prefilled_with_errors_beside_fields(app, agent):
    _, ident = rejected(app, agent, nombre_personnes=0, notes="Rencontré près du kiosque")
    page = agent.client.get(f"/a-corriger/{ident}")
    assert page.status_code == 200
    assert '<label for="f-nombre_personnes">Nombre de personnes</label>' in page.text
    assert 'name="nombre_personnes" value="0"' in page.text
    assert 'id="erreur-nombre_personnes">Au moins 1.' in page.text
    assert "Rencontré près du kiosque" in page.text


def test_correcting_stores_the_record_and_closes_the_quarantine_row(app, agent):
    bad, ident = rejected(app, agent, nombre_personnes=0)
    answer = post(agent, f"/a-corriger/{ident}", rencontre_form(nombre_personnes="3"))
    assert answer.status_code == 302 and answer.location.endswith("/a-corriger")
    assert "Fiche corrigée et enregistrée." in agent.client.get("/a-corriger").text

    [stored] = rows(app, record, id=bad["id"])
    assert stored["revision"] == 1 and stored["data"]["nombre_personnes"] == 3
    assert stored["recorded_by"] == agent_id(app)
    [row] = rows(app, quarantine, id=ident)
    assert row["status"] == "corrected" and row["decided_by"] == agent_id(app)
    [event] = audit_events(app)
    assert event[:2] == ("quarantine.correct", bad["id"])
    assert event[2]["status"] == "created"
    assert "Fiche corrigée" not in agent.client.get("/a-corriger").text
    assert "Aucune fiche refusée." in agent.client.get("/a-corriger").text


def test_a_still_wrong_correction_is_400_and_nothing_is_stored(app, agent):
    bad, ident = rejected(app, agent, nombre_personnes=0)
    answer = post(agent, f"/a-corriger/{ident}",
                  rencontre_form(nombre_personnes="2", femmes="2", hommes="1"))
    assert answer.status_code == 400
    assert "La fiche n'est pas enregistrée." in answer.text
    assert "ne peut pas dépasser 2." in answer.text
    assert not rows(app, record, id=bad["id"])
    assert rows(app, quarantine, id=ident)[0]["status"] == "open"
    assert audit_events(app) == []


def test_a_correction_the_engine_still_refuses_stays_to_correct(app, agent):
    [made] = agent.push(sent := item())
    assert made["status"] == "created"
    add_user(app, "autre", "maraude")
    other = Tablet(app.test_client(), "autre")
    [result] = other.push({**sent, "base_revision": 1, "data": rencontre(nombre_personnes=0)})
    assert result["status"] == "rejected"
    [row] = rows(app, quarantine, record_id=sent["id"])
    answer = post(other, f"/a-corriger/{row['id']}", rencontre_form(nombre_personnes="4"))
    assert answer.status_code == 400
    assert "faite par une autre personne" in html.unescape(answer.text)
    assert rows(app, quarantine, record_id=sent["id"]) == [row], "still open, not doubled"
    assert rows(app, record, id=sent["id"])[0]["data"]["nombre_personnes"] == 2


def test_a_person_may_open_only_their_own_rejected_records(app, agent):
    _, ident = rejected(app, agent, nombre_personnes=0)
    add_user(app, "autre", "maraude")
    other = Tablet(app.test_client(), "autre")
    assert other.client.get(f"/a-corriger/{ident}").status_code == 403
    assert post(other, f"/a-corriger/{ident}", rencontre_form()).status_code == 403
    assert rows(app, quarantine, id=ident)[0]["status"] == "open"
    assert other.client.get("/a-corriger/9999").status_code == 404


def test_a_person_sees_their_conflict_awaits_a_coordinateur(app, agent):
    conflict(app, agent, current=rencontre(nombre_personnes=3),
             incoming=rencontre(nombre_personnes=4))
    page = agent.client.get("/a-corriger")
    assert "Conflits (1)" in page.text and "un coordinateur décidera" in page.text


# --- Who may open the office's pages -------------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("path", ["/quarantaine", "/conflits"])
def test_quarantine_and_conflicts_are_for_the_office(auth, client, role, path):
    auth.login(role)
    expected = 403 if role in FIELD_ROLES else 200
    assert client.get(path).status_code == expected


def test_field_roles_cannot_decide(app, agent, auth):
    _, ident = rejected(app, agent, nombre_personnes=0)
    auth.login("visiteur")
    assert auth.post(f"/quarantaine/{ident}/abandon", {"raison": "x"}).status_code == 403
    assert auth.post(f"/quarantaine/{ident}", rencontre_form()).status_code == 403
    assert rows(app, quarantine, id=ident)[0]["status"] == "open"


# --- /quarantaine --------------------------------------------------------------------------------


def test_the_coordinateur_corrects_one_and_discards_another(app, agent, office, client):
    first, to_correct = rejected(app, agent, nombre_personnes=0)
    second, to_discard = rejected(app, agent, nombre_personnes=77)
    page = client.get("/quarantaine")
    assert "À traiter (2)" in page.text and "Maraude" in page.text and "Rencontre" in page.text
    assert page.text.index("Au plus 50.") < page.text.index("Au moins 1."), "newest first"

    form = client.get(f"/quarantaine/{to_correct}")
    assert form.status_code == 200 and "Au moins 1." in form.text
    answer = office.post(f"/quarantaine/{to_correct}", rencontre_form())
    assert answer.status_code == 302 and answer.location.endswith("/quarantaine")
    [stored] = rows(app, record, id=first["id"])
    assert stored["recorded_by"] == agent_id(app), "stored in its author's name"

    empty = office.post(f"/quarantaine/{to_discard}/abandon", {"raison": "  "})
    assert empty.status_code == 400
    assert "Donnez la raison de l'abandon." in html.unescape(empty.text)
    assert rows(app, quarantine, id=to_discard)[0]["status"] == "open"
    reason = "Doublon de la rencontre saisie par Léa"
    done = office.post(f"/quarantaine/{to_discard}/abandon", {"raison": reason})
    assert done.status_code == 302
    [row] = rows(app, quarantine, id=to_discard)
    assert (row["status"], row["reason"]) == ("discarded", reason)
    assert not rows(app, record, id=second["id"])

    page = client.get("/quarantaine")
    assert "Fiche abandonnée." in page.text and "Aucune fiche en quarantaine." in page.text
    assert "Abandonnée" in page.text and reason in page.text and "Corrigée" in page.text
    assert "Coordinateur" in page.text, "who decided"
    actions = [(action, target) for action, target, _ in audit_events(app)]
    assert actions == [("quarantine.correct", first["id"]), ("quarantine.discard", second["id"])]
    assert reason not in json.dumps([details for *_, details in audit_events(app)])


def test_a_treated_record_cannot_be_decided_again(app, agent, office):
    _, ident = rejected(app, agent, nombre_personnes=0)
    office.post(f"/quarantaine/{ident}/abandon", {"raison": "Saisie de test"})
    assert office.post(f"/quarantaine/{ident}", rencontre_form()).status_code == 409
    assert office.post(f"/quarantaine/{ident}/abandon", {"raison": "x"}).status_code == 409
    assert office.client.get("/quarantaine/9999").status_code == 404


# --- /conflits -----------------------------------------------------------------------------------


def test_resolving_field_by_field_makes_a_new_revision(app, agent, office, client):
    sent, ident = conflict(
        app, agent,
        current=rencontre(nombre_personnes=3, notes="Version du soir"),
        incoming=rencontre(nombre_personnes=4, prestations=["repas"], notes="Version tablette"),
    )
    listing = client.get("/conflits")
    assert f'href="/conflits/{ident}"' in listing.text and "Maraude" in listing.text

    page = client.get(f"/conflits/{ident}")
    assert page.status_code == 200
    assert "3 champs diffèrent" in page.text
    assert "Boisson chaude" in page.text and "Repas / colis alimentaire" in page.text
    assert "Garder l'actuelle" in page.text and "Prendre la nouvelle" in page.text
    assert page.text.count('value="actuelle" checked') == 3, "the current version by default"

    answer = office.post(f"/conflits/{ident}", {
        "revision": "2", "version": "champs",
        "choix-nombre_personnes": "nouvelle", "choix-notes": "nouvelle",
    })
    assert answer.status_code == 302
    assert "Conflit résolu : révision 3." in client.get("/conflits").text
    [stored] = rows(app, record, id=sent["id"])
    assert stored["revision"] == 3
    assert stored["data"]["nombre_personnes"] == 4 and stored["data"]["notes"] == "Version tablette"
    assert stored["data"]["prestations"] == ["boisson_chaude"], "the current one was kept"
    [row] = rows(app, record_conflict, id=ident)
    assert row["resolved_at"] is not None and row["resolution"] == "révision 3"
    [(action, target, details)] = audit_events(app)
    assert (action, target, details["revision"]) == ("conflict.resolve", sent["id"], 3)
    assert details["taken"] == ["nombre_personnes", "notes"]
    assert "Aucun conflit en attente." in agent.client.get("/a-corriger").text
    assert client.get(f"/conflits/{ident}").status_code == 409, "already resolved"


def test_a_mix_that_does_not_validate_is_refused(app, agent, office):
    sent, ident = conflict(
        app, agent,
        current=rencontre(nombre_personnes=2, femmes=1, hommes=1),
        incoming=rencontre(nombre_personnes=3, femmes=2, hommes=1),
    )
    mixed = office.post(f"/conflits/{ident}", {"revision": "2", "choix-femmes": "nouvelle"})
    assert mixed.status_code == 400
    assert "ne peut pas dépasser 2." in mixed.text
    assert rows(app, record, id=sent["id"])[0]["revision"] == 2
    whole = office.post(f"/conflits/{ident}", {"revision": "2", "version": "nouvelle"})
    assert whole.status_code == 302
    [stored] = rows(app, record, id=sent["id"])
    assert stored["revision"] == 3 and stored["data"]["femmes"] == 2


def test_a_choice_made_on_an_older_revision_is_shown_again(app, agent, office):
    sent, ident = conflict(app, agent, current=rencontre(nombre_personnes=3),
                           incoming=rencontre(nombre_personnes=4))
    agent.push({**sent, "base_revision": 2, "data": rencontre(nombre_personnes=5)})
    answer = office.post(f"/conflits/{ident}", {"revision": "2", "version": "nouvelle"})
    assert answer.status_code == 409 and "La fiche a changé" in answer.text
    assert rows(app, record, id=sent["id"])[0]["data"]["nombre_personnes"] == 5


def test_the_agent_receives_the_resolution_at_the_next_pull(app, agent, office):
    sent, ident = conflict(app, agent, form="personne", first=personne(),
                           current=personne(alias_prenom="Mo"),
                           incoming=personne(alias_prenom="Momo", tranche_age="de_41_a_60"))
    before = agent.pull()
    answer = office.post(f"/conflits/{ident}", {"revision": "2", "choix-tranche_age": "nouvelle"})
    assert answer.status_code == 302
    after = agent.pull(before["cursor"])
    [person] = after["people"]
    assert person == {"id": sent["id"], "revision": 3,
                      "data": {"niveau": "alias", "alias_prenom": "Mo",
                               "tranche_age": "de_41_a_60"}}


def test_an_unknown_conflict_is_404(office):
    assert office.client.get("/conflits/9999").status_code == 404


# --- CSRF ----------------------------------------------------------------------------------------


def test_a_decision_without_csrf_token_is_refused(app, agent, office, client):
    _, ident = rejected(app, agent, nombre_personnes=0)
    answer = client.post(f"/quarantaine/{ident}/abandon", data={"raison": "Doublon"})
    assert answer.status_code == 400 and "Jeton de sécurité" in answer.text
    assert agent.client.post(f"/a-corriger/{ident}", data=rencontre_form()).status_code == 400
    _, conflict_id = conflict(app, agent, current=rencontre(nombre_personnes=3),
                              incoming=rencontre(nombre_personnes=4))
    assert client.post(f"/conflits/{conflict_id}",
                       data={"revision": "2", "version": "nouvelle"}).status_code == 400
    assert rows(app, quarantine, id=ident)[0]["status"] == "open"
    assert rows(app, record_conflict, id=conflict_id)[0]["resolved_at"] is None
