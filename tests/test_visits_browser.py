"""A visiteur's day on the tablet, in a real Chromium: "Mes visites" offline, a senior who does
not answer, the alert reaching the coordinateur's inbox after the sync, and its fate coming back."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.alerts.models import Alert
from outreach.core import storing
from outreach.core.catalog import engine_forms
from outreach.core.db import db
from outreach.core.models import Record
from outreach.visits import planning
from sync.push import Actor, apply_batch
from tests.conftest import add_user
from tests.test_offline import log_in, ready_offline

pytestmark = pytest.mark.browser
VISIT_FORM = "/saisie/visite.visite"


def senior(app, office_id, alias, nom, **data):
    """Record a senior at the office, as the coordinateur does; return their id."""
    ident = str(uuid.uuid4())
    item = {"id": ident, "form": "personne", "form_version": 2, "parent_id": None,
            "recorded_at": datetime.now(UTC).isoformat(), "base_revision": None,
            "data": {"niveau": "identifie", "alias_prenom": alias, "nom": nom,
                     "consentement": True, "date_consentement": "2026-01-05", **data}}
    with app.app_context():
        office = Actor(id=office_id, role="coordinateur", office=True)
        [result] = apply_batch(db.session, office, None, [item], engine_forms()).results
        assert result["status"] == "created", result
    return ident


def synced(page) -> None:
    """Run the page's sync, as going back online would; fail, rather than wait for ever."""
    settled = page.evaluate("""Promise.race([
        window.outreach.sync().then(() => "settled"),
        new Promise((resolve) => setTimeout(() => resolve("still running"), 30000)),
    ])""")
    assert settled == "settled", "the sync did not settle in 30 s"


def test_mes_visites_offline_a_senior_who_does_not_answer_and_the_alert_followed(
    app, live_server, page, browser
):
    app.config["COORDINATION_PHONE"] = "05 55 12 34 56"
    vera = add_user(app, "vera", "visiteur")
    victor = add_user(app, "victor", "visiteur")
    claire = add_user(app, "claire", "coordinateur")
    jeanne = senior(app, claire, "Jeanne", "Martin", adresse="12 rue des Lilas",
                    telephone="05 55 00 00 01", contact_urgence="Paul Martin (fils)",
                    telephone_urgence="06 12 34 56 78")
    other = senior(app, claire, "Robert", "Petit", adresse="3 place du Marché")
    with app.app_context():
        planning.assign(db.session, jeanne, vera, "hebdomadaire", "domicile",
                        date.today() - timedelta(days=10), claire)
        planning.assign(db.session, other, victor, "hebdomadaire", "domicile",
                        date.today(), claire)
        db.session.commit()

    # Vera's home screen is "Mes visites": Jeanne, overdue, with what the visit needs.
    log_in(page, live_server.url, "vera")
    visits = page.locator("#mes-visites")
    expect(visits.get_by_role("heading", name="Jeanne Martin")).to_be_visible()
    expect(visits).to_contain_text("En retard")
    expect(visits).to_contain_text("12 rue des Lilas")
    expect(visits).to_contain_text("Paul Martin (fils)")
    expect(visits).not_to_contain_text("Robert")
    ready_offline(page, VISIT_FORM)
    ready_offline(page, "/")

    # No network: the list opens from the tablet, and the visit form with Jeanne chosen.
    page.context.set_offline(True)
    page.reload()
    expect(visits.get_by_role("heading", name="Jeanne Martin")).to_be_visible()
    visits.get_by_role("link", name="Saisir la visite").click()
    expect(page.get_by_label("Personne visitée", exact=True)).to_have_value(jeanne)
    page.get_by_label("Date", exact=True).fill(date.today().isoformat())
    page.get_by_role("radio", name="À domicile", exact=True).check()
    page.get_by_role("radio", name="Absente / pas de réponse").check()
    page.get_by_role("radio", name="Absence de réponse inquiétante").check()
    guidance = page.locator("#que-faire")
    expect(guidance).to_contain_text("Appelez la personne à prévenir")
    expect(guidance.get_by_role("link", name="Appeler la personne à prévenir : 06 12 34 56 78")
           ).to_be_visible()
    expect(guidance.get_by_role("link", name="Appeler la coordination : 05 55 12 34 56")
           ).to_be_visible()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    page.goto(live_server.url + "/")
    expect(visits.get_by_role("heading", name="Jeanne Martin")).to_be_visible()
    # Not seen: still due (issue 15, finding 2; it moved on before), and the card says why.
    expect(visits).to_contain_text("En retard")
    expect(visits).to_contain_text("Absente / pas de réponse lors de la visite du")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    # Back online: the visite reaches the server and raises the alert in the inbox.
    page.context.set_offline(False)
    synced(page)
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    with app.app_context():
        [visit] = db.session.scalars(select(Record).where(Record.form == "visite.visite")).all()
        [alert] = db.session.scalars(select(Alert)).all()
        assert (alert.kind, alert.record_id) == ("absence_reponse", visit.id)

    office = browser.new_context(locale="fr-FR").new_page()
    log_in(office, live_server.url, "claire")
    office.goto(f"{live_server.url}/alertes")
    expect(office.get_by_text("Absence de réponse").first).to_be_visible()
    expect(office.get_by_text("Jeanne Martin").first).to_be_visible()
    office.get_by_role("button", name="Prendre en charge").first.click()
    # The inbox says it before the office's browser goes: a context closed on a POST in flight
    # may wait for ever on it.
    expect(office.get_by_text("Prise en charge par Claire").first).to_be_visible()
    office.context.close()

    # At the next pull, Vera sees what became of the alert she raised.
    synced(page)
    expect(page.locator("#mes-alertes")).to_contain_text("Prise en charge par")
    with app.app_context():
        storing.catch_up(db.session)  # nothing left to follow: no second alert
        assert len(db.session.scalars(select(Alert)).all()) == 1
