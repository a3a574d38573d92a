"""The team's lieux on the tablet, in a real Chromium: a lieu named offline in the car park is
offered at the next rencontre, still offline, and reaches every team's list once it syncs."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import ReferenceItem
from tests.conftest import add_user, wait_until
from tests.test_offline import log_in, ready_offline

pytestmark = pytest.mark.browser


def test_a_lieu_named_offline_is_offered_at_once_and_shared_after_the_sync(
    app, live_server, page
):
    with app.app_context():
        db.session.add(ReferenceItem(list_key="lieux", value="parvis_de_la_gare",
                                     label="Parvis de la gare", position=1))
        db.session.commit()
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    ready_offline(page, "/saisie/maraude.lieu")
    page.context.set_offline(True)

    page.goto(f"{live_server.url}/saisie/maraude.lieu")
    page.get_by_label("Nom du lieu").fill("Parking du Leclerc")
    page.get_by_label("Repères").fill("Derrière la station de lavage.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")

    page.goto(f"{live_server.url}/saisie/maraude.rencontre")
    offered = page.locator("#f-lieu-lieux option")
    expect(offered).to_have_count(2)
    assert sorted(offered.evaluate_all("(options) => options.map((o) => o.value)")) == [
        "Parking du Leclerc", "Parvis de la gare"]
    expect(page.get_by_label("Lieu", exact=True)).to_have_attribute("list", "f-lieu-lieux")

    page.context.set_offline(False)
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    with app.app_context():
        labels = set(db.session.scalars(select(ReferenceItem.label)))
    assert labels == {"Parvis de la gare", "Parking du Leclerc"}
    # The next pull brings the list with it: once sent, the lieu is offered from the list.
    wait_until(page, """import('/static/js/store.js').then((store) => store.referenceLists())
        .then((lists) => (lists.lieux || [])
            .some((entry) => entry.label === 'Parking du Leclerc'))""")
