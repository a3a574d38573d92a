"""Issue 14, item 3, in a real Chromium: with the Content-Security-Policy on, the pages of every
role on the demonstration CCAS draw and run without one refused script, style or request."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.demo.load import DEMO_PASSWORD
from outreach.register.models import AlertPlan, CallTask
from sync.schema import record
from tests.conftest import csrf_from
from tests.test_offline import log_in

pytestmark = pytest.mark.browser

# Reported in the page before any of its scripts runs (an init script is not under the CSP).
LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});"""



def some_ids(app) -> dict[str, str]:
    """A person, a record, a register entry, a tournée and a plan of the demonstration."""
    with app.app_context():
        def first(form):
            return db.session.scalar(select(record.c.id).where(
                record.c.form == form, record.c.deleted.is_(False)).limit(1))
        found = {form: first(form) for form in ("personne", "visite.visite",
                                                "registre.inscription", "maraude.tournee")}
        found["plan"] = db.session.scalar(select(AlertPlan.id).limit(1))
        return found


class Visit:
    """A person in Chromium who notes every CSP refusal of the pages they open."""

    def __init__(self, browser, url, login):
        self.context = browser.new_context(locale="fr-FR")
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.url, self.refused = url, []
        self.page.on("console", self._console)
        log_in(self.page, url, login, password=DEMO_PASSWORD)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.refused.append(f"{self.page.url}: {message.text}")

    def open(self, path):
        """Open a page, let its modules draw, and note what the CSP refused there."""
        answer = self.page.goto(f"{self.url}{path}")
        assert answer.status < 500, path
        self.page.wait_for_load_state("networkidle")
        self.note()

    def note(self):
        """Note the refusals the current page saw."""
        for violation in self.page.evaluate("window.__violations || []"):
            self.refused.append(f"{self.page.url}: {violation}")

    def close(self):
        """Close the browser context."""
        self.context.close()


def open_a_plan(app) -> str:
    """Open a plan now as the coordinateur (the demonstration's is closed); return its id."""
    client = app.test_client()
    page = client.get("/connexion")
    client.post("/connexion", data={"login": "coordinateur", "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_from(page.text)})
    form = client.get("/plans/nouveau")
    with app.app_context():
        before = set(db.session.scalars(select(AlertPlan.id)))
    agent = form.text.split('name="agents" value="', 1)[1].split('"', 1)[0]
    opened = client.post("/plans/nouveau", data={
        "kind": "canicule", "level": "Niveau 3 — alerte canicule", "starts_on": "2026-07-01",
        "message": "Buvez de l'eau.", "sharing": "secteur", "agents": [agent],
        "csrf_token": csrf_from(form.text)})
    assert opened.status_code == 302
    with app.app_context():
        [plan] = set(db.session.scalars(select(AlertPlan.id))) - before
        assert db.session.scalar(select(CallTask.id).where(CallTask.plan_id == plan))
    return plan


def test_the_office_pages_run_under_the_policy(demo_app, live_server, browser):
    ids = some_ids(demo_app)
    plan = open_a_plan(demo_app)
    visit = Visit(browser, live_server.url, "admin")
    try:
        for path in ("/", "/a-corriger", "/personnes", f"/personnes/{ids['personne']}",
                     "/alertes", "/planning", "/planning/affecter", "/registre",
                     f"/registre/{ids['registre.inscription']}",
                     f"/registre/{ids['registre.inscription']}/accuse", "/plans",
                     "/plans/nouveau", f"/plans/{ids['plan']}", f"/plans/{plan}",
                     "/permanences", "/fiches", f"/fiches/{ids['visite.visite']}",
                     f"/modifier/{ids['visite.visite']}", "/tableau-de-bord",
                     "/tableau-de-bord/rapport", "/quarantaine", "/conflits",
                     "/admin/utilisateurs", "/admin/formulaires",
                     "/admin/formulaires/maraude.rencontre",
                     "/admin/formulaires/maraude.rencontre/champs/prestations",
                     "/admin/listes", "/admin/import", "/saisie/personne", "/appels",
                     f"/plans/{plan}/prefet"):
            visit.open(path)
        # The register printed for the préfet: a page of its own, with its print button.
        visit.page.get_by_label("Motif de la transmission").fill("Demande de la préfecture")
        visit.page.get_by_label("Page à imprimer").check()
        visit.page.get_by_role("button", name="Transmettre").click()
        expect(visit.page.get_by_role("button", name="Imprimer")).to_be_visible()
        visit.page.wait_for_load_state("networkidle")
        visit.note()
        assert visit.refused == []
    finally:
        visit.close()


FIELD_PAGES = {
    "maraude": ["/", "/saisie/maraude.tournee", "/saisie/maraude.rencontre",
                "/saisie/maraude.rencontre/rapide", "/saisie/maraude.lieu", "/a-corriger",
                "/appels", "/personnes"],
    "visiteur": ["/", "/saisie/visite.visite", "/appels", "/a-corriger"],
    "social": ["/", "/saisie/permanence.session", "/saisie/permanence.accueil", "/permanences"],
}


def test_the_field_pages_run_under_the_policy(demo_app, live_server, browser):
    tournee = some_ids(demo_app)["maraude.tournee"]
    for login, paths in FIELD_PAGES.items():
        visit = Visit(browser, live_server.url, login)
        try:
            for path in paths + ([f"/tournees/{tournee}"] if login == "maraude" else []):
                visit.open(path)
            assert visit.refused == [], login
        finally:
            visit.close()
