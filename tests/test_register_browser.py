"""A registration on the visiteur's tablet, offline, in a real Chromium: eligibility and the
phone's shape are said beside their fields before anything is kept; a good one waits, then syncs."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record
from tests.conftest import add_user, wait_until
from tests.test_offline import log_in, ready_offline

pytestmark = pytest.mark.browser
FORM = "/saisie/registre.inscription"


def fill_registration(page, born="1941-06-02", phone="05 55 12 34 56", secteur=None):
    """Fill the registration form as a person does, by its labels."""
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Prénoms").fill("Marie")
    page.get_by_label("Date de naissance").fill(born)
    page.get_by_label("Personne âgée de 65 ans et plus").check()
    page.get_by_label("Adresse").fill("3 rue des Lilas")
    if secteur:
        page.get_by_label("Secteur").fill(secteur)
    page.get_by_label("Téléphone", exact=True).fill(phone)
    page.get_by_label("Personne à prévenir en cas d'urgence").fill("Claire, sa fille")
    page.get_by_label("Téléphone de la personne à prévenir").fill("06 12 34 56 78")
    page.get_by_label("Date de la demande").fill("2026-05-10")
    page.get_by_label("La personne elle-même").check()


def test_a_registration_made_offline_is_checked_in_the_page_then_synced(app, live_server, page):
    add_user(app, "vera", "visiteur")
    log_in(page, live_server.url, "vera")
    ready_offline(page, FORM)
    page.context.set_offline(True)
    page.goto(f"{live_server.url}{FORM}")
    fill_registration(page, born="1962-01-01", phone="12 34")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreur-date_naissance")).to_have_text(
        "Pour « Personne âgée de 65 ans et plus », il faut avoir 65 ans à la date de la "
        "demande : la personne en a 64.")
    expect(page.locator("#erreur-telephone")).to_contain_text(
        "Numéro de téléphone français attendu")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")

    page.get_by_label("Date de naissance").fill("1941-06-02")
    page.get_by_label("Téléphone", exact=True).fill("05 55 12 34 56")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    page.context.set_offline(False)
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    with app.app_context():
        stored = db.session.scalars(select(Record)).one()
        assert (stored.form, stored.data["telephone"]) == ("registre.inscription",
                                                           "05 55 12 34 56")
