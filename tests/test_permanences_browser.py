"""A travailleur social's tablet, in a real Chromium: the permanences planned for them and their
follow-up appointments, offline; a session opened from the plan comes filled in."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from outreach.core.db import db
from outreach.core.models import ReferenceItem
from outreach.permanences.views import plan
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item
from tests.test_offline import log_in, ready_offline

pytestmark = pytest.mark.browser


def test_mes_permanences_and_a_venir_offline(app, live_server, page):
    sophie = add_user(app, "sophie", "travailleur_social")
    claire = add_user(app, "claire", "coordinateur")
    day = date.today() + timedelta(days=2)
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls"))
        db.session.flush()
        planned, errors = plan(db.session, "tilleuls", day, "09:30", "12:00", sophie,
                               "Clé à l'accueil de la mairie.", claire, date.today())
        assert not errors
        db.session.commit()
    follow_up = date.today() + timedelta(days=9)
    Tablet(app.test_client(), "sophie").push(item("permanence.accueil", {
        "niveau": "anonyme", "nombre_personnes": 1, "motifs": ["logement"],
        "rendez_vous_suivi": follow_up.isoformat()}))

    log_in(page, live_server.url, "sophie")
    sessions = page.locator("#mes-permanences")
    expect(sessions).to_contain_text("Centre social des Tilleuls")
    expect(sessions).to_contain_text("09:30–12:00")
    ready_offline(page, "/saisie/permanence.session")
    ready_offline(page, "/")

    page.context.set_offline(True)
    page.reload()
    expect(sessions).to_contain_text("Clé à l'accueil de la mairie.")
    expect(page.locator("#a-venir")).to_contain_text("Personne reçue (anonyme) · Logement")
    sessions.get_by_role("link", name="Ouvrir la permanence").click()
    expect(page.get_by_role("radio", name="Centre social des Tilleuls")).to_be_checked()
    expect(page.get_by_label("Date", exact=True)).to_have_value(day.isoformat())
    expect(page.get_by_label("Heure de début")).to_have_value("09:30")
