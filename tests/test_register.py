"""/registre: the register of isolated people (art. L121-6-1 CASF) — eligibility, a French phone,
the acknowledgement letter, yearly confirmation before 1 June, withdrawal, and who may see it."""

from datetime import date

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import AuditEvent, Record
from outreach.register import entries as register
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item

BASE = {"nom": "Durand", "prenoms": "Marie", "date_naissance": "1941-06-02",
        "categorie": "65_ans_plus", "adresse": "3 rue des Lilas", "telephone": "05 55 12 34 56",
        "contact_urgence": "Claire, sa fille", "telephone_urgence": "06 12 34 56 78",
        "date_demande": "2026-05-10", "demandeur": "personne"}


def registration(**changes):
    return item("registre.inscription", {**BASE, **changes})


@pytest.fixture
def vera(app):
    add_user(app, "vera", "visiteur")
    return Tablet(app.test_client(), "vera")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"date_naissance": "1962-01-01"}, "date_naissance",
     "Pour « Personne âgée de 65 ans et plus », il faut avoir 65 ans à la date de la demande : "
     "la personne en a 64."),
    ({"date_naissance": "1966-05-11", "categorie": "60_ans_inapte"}, "date_naissance",
     "il faut avoir 60 ans à la date de la demande : la personne en a 59."),
    ({"date_naissance": "2009-01-01", "categorie": "adulte_handicape"}, "date_naissance",
     "il faut avoir 18 ans"),
    ({"telephone": "12 34 56"}, "telephone", "Numéro de téléphone français attendu"),
    ({"telephone_urgence": "+44 20 7946 0958"}, "telephone_urgence",
     "Numéro de téléphone français attendu"),
    ({"contact_urgence": ""}, "contact_urgence", "Ce champ est obligatoire."),
    ({"demandeur": "tiers"}, "demandeur_nom", "Ce champ est obligatoire."),
], ids=["under-65", "under-60-inapte", "minor-handicap", "short-phone", "foreign-phone",
        "no-person-to-alert", "third-party-unnamed"])
def test_a_registration_that_does_not_hold_is_refused_beside_the_field(vera, changes, field,
                                                                       message):
    [result] = vera.push(registration(**changes))
    assert result["status"] == "rejected"
    assert any(message in text for text in result["errors"][field]), result["errors"]


@pytest.mark.parametrize("phone", ["0555123456", "05.55.12.34.56", "05-55-12-34-56",
                                   "+33 5 55 12 34 56", "0033555123456", "+33555123456"])
def test_french_phone_shapes_are_taken(vera, phone):
    assert vera.push(registration(telephone=phone))[0]["status"] == "created"


def test_eligibility_is_at_the_date_of_the_request(vera):
    # 65 the day of the request: eligible; the day before: not.
    assert vera.push(registration(date_naissance="1961-05-10"))[0]["status"] == "created"
    assert vera.push(registration(date_naissance="1961-05-11"))[0]["status"] == "rejected"


def test_a_visiteur_registers_on_the_tablet_and_the_office_sees_the_register(app, vera, auth):
    vera.push(registration(), registration(nom="Martin", prenoms="Jean",
                                           categorie="adulte_handicape",
                                           date_naissance="1980-02-02"))
    auth.login("coordinateur")
    page = auth.client.get("/registre").text
    assert "DURAND Marie" in page and "MARTIN Jean" in page
    assert "<strong>2</strong> personnes inscrites" in page
    assert "<strong>1</strong> personne adulte handicapée" in page
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "register.list")) == "register.list"


def test_the_acknowledgement_names_the_request_and_the_law(app, vera, auth):
    app.config["CCAS_NAME"] = "CCAS de Saint-Aubin"
    made = registration(demandeur="tiers", demandeur_nom="Claire Durand",
                        demandeur_qualite="fille")
    vera.push(made)
    auth.login("coordinateur")
    letter = auth.client.get(f"/registre/{made['id']}/accuse").text
    assert "Accusé de réception" in letter and "CCAS de Saint-Aubin" in letter
    assert "à la demande de Claire Durand (fille)" in letter
    assert "10/05/2026" in letter and "L121-6-1" in letter
    assert "Personne âgée de 65 ans et plus" in letter


def test_withdrawal_takes_the_person_off_and_keeps_the_history(app, vera, auth):
    made = registration()
    vera.push(made)
    auth.login("coordinateur")
    answer = auth.post(f"/registre/{made['id']}/retirer",
                       {"date_retrait": "2026-11-20", "revision": "1"})
    assert answer.status_code == 302
    page = auth.client.get("/registre").text
    assert "DURAND" not in page and "<strong>1</strong> retrait" in page
    with app.app_context():
        stored = db.session.get(Record, made["id"])
        assert (stored.revision, stored.data["date_retrait"]) == (2, "2026-11-20")
    # A stale revision (someone changed it meanwhile) changes nothing and says so.
    stale = auth.post(f"/registre/{made['id']}/confirmer", {"revision": "1"})
    assert "erreur=" in stale.headers["Location"]
    with app.app_context():
        assert db.session.get(Record, made["id"]).revision == 2


def test_the_yearly_campaign_lists_whom_to_confirm_before_1_june(app, vera, auth, monkeypatch):
    old, recent = (registration(date_demande="2025-03-01"),
                   registration(nom="Martin", date_demande="2026-01-15"))
    vera.push(old, recent)
    monkeypatch.setattr(register, "today", lambda: date(2026, 4, 20))
    assert register.watch_start(date(2026, 4, 20)) == date(2026, 6, 1)
    assert register.watch_start(date(2026, 6, 1)) == date(2027, 6, 1)
    auth.login("coordinateur")
    page = auth.client.get("/registre?a_confirmer=1").text
    assert "DURAND" in page and "MARTIN" not in page
    auth.post(f"/registre/{old['id']}/confirmer", {"revision": "1"})
    assert "DURAND" not in auth.client.get("/registre?a_confirmer=1").text


@pytest.mark.parametrize("role", ["maraude", "visiteur", "travailleur_social"])
def test_only_the_office_opens_the_register(app, vera, auth, role):
    made = registration()
    vera.push(made)
    auth.login(role)
    for url in ("/registre", f"/registre/{made['id']}", f"/registre/{made['id']}/accuse"):
        assert auth.client.get(url).status_code == 403
    for url in (f"/registre/{made['id']}/confirmer", f"/registre/{made['id']}/retirer"):
        assert auth.post(url, {"revision": "1", "date_retrait": "2026-11-20"}).status_code == 403


def test_an_unknown_entry_is_404_and_a_bad_withdrawal_date_is_said(app, vera, auth):
    made = registration()
    vera.push(made)
    auth.login("admin")
    assert auth.client.get("/registre/00000000-0000-4000-8000-000000000000").status_code == 404
    answer = auth.post(f"/registre/{made['id']}/retirer", {"date_retrait": "hier",
                                                          "revision": "1"})
    page = auth.client.get(answer.headers["Location"]).text
    assert "Date du retrait attendue" in page


def test_a_withdrawn_registration_is_erased_by_the_purge(app, vera, auth, runner):
    from outreach.cli import main
    from sync.schema import record_revision

    kept, gone, recent = (registration(), registration(nom="Martin"),
                          registration(nom="Petit"))
    vera.push(kept, gone, recent)
    auth.login("coordinateur")
    auth.post(f"/registre/{gone['id']}/retirer", {"date_retrait": "2026-01-10", "revision": "1"})
    auth.post(f"/registre/{recent['id']}/retirer", {"date_retrait": "2099-01-10",
                                                    "revision": "1"})
    refused = runner.invoke(main, ["purge", "--registre-apres-jours", "-1"])
    assert refused.exit_code == 1 and "doit être positif" in refused.output
    answer = runner.invoke(main, ["purge", "--registre-apres-jours", "30"])
    assert answer.exit_code == 0 and "1 inscription(s) retirée(s) effacée(s)" in answer.output
    with app.app_context():
        erased = db.session.get(Record, gone["id"])
        assert erased.deleted and erased.data == {"categorie": "65_ans_plus",
                                                  "date_demande": "2026-05-10",
                                                  "date_retrait": "2026-01-10"}
        assert db.session.scalar(select(record_revision.c.id).where(
            record_revision.c.record_id == gone["id"])) is None
        assert not db.session.get(Record, recent["id"]).deleted   # withdrawal not yet due
        assert not db.session.get(Record, kept["id"]).deleted
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "register.erase"))
        assert event.target == f"record:{gone['id']}" and "Martin" not in str(event.details)
    page = auth.client.get("/registre").text
    assert "MARTIN" not in page and "<strong>2</strong> retraits" in page
    assert auth.client.get(f"/registre/{gone['id']}").status_code == 404
    # Run again: nothing more to erase.
    assert "0 inscription(s)" in runner.invoke(main, ["purge"]).output


def test_an_entry_tied_to_a_file_shows_it_and_the_visiteur(app, vera, auth):
    from tests.conftest import csrf_from

    person = item("personne", {"niveau": "alias", "alias_prenom": "Lucienne"})
    made = registration(personne=person["id"])
    vera.push(person, made)
    auth.login("coordinateur")
    form = auth.client.get("/planning/affecter")
    auth.client.post("/planning/affecter", data={
        "personne": person["id"], "visiteur": _id(app, "vera"),
        "rythme": "hebdomadaire", "mode": "domicile", "debut": "2026-11-02",
        "csrf_token": csrf_from(form.text)})
    page = auth.client.get(f"/registre/{made['id']}").text
    assert f'href="/personnes/{person["id"]}"' in page and "visitée par Vera" in page


def _id(app, login):
    from outreach.core.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.login == login))
