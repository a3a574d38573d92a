"""A tablet that stays away (issue 19): in Chromium, its home page warns when records wait and
its last successful sync is older than OUTREACH_STALE_SYNC_DAYS, and stops once it syncs."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Tablet, User, utcnow
from sync.schema import sync_log
from tests.conftest import add_user, wait_until
from tests.test_offline import FORM, fill_tournee, log_in, ready_offline

pytestmark = pytest.mark.browser


def last_sync_was(page, moment: datetime) -> None:
    """Say on the tablet that its last successful sync was at `moment`."""
    page.evaluate("""async (iso) => {
        const store = await import("/static/js/store.js");
        await store.setMeta("last_sync", iso);
    }""", moment.isoformat())


def settled(page) -> None:
    """Wait for any sync under way to end, so none moves the last sync after the test sets it."""
    wait_until(page, "window.outreach.sync().then(() => true)")


def test_records_waiting_since_a_sync_days_ago_are_said_on_the_home_page(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    warning = page.locator("#stale-sync")
    expect(page.get_by_role("status")).to_contain_text("Synchronisé le")
    expect(warning).to_be_hidden()

    # With no network (so no sync moves it), the last sync three days ago: nothing waits yet,
    # nothing to say.
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, "/")
    settled(page)
    page.context.set_offline(True)
    last_sync_was(page, datetime.now(UTC) - timedelta(days=3, hours=2))
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Bonjour Lea")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    expect(warning).to_be_hidden()

    # A record saved with no network now waits: the home page says since when.
    page.goto(f"{live_server.url}{FORM}")
    fill_tournee(page, "Gare et quais")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    page.goto(f"{live_server.url}/")
    expect(warning).to_be_visible()
    expect(warning).to_have_text(
        "Dernière synchronisation il y a 3 jours : 1 fiche attend sur cette tablette. Dès que "
        "le réseau revient, touchez « Synchroniser » pour les envoyer au CCAS.")
    expect(page.get_by_role("alert").filter(has_text="il y a 3 jours")).to_have_count(1)

    # Back in range: the record goes, and so does the warning.
    page.context.set_offline(False)
    page.get_by_role("button", name="Synchroniser").click()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    expect(warning).to_be_hidden()


def test_a_sync_within_the_allowed_days_says_nothing(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, "/")
    settled(page)
    page.context.set_offline(True)
    fill_tournee(page, "Gare et quais")
    last_sync_was(page, datetime.now(UTC) - timedelta(hours=20))
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    expect(page.locator("#stale-sync")).to_be_hidden()


def test_the_office_sees_the_long_silent_tablet_first(app, live_server, page, browser):
    add_user(app, "lea", "maraude")
    add_user(app, "vera", "visiteur")
    add_user(app, "coco", "coordinateur")
    for login in ("lea", "vera"):
        tablet = browser.new_context(locale="fr-FR")
        field = tablet.new_page()
        log_in(field, live_server.url, login)
        expect(field.get_by_role("status")).to_contain_text("Synchronisé le")
        tablet.close()
    with app.app_context():
        # Léa's tablet has not reached the server for twelve days.
        lea = db.session.scalar(select(sync_log.c.device_id).where(
            sync_log.c.user_id == select(User.id).where(User.login == "lea").scalar_subquery()))
        db.session.execute(sync_log.update().where(sync_log.c.device_id == lea).values(
            at=utcnow() - timedelta(days=12)))
        tablet = db.session.get(Tablet, lea)
        tablet.last_seen_at = tablet.last_sync_at = utcnow() - timedelta(days=12)
        db.session.commit()
    log_in(page, live_server.url, "coco")
    page.goto(f"{live_server.url}/admin/tablettes")
    table = page.get_by_role("table", name="Par personne et par tablette")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Lea")
    expect(rows.nth(0)).to_contain_text("Silencieuse")
    expect(rows.nth(0)).to_contain_text(lea[:8])
    expect(rows.nth(1)).to_contain_text("Vera")
    expect(rows.nth(1)).not_to_contain_text("Silencieuse")
    tablets = page.get_by_role("table", name="Tablettes connues").locator("tbody tr")
    expect(tablets.nth(0)).to_contain_text(lea[:8])
