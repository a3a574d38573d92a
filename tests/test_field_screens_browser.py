"""Field screens a tired agent cannot get wrong (issue 15, findings 1, 5 and 7), in a real Chromium
at a tablet's and a phone's size: a group is one rencontre, a save can be taken back for a few
seconds and is not sent meanwhile, and a long form starts the next record in view and prefilled."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.register.models import CallTask
from outreach.visits import planning
from tests.conftest import add_user, stored_records, wait_until
from tests.sync_helpers import Tablet, item
from tests.test_offline import log_in
from tests.test_plans import open_plan, registration
from tests.test_visits_browser import senior

pytestmark = pytest.mark.browser
QUICK = "/saisie/maraude.rencontre/rapide"
WAITING = "import('/static/js/store.js').then((store) => store.countWaiting())"



def expect_pressed(button) -> None:
    """Assert a toggle button shows as chosen."""
    expect(button).to_have_attribute("aria-pressed", "true")



def test_a_group_is_one_rencontre_and_annuler_keeps_it_off_the_server(app, live_server, screen):
    page = screen
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(live_server.url + QUICK)
    page.get_by_label("Lieu").fill("Parvis de la gare")
    count = page.get_by_role("group", name="Combien de personnes ?")
    given = page.get_by_role("group", name="Remis (touchez tout ce qui a été remis)")

    # A group of three given a drink and a blanket: chosen first, saved once.
    count.get_by_role("button", name="3", exact=True).click()
    given.get_by_role("button", name="Boisson chaude").click()
    given.get_by_role("button", name="Duvet / couverture").click()
    expect_pressed(given.get_by_role("button", name="Duvet / couverture"))
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    page.get_by_role("button", name="Enregistrer").click()
    feedback = page.locator("#form-feedback")
    expect(feedback).to_have_text(
        "Fiche enregistrée : 3 personnes, boisson chaude, duvet / couverture.")
    expect(feedback).to_be_in_viewport()
    undo = page.get_by_role("button", name="Annuler")
    expect(undo).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    expect_pressed(count.get_by_role("button", name="1", exact=True))

    # While "Annuler" shows, a sync sends nothing; "Annuler" takes it off the tablet.
    result = page.evaluate("window.outreach.sync()")
    assert (result["sent"], result["held"]) == (0, True)
    assert stored_records(app, "maraude.rencontre") == []
    undo.click()
    expect(feedback).to_contain_text("Rencontre annulée : rien n'est envoyé.")
    expect(undo).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    assert page.evaluate(WAITING) == 0
    # What was chosen comes back, to correct or save again.
    expect_pressed(count.get_by_role("button", name="3", exact=True))
    expect_pressed(given.get_by_role("button", name="Boisson chaude"))
    page.evaluate("window.outreach.sync()")
    assert stored_records(app, "maraude.rencontre") == []

    # Saved again and not taken back: once "Annuler" goes, exactly one record reaches the server.
    page.get_by_role("button", name="Enregistrer").click()
    expect(undo).to_be_visible()
    expect(undo).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [rencontre] = stored_records(app, "maraude.rencontre")
    data = rencontre.data
    assert (data["nombre_personnes"], sorted(data["prestations"]), data["lieu"]["label"]) \
        == (3, ["boisson_chaude", "duvet"], "Parvis de la gare")
    assert "held_until" not in data


def test_a_call_outcome_taken_back_puts_the_card_back_and_sends_nothing(app, live_server, auth,
                                                                        screen):
    page = screen
    ana = add_user(app, "ana", "visiteur")
    auth.login("coordinateur")
    Tablet(app.test_client(), "coordinateur").push(registration("Durand", "Nord"))
    open_plan(auth, [ana])
    log_in(page, live_server.url, "ana")
    page.goto(live_server.url + "/appels")
    card = page.locator("li.call")
    expect(card).to_have_count(1)
    expect(page.get_by_role("heading", name="À appeler (1)")).to_be_visible()

    card.get_by_role("button", name="Pas de réponse").click()
    expect(page.get_by_role("heading", name="À rappeler (1)")).to_be_visible()
    feedback = page.locator("#form-feedback")
    expect(feedback).to_contain_text("Appel enregistré : DURAND Marie, à rappeler.")
    expect(feedback).to_be_in_viewport()
    expect(page.locator("#sync-status")).to_contain_text("1 fiche en attente")
    assert page.evaluate("window.outreach.sync()")["sent"] == 0

    page.get_by_role("button", name="Annuler").click()
    expect(feedback).to_contain_text("Appel annulé")
    expect(page.get_by_role("heading", name="À appeler (1)")).to_be_visible()
    expect(card).to_contain_text("Premier appel")
    expect(page.locator("#sync-status")).to_contain_text("Aucune fiche en attente")
    assert page.evaluate(WAITING) == 0
    page.evaluate("window.outreach.sync()")
    assert stored_records(app, "plan.appel") == []
    with app.app_context():
        assert list(db.session.scalars(select(CallTask.status))) == ["a_appeler"]

    # Saved again and the page left at once: the hold ends by itself and the next page sends it.
    card.get_by_role("button", name="Joint, va bien").click()
    expect(page.get_by_role("button", name="Annuler")).to_be_visible()
    page.goto(live_server.url + "/")
    expect(page.locator("#sync-status")).to_contain_text("1 fiche en attente")
    expect(page.locator("#sync-status")).to_contain_text("Aucune fiche en attente")
    with app.app_context():
        assert list(db.session.scalars(select(CallTask.status))) == ["joint"]


def test_after_a_save_the_confirmation_is_in_view_and_the_next_record_starts_prefilled(
    app, live_server, screen
):
    page = screen
    app.config["COORDINATION_PHONE"] = "05 55 12 34 56"
    vera = add_user(app, "vera", "visiteur")
    claire = add_user(app, "claire", "coordinateur")
    jeanne = senior(app, claire, "Jeanne", "Martin", telephone_urgence="06 12 34 56 78")
    with app.app_context():
        planning.assign(db.session, jeanne, vera, "hebdomadaire", "domicile",
                        date.today() - timedelta(days=10), claire)
        db.session.commit()
    log_in(page, live_server.url, "vera")
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")

    # A visite: today's date is there already; an absence shows what to do.
    page.goto(f"{live_server.url}/saisie/visite.visite?personne={jeanne}")
    today = date.today().isoformat()
    expect(page.get_by_label("Personne visitée", exact=True)).to_have_value(jeanne)
    expect(page.get_by_label("Date", exact=True)).to_have_value(today)
    page.get_by_role("radio", name="À domicile", exact=True).check()
    page.get_by_role("radio", name="Absente / pas de réponse").check()
    page.get_by_role("radio", name="Absence de réponse inquiétante").check()
    guidance = page.locator("#que-faire")
    expect(guidance).to_contain_text("Appelez la personne à prévenir")
    page.get_by_role("button", name="Enregistrer").click()

    # The confirmation is focused and in view; the guidance went with the record.
    feedback = page.locator("#form-feedback")
    expect(feedback).to_contain_text("Fiche enregistrée.")
    expect(feedback).to_be_focused()
    expect(feedback).to_be_in_viewport()
    expect(guidance).to_be_hidden()
    expect(page.get_by_label("Date", exact=True)).to_have_value(today)
    expect(page.get_by_role("radio", name="Absente / pas de réponse")).not_to_be_checked()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [visit] = stored_records(app, "visite.visite")
    assert (visit.data["date"], visit.data["alerte"]) == (today, "absence_reponse")


def test_a_rencontre_from_a_tournee_starts_at_its_secteur_then_at_the_last_place(
    app, live_server, screen
):
    page = screen
    add_user(app, "lea", "maraude")
    add_user(app, "helene", "coordinateur")
    tournee = item("maraude.tournee", {"date": date.today().isoformat(), "heure_depart": "20:30",
                                       "secteur": "Canal", "equipe": "Léa, Hugo"})
    Tablet(app.test_client(), "helene").push(tournee)
    log_in(page, live_server.url, "lea")

    page.goto(f"{live_server.url}/saisie/maraude.rencontre?parent={tournee['id']}")
    lieu = page.get_by_label("Lieu", exact=True)
    expect(lieu).to_have_value("Canal")
    lieu.fill("Écluse")
    page.get_by_role("group", name="Niveau d'identification").get_by_label("Anonyme").check()
    page.get_by_label("Nombre de personnes", exact=True).fill("2")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_be_focused()
    expect(lieu).to_have_value("Écluse")
    expect(page.get_by_label("Nombre de personnes", exact=True)).to_have_value("")

    # A tournée of another night does not start at tonight's place.
    other = item("maraude.tournee", {"date": date.today().isoformat(), "heure_depart": "21:00",
                                     "secteur": "Gare", "equipe": "Léa"})
    Tablet(app.test_client(), "helene").push(other)
    page.goto(f"{live_server.url}/saisie/maraude.rencontre?parent={other['id']}")
    expect(lieu).to_have_value("Gare")
