"""A form changed at /admin/formulaires reaches a tablet, in a real Chromium: the admin adds a
field in the browser, the maraude tablet's next sync brings version 2, the form opens in it with
no network, and the record leaves with its version."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record
from tests.conftest import add_user, wait_until
from tests.test_offline import FORM, fill_tournee, log_in, ready_offline

pytestmark = pytest.mark.browser


def test_a_field_the_admin_adds_is_on_the_tablet_offline_after_its_next_sync(
    app, live_server, browser, page
):
    add_user(app, "lea", "maraude")
    add_user(app, "marc", "admin")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, FORM)

    office = browser.new_context(locale="fr-FR")
    try:
        admin = office.new_page()
        log_in(admin, live_server.url, "marc")
        admin.get_by_role("link", name="Formulaires").click()
        admin.get_by_role("link", name="Tournée de maraude").click()
        admin.get_by_label("Libellé").fill("Repas servis")
        admin.get_by_label("Type").select_option("counter")
        admin.get_by_label("Obligatoire").check()
        admin.get_by_role("button", name="Ajouter le champ").click()
        expect(admin.get_by_text("Version 2 enregistrée")).to_be_visible()
    finally:
        office.close()

    page.evaluate("window.outreach.sync()")
    wait_until(page, """import('/static/js/store.js')
        .then((store) => store.formVersions('maraude.tournee'))
        .then((versions) => versions.some((definition) => definition.version === 2))""")
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_label("Repas servis")).to_be_visible()
    page.get_by_label("Repas servis").fill("14")
    fill_tournee(page, "Gare et quais")
    page.context.set_offline(False)
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    with app.app_context():
        stored = db.session.scalars(select(Record)).one()
        assert (stored.form_version, stored.data["repas_servis"]) == (2, 14)
