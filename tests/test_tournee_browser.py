"""Closing a tournée in the car park, in a real Chromium: a round the coordinateur planned is on
the team's tablet, a rencontre rapide is saved offline under it, and "Clore la tournée" works
offline too, its count made of the server's rencontres and the one still waiting."""

from datetime import date

import pytest
from playwright.sync_api import expect

from outreach.core.db import db
from outreach.core.models import Record
from tests.conftest import add_user, wait_until
from tests.sync_helpers import Tablet, item, rencontre
from tests.test_offline import log_in, ready_offline

pytestmark = pytest.mark.browser


def test_a_planned_tournee_is_closed_offline_with_its_waiting_rencontres_counted(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    add_user(app, "helene", "coordinateur")
    office = Tablet(app.test_client(), "helene")
    tournee = item("maraude.tournee", {"date": date.today().isoformat(), "heure_depart": "20:30",
                                       "secteur": "Canal", "equipe": "Léa, Hugo"})
    office.push(tournee)
    Tablet(app.test_client(), "lea").push(
        item(data=rencontre(nombre_personnes=3), parent_id=tournee["id"]))

    log_in(page, live_server.url, "lea")
    expect(page.get_by_text("Canal")).to_be_visible()
    ready_offline(page, f"/tournees/{tournee['id']}")
    page.context.set_offline(True)

    page.goto(f"{live_server.url}/saisie/maraude.rencontre/rapide?parent={tournee['id']}")
    page.get_by_label("Lieu").fill("Écluse")
    page.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Boisson chaude").click()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("2 personnes")

    page.goto(f"{live_server.url}/tournees/{tournee['id']}")
    page.get_by_label("Heure de retour").fill("23:10")
    page.get_by_role("button", name="Clore la tournée").click()
    expect(page.locator("#close-feedback")).to_have_text("Tournée close : 5 personnes rencontrées.")
    expect(page.get_by_role("status")).to_contain_text("2 fiches en attente")

    page.context.set_offline(False)
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    with app.app_context():
        closed = db.session.get(Record, tournee["id"])
        assert (closed.revision, closed.data["heure_retour"], closed.data["nombre_personnes"]) \
            == (2, "23:10", 5)
