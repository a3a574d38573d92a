"""The README's screenshots, one per role, taken on the demonstration CCAS by a real Chromium.

Each also checks that the role's first screen shows what its guide in the README says.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from outreach.demo.load import DEMO_PASSWORD
from tests.test_offline import log_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# (login, page, what the guide says the person sees there)
GUIDES = [
    ("maraude", "/", "Remplir une fiche"),
    ("visiteur", "/", "Mes visites"),
    ("social", "/", "Remplir une fiche"),
    ("coordinateur", "/alertes", "Nouvelles"),
    ("coordinateur", "/planning", "Planning des visites de convivialité"),
    ("coordinateur", "/plans", "Plans d'alerte"),
    ("coordinateur", "/tableau-de-bord", "Tableau de bord"),
    ("admin", "/admin/utilisateurs", "Utilisateurs"),
    ("admin", "/admin/formulaires/maraude.rencontre", "Rencontre"),
]



@pytest.mark.parametrize("login, path, heading", GUIDES)
def test_each_role_s_first_screen(demo_app, live_server, browser, login, path, heading):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1024, "height": 1366})
    page = context.new_page()
    try:
        log_in(page, live_server.url, login, password=DEMO_PASSWORD)
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        if login == "visiteur":
            expect(page.locator("#mes-visites .visit").first).to_be_visible()
        name = path.strip("/").replace("/", "-") or "accueil"
        if path == "/plans":  # last summer's plan, closed, with its figures
            page.get_by_role("link", name="Plan canicule").first.click()
            expect(page.get_by_role("heading", name="Pas joints après deux appels")).to_be_visible()
            name = "plan"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{login}-{name}.png"))
    finally:
        context.close()


def test_a_rencontre_rapide_on_a_phone(demo_app, live_server, browser):
    """A group of three given two things, saved once, "Annuler" still offered: on a phone."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "maraude", password=DEMO_PASSWORD)
        page.goto(f"{live_server.url}/saisie/maraude.rencontre/rapide")
        page.get_by_role("button", name="3", exact=True).click()
        given = page.locator("[data-prestation]")
        given.nth(0).click()
        given.nth(1).click()
        page.get_by_label("Lieu").fill("Parvis de la gare")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Fiche enregistrée : 3 personnes")).to_be_visible()
        expect(page.get_by_role("button", name="Annuler")).to_be_visible()
        page.screenshot(path=str(SHOTS / "maraude-rencontre-rapide-telephone.png"))
    finally:
        context.close()


def test_the_rapport_d_activite_of_the_last_whole_year(demo_app, live_server, browser):
    """The report of the demo's last whole year, each figure beside the year before (whole too)."""
    from outreach.core.clock import today

    with demo_app.app_context():
        year = today().year - 1
    context = browser.new_context(locale="fr-FR", viewport={"width": 1024, "height": 1366})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "coordinateur", password=DEMO_PASSWORD)
        page.goto(f"{live_server.url}/tableau-de-bord/rapport?annee={year}")
        expect(page.get_by_role("heading", name=f"Rapport d'activité {year} — CCAS de "
                                "Val-d'Aurelle")).to_be_visible()
        expect(page.get_by_text(f"Chiffres du 01/01/{year} au 31/12/{year}")).to_be_visible()
        sentences = page.locator("section > ul > li").all_inner_texts()
        assert len(sentences) > 25
        # Every figure beside the year before, and the year before was a whole year of work.
        assert all(f"en {year - 1}" in said for said in sentences if "Par " not in said[:4])
        met = next(said for said in sentences if " personnes rencontrées contre " in said)
        assert not met.startswith("0 ") and f"contre 0 en {year - 1}" not in met
        page.screenshot(path=str(SHOTS / "coordinateur-rapport.png"), full_page=True)
    finally:
        context.close()
