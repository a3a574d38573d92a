"""Safari's rules (issue 20, DESIGN §9), in Chromium: syncs with no `navigator.locks` and no
Background Sync, as on Safari; and, on an iPad or an iPhone outside the home screen, the home page
and the status area say that Safari erases what waits after seven days without Outreach opened.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from outreach.demo.load import DEMO_PASSWORD
from tests.conftest import VIEWPORTS, add_user, wait_until
from tests.test_a11y_browser import problems
from tests.test_offline import FORM, fill_tournee, log_in, ready_offline, stored
from tests.test_screenshots import SHOTS

pytestmark = pytest.mark.browser

# What Safari lacks: the Web Locks API and Background Sync. Run before the page's own scripts.
WITHOUT_LOCKS_NOR_BACKGROUND_SYNC = """
    delete Navigator.prototype.locks;
    delete window.SyncManager;
    delete ServiceWorkerRegistration.prototype.sync;
"""
# iPadOS Safari says it is a Mac; an iPhone says it is one.
IPAD = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.0 Safari/605.1.15")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
          "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def apple_webkit(standalone: bool) -> str:
    """What only Apple's WebKit has (navigator.standalone), and an iPad's five touch points."""
    return f"""
        Object.defineProperty(Navigator.prototype, "standalone", {{
            get: () => {str(standalone).lower()}, configurable: true }});
        Object.defineProperty(Navigator.prototype, "maxTouchPoints", {{
            get: () => 5, configurable: true }});
    """


@pytest.fixture
def tablet(browser):
    """Open a tablet in a fresh context: tablet(user_agent=…, script=…, **context options)."""
    contexts = []

    def open_one(user_agent=None, script=None, **options):
        context = browser.new_context(locale="fr-FR", viewport=VIEWPORTS["tablette"],
                                      **({"user_agent": user_agent} if user_agent else {}),
                                      **options)
        contexts.append(context)
        if script:
            context.add_init_script(script)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def settled(page) -> None:
    """Wait for any sync under way (the page's first) to end."""
    wait_until(page, "window.outreach.sync().then(() => true)")


def waiting_on_the_tablet(page) -> tuple[int, int]:
    """Count the records the outbox still holds: to send, and to fix."""
    return tuple(page.evaluate("""async () => {
        const store = await import("/static/js/store.js");
        return [await store.countWaiting(), await store.countToFix()];
    }"""))


def secteurs(app) -> list[str]:
    """Return the secteur of each tournée the server holds, sorted."""
    return sorted(record.data["secteur"] for record in stored(app))


# 1. Syncs as on Safari: no navigator.locks, no SyncManager.

def test_with_neither_locks_nor_background_sync_each_trigger_sends_what_waits(
    app, live_server, tablet
):
    add_user(app, "lea", "maraude")
    page = tablet(script=WITHOUT_LOCKS_NOR_BACKGROUND_SYNC)
    # The clock is paused below: no retry and no minute's recheck fires, only the trigger tried.
    page.clock.install()
    log_in(page, live_server.url, "lea")
    assert page.evaluate("!('locks' in navigator) && !('SyncManager' in window)")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => !('sync' in r))")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, FORM)
    settled(page)
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    status = page.get_by_role("status")

    def offline():
        page.context.set_offline(True)

    def network_back():
        page.context.set_offline(False)  # Chromium fires `online` (as does Safari)

    # Online, but the server does not answer (a Wi-Fi with no way out): no `online` comes, and
    # only the trigger tried can send once the server answers again.
    def unanswered():
        page.context.route("**/api/v1/**", lambda route: route.abort())

    def answered():
        page.context.unroute("**/api/v1/**")

    def synchroniser():
        answered()
        page.get_by_role("button", name="Synchroniser", exact=True).click()

    def tablet_shown_again():
        answered()
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    sent = []
    for secteur, cut, trigger in (("Gare et quais", offline, network_back),
                                  ("Parc des Sources", unanswered, synchroniser),
                                  ("Rue Haute", unanswered, tablet_shown_again)):
        # Saved with no answer: its own sync fails, and its retry waits on the paused clock.
        cut()
        fill_tournee(page, secteur)
        expect(status).to_contain_text("1 fiche en attente")
        assert secteurs(app) == sorted(sent)
        trigger()
        expect(status).to_contain_text("Aucune fiche en attente")
        sent.append(secteur)
        assert secteurs(app) == sorted(sent)
    assert waiting_on_the_tablet(page) == (0, 0)


def test_two_syncs_at_once_with_no_locks_send_each_record_once(app, live_server, tablet):
    add_user(app, "lea", "maraude")
    page = tablet(script=WITHOUT_LOCKS_NOR_BACKGROUND_SYNC)
    page.clock.install()
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, FORM)
    settled(page)
    # Paused: the failed sync's retry never comes to send what the syncs under test left.
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    status = page.get_by_role("status")
    page.context.set_offline(True)
    fill_tournee(page, "Gare et quais")
    expect(status).to_contain_text("1 fiche en attente")

    # The network back, and two syncs at once; the first pull is held while another record is
    # saved: a sync asked for meanwhile must still send it, after the one under way.
    held, holding = [], [True]

    def hold_pulls(route):
        if holding[0]:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/sync/pull*", hold_pulls)
    with page.expect_request("**/api/v1/sync/pull*"):
        page.context.set_offline(False)
        page.evaluate("""() => {
            window.both = Promise.all([window.outreach.sync(), window.outreach.sync()]);
        }""")
    fill_tournee(page, "Parc des Sources")
    assert held, "the first pull was not held"
    assert secteurs(app) == ["Gare et quais"]
    holding[0] = False
    for route in held:
        route.continue_()
    wait_until(page, "window.both.then(() => true)")
    expect(status).to_contain_text("Aucune fiche en attente")
    assert secteurs(app) == ["Gare et quais", "Parc des Sources"]
    assert waiting_on_the_tablet(page) == (0, 0)

    # Two more at once find nothing left to send; the server still holds each record once.
    both = "Promise.all([window.outreach.sync(), window.outreach.sync()])"
    wait_until(page, f"{both}.then(() => true)")
    assert secteurs(app) == ["Gare et quais", "Parc des Sources"]
    expect(status).to_contain_text("Aucune fiche en attente")


def test_with_no_locks_a_logout_waits_for_the_sync_and_keeps_what_waits(app, live_server, tablet):
    add_user(app, "lea", "maraude")
    page = tablet(script=WITHOUT_LOCKS_NOR_BACKGROUND_SYNC)
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())
    fill_tournee(page, "Gare et quais")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    page.context.unroute("**/api/v1/sync/push")
    log_in(page, live_server.url, "lea")
    # The page first says "Aucune fiche en attente" before it counts: wait for a sync that finds
    # nothing left to send.
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    assert secteurs(app) == ["Gare et quais"]


# 2. Safari outside the home screen: the home page's advice and the status area's warning.

ADVICE = "Safari peut effacer vos fiches"


@pytest.mark.parametrize("user_agent, script, has_touch, shown", [
    pytest.param(IPAD, apple_webkit(standalone=False), True, True, id="ipad-safari"),
    pytest.param(IPAD, apple_webkit(standalone=True), True, False, id="ipad-ecran-accueil"),
    pytest.param(IPHONE, None, True, True, id="iphone-safari"),
    pytest.param(None, None, False, False, id="chromium"),
])
def test_the_home_page_says_to_add_outreach_to_the_home_screen_only_in_safari(
    app, live_server, tablet, user_agent, script, has_touch, shown
):
    add_user(app, "lea", "maraude")
    page = tablet(user_agent=user_agent, script=script, has_touch=has_touch)
    log_in(page, live_server.url, "lea")
    expect(page.get_by_role("status")).to_contain_text("Synchronisé le")
    advice = page.get_by_role("region", name=ADVICE)
    if not shown:
        expect(page.locator("#ecran-accueil")).to_be_hidden()
        expect(advice).to_have_count(0)
        return
    expect(advice).to_be_visible()
    expect(advice.get_by_role("heading", name=ADVICE)).to_be_visible()
    expect(advice).to_contain_text(
        "Si vous n'ouvrez pas Outreach pendant 7 jours, Safari efface les fiches en attente et "
        "les pages hors ligne de cette tablette.")
    expect(advice).to_contain_text("Touchez « Partager → Sur l'écran d'accueil ».")
    # The home screen's app does not see Safari's storage: synchronise first.
    steps = advice.get_by_role("listitem")
    expect(steps.first).to_contain_text("Touchez « Synchroniser ».")
    expect(advice).to_contain_text("Synchronisez bien avant.")


@pytest.mark.parametrize("user_agent, script, warned", [
    pytest.param(IPAD, apple_webkit(standalone=False), True, id="ipad-safari"),
    pytest.param(IPAD, apple_webkit(standalone=True), False, id="ipad-ecran-accueil"),
    pytest.param(None, None, False, id="chromium"),
])
def test_records_waiting_in_safari_are_said_to_be_at_risk(
    app, live_server, tablet, user_agent, script, warned
):
    add_user(app, "lea", "maraude")
    page = tablet(user_agent=user_agent, script=script, has_touch=True)
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, FORM)
    settled(page)
    status = page.get_by_role("status")
    page.context.set_offline(True)
    fill_tournee(page, "Gare et quais")
    one = "1 fiche en attente : Safari peut l'effacer après 7 jours sans ouvrir Outreach. " \
          "Synchronisez."
    if warned:
        expect(status).to_contain_text(one)
    else:
        expect(status).to_contain_text("1 fiche en attente · ")
        expect(status).not_to_contain_text("Safari")
    fill_tournee(page, "Parc des Sources")
    if warned:
        expect(status).to_contain_text("2 fiches en attente : Safari peut les effacer après 7 j")
    else:
        expect(status).to_contain_text("2 fiches en attente · ")
    # Sent, nothing is at risk any more: the status says so as everywhere.
    page.context.set_offline(False)
    page.get_by_role("button", name="Synchroniser", exact=True).click()
    expect(status).to_contain_text("Aucune fiche en attente · Synchronisé le")
    expect(status).not_to_contain_text("Safari")


def test_screenshot_of_the_advice_on_an_ipad(demo_app, live_server, tablet):
    """The README's picture of the advice, read by axe-core: a maraude agent's home on an iPad."""
    page = tablet(user_agent=IPAD, script=apple_webkit(standalone=False), has_touch=True)
    log_in(page, live_server.url, "maraude", password=DEMO_PASSWORD)
    # A tournée saved with no network waits: the status area warns too.
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, "/")
    settled(page)
    page.context.set_offline(True)
    fill_tournee(page, "Gare et quais")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente : Safari peut l'effacer")
    expect(page.get_by_role("region", name=ADVICE)).to_be_visible()
    assert problems(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ipad-safari-ecran-accueil.png"))
