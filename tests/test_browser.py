"""In a real headless Chromium: a person logs in, opens a form, reads its labels, and saves it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record
from tests.conftest import PASSWORD, add_user, wait_until
from tests.test_offline import choose_code, log_in

pytestmark = pytest.mark.browser


def test_log_in_open_a_form_and_save_it(app, live_server, page):
    add_user(app, "lea", "maraude")
    page.goto(f"{live_server.url}/saisie/maraude.tournee")
    expect(page).to_have_url(f"{live_server.url}/connexion?suivant=/saisie/maraude.tournee")
    page.get_by_label("Identifiant").fill("lea")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    choose_code(page)  # the first login on this tablet

    expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    expect(page.get_by_role("button", name="Synchroniser")).to_be_visible()
    page.get_by_label("Date", exact=True).fill("2026-11-20")
    page.get_by_label("Heure de départ").fill("20:30")
    page.get_by_label("Secteur").fill("Gare et quais")
    page.get_by_label("Équipe").fill("Léa, Sami")
    expect(page.get_by_label("Nombre de personnes rencontrées")).to_have_value("")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_text("Fiche enregistrée")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    with app.app_context():
        stored = db.session.scalars(select(Record)).one()
        assert stored.data["secteur"] == "Gare et quais"


def test_a_missing_required_field_is_said_beside_it(app, live_server, page):
    add_user(app, "sami", "travailleur_social")
    log_in(page, live_server.url, "sami")
    page.goto(f"{live_server.url}/saisie/permanence.accueil")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("La fiche n'est pas enregistrée")
    motifs = page.get_by_role("group", name="Motifs")
    expect(motifs).to_contain_text("Cochez au moins un choix.")
    with app.app_context():
        assert db.session.query(Record).count() == 0
