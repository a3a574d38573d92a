"""Logging out on a tablet, in a real Chromium (issue 14, finding 8; DESIGN §9): the person's
kept pages and local data go, online or offline; with records waiting it asks, and keeps them."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record
from outreach.visits import planning
from tests.conftest import add_user, wait_until
from tests.test_offline import log_in, ready_offline
from tests.test_visits_browser import VISIT_FORM, senior

pytestmark = pytest.mark.browser

# What the tablet holds of a person, read from the page: every cache's pages (and whether one
# names the senior), the IndexedDB databases, and the person's stores if their database is there.
TABLET = """async ([user, name]) => {
    const pages = {};
    for (const key of await caches.keys()) {
        const cache = await caches.open(key);
        for (const request of await cache.keys()) {
            const text = await (await cache.match(request)).text();
            pages[new URL(request.url).pathname] = { cache: key, names: text.includes(name) };
        }
    }
    const databases = (await indexedDB.databases()).map((found) => found.name);
    const stores = {};
    if (databases.includes(`outreach-${user}`)) {
        const db = await new Promise((resolve, reject) => {
            const opening = indexedDB.open(`outreach-${user}`);
            opening.onsuccess = () => resolve(opening.result);
            opening.onerror = () => reject(opening.error);
        });
        for (const store of db.objectStoreNames) {
            stores[store] = await new Promise((resolve) => {
                const all = db.transaction(store).objectStore(store).getAll();
                all.onsuccess = () => resolve(all.result);
            });
        }
        stores.meta_keys = await new Promise((resolve) => {
            const keys = db.transaction("meta").objectStore("meta").getAllKeys();
            keys.onsuccess = () => resolve(keys.result);
        });
        db.close();
    }
    const local = Object.keys(localStorage);
    return { pages, databases, stores, local };
}"""
PERSONAL_KINDS = ("people", "visits", "alerts", "sessions", "appointments", "encounters",
                  "calls")


@pytest.fixture
def office(app):
    """A visiteur with one senior assigned, and another visiteur's senior: return their ids."""
    vera = add_user(app, "vera", "visiteur")
    victor = add_user(app, "victor", "visiteur")
    claire = add_user(app, "claire", "coordinateur")
    jeanne = senior(app, claire, "Jeanne", "Martin", adresse="12 rue des Lilas",
                    telephone="05 55 00 00 01", contact_urgence="Paul Martin (fils)")
    robert = senior(app, claire, "Robert", "Petit", adresse="3 place du Marché")
    with app.app_context():
        planning.assign(db.session, jeanne, vera, "hebdomadaire", "domicile",
                        date.today() - timedelta(days=3), claire)
        planning.assign(db.session, robert, victor, "hebdomadaire", "domicile",
                        date.today(), claire)
        db.session.commit()
    return {"vera": vera, "jeanne": jeanne}


def jeanne_in_her_visits(page):
    return page.locator("#mes-visites").get_by_role("heading", name="Jeanne Martin")


def open_her_day(page, url, jeanne):
    """Log in as Vera online, see Jeanne in "Mes visites", and open her pages (kept: the
    pages for offline use, which name nobody; never her file, which names her)."""
    log_in(page, url, "vera")
    expect(jeanne_in_her_visits(page)).to_be_visible()
    ready_offline(page, VISIT_FORM)
    ready_offline(page, "/")
    page.goto(f"{url}/personnes/{jeanne}")
    expect(page.get_by_role("heading", name="Jeanne Martin")).to_be_visible()
    ready_offline(page, "/a-corriger")
    assert page.evaluate(f"caches.match('/personnes/{jeanne}').then(Boolean)") is False


def tablet(page, user):
    return page.evaluate(TABLET, [str(user), "Martin"])


def assert_nothing_of_her(page, url, user, jeanne):
    """No kept page, no database, no local setting of hers: only the shell stays (and, after
    a logout made offline, her id for the service worker to end the session when it can)."""
    held = tablet(page, user)
    personal = {path: where for path, where in held["pages"].items()
                if not path.startswith("/static/") and where["cache"] != "logout-pending"}
    assert personal == {}, personal
    assert not any(where["names"] for where in held["pages"].values())
    assert f"outreach-{user}" not in held["databases"], held["stores"]
    assert not [key for key in held["local"] if key.startswith("outreach-last-")]
    for path in ("/", VISIT_FORM, f"/personnes/{jeanne}", "/a-corriger"):
        page.goto(url + path)
        expect(page.get_by_role("heading", name=re.compile("^(Hors ligne|Déconnecté)$"))
               ).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("Martin")
        expect(page.locator("body")).not_to_contain_text("Jeanne")


def test_logging_out_erases_her_pages_and_data_and_nothing_opens_offline(
    app, office, live_server, page
):
    vera, jeanne = office["vera"], office["jeanne"]
    open_her_day(page, live_server.url, jeanne)
    held = tablet(page, vera)
    # Her pages are kept, and none names Jeanne: Jeanne is in the store, sealed.
    assert {"/", VISIT_FORM} <= set(held["pages"])
    assert not any(where["names"] for where in held["pages"].values())
    assert [person["id"] for person in held["stores"]["people"]] == [jeanne]
    assert "Martin" not in str(held["stores"]["people"])
    assert held["stores"]["visits"]

    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server.url}/a-corriger")
    wait_until(other_tab, "window.outreach && navigator.serviceWorker.controller")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    # Her other tab leaves her pages too, without writing anything of hers back.
    expect(other_tab.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    expect(other_tab.get_by_role("heading", name="Connexion")).to_be_visible()
    # "Vous êtes déconnecté." is told by the tab that reached the login page first (both, when
    # they read the same cookie at once).
    told = [tab.get_by_text("Vous êtes déconnecté.").count() for tab in (page, other_tab)]
    assert sum(told) >= 1, told
    other_tab.close()
    assert page.evaluate("fetch('/api/v1/session').then((answer) => answer.status)") == 401

    page.context.set_offline(True)
    assert_nothing_of_her(page, live_server.url, vera, jeanne)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Hors ligne")).to_be_visible()


def test_logging_out_offline_erases_at_once_and_ends_the_session_when_the_network_is_back(
    app, office, live_server, page
):
    vera, jeanne = office["vera"], office["jeanne"]
    open_her_day(page, live_server.url, jeanne)
    page.goto(f"{live_server.url}/")
    ready_offline(page, "/")

    page.context.set_offline(True)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Déconnecté")).to_be_visible()
    expect(page.get_by_text("la session sera fermée sur le serveur")).to_be_visible()
    assert_nothing_of_her(page, live_server.url, vera, jeanne)

    # The network is back: the first page opened ends the session before it shows anything.
    page.context.set_offline(False)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    assert page.evaluate("fetch('/api/v1/session').then((answer) => answer.status)") == 401
    assert page.evaluate("caches.has('logout-pending')") is False
    log_in(page, live_server.url, "vera")
    expect(jeanne_in_her_visits(page)).to_be_visible()


def visits_stored(app):
    with app.app_context():
        return list(db.session.scalars(select(Record).where(Record.form == "visite.visite")))


def test_with_a_visit_waiting_logout_asks_keeps_it_and_it_is_sent_once_at_the_next_login(
    app, office, live_server, page
):
    vera, jeanne = office["vera"], office["jeanne"]
    open_her_day(page, live_server.url, jeanne)
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())
    page.goto(f"{live_server.url}/")
    page.locator("#mes-visites").get_by_role("link", name="Saisir la visite").click()
    expect(page.get_by_label("Personne visitée", exact=True)).to_have_value(jeanne)
    page.get_by_label("Date", exact=True).fill(date.today().isoformat())
    page.get_by_role("radio", name="À domicile", exact=True).check()
    page.get_by_role("group", name="Personne vue").get_by_label("Oui").check()
    page.get_by_role("radio", name="Aucune", exact=True).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="Se déconnecter").click()
    assert "1 fiche attend encore d'être envoyée" in asked.value.message
    assert "le reste de vos données en sera effacé" in asked.value.message
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()

    # The visit waits in her outbox; what was pulled about Jeanne is gone, and so are the pages.
    held = tablet(page, vera)
    [waiting] = held["stores"]["outbox"]
    # Sealed: its id and when it was queued in clear, the record itself not.
    assert "sealed" in waiting and "data" not in waiting and "form" not in waiting
    assert all(held["stores"][kind] == [] for kind in PERSONAL_KINDS)
    assert "cursor" not in held["stores"]["meta_keys"]
    assert not [path for path in held["pages"] if not path.startswith("/static/")]
    assert visits_stored(app) == []

    # At her next login the visit leaves once; the working set comes back with the pull.
    page.context.unroute("**/api/v1/sync/push")
    log_in(page, live_server.url, "vera")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    expect(jeanne_in_her_visits(page)).to_be_visible()
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    [visit] = visits_stored(app)
    assert visit.id == waiting["id"] and visit.data["personne"] == jeanne


def test_a_record_to_fix_is_asked_about_and_kept_through_logout(app, office, live_server, page):
    vera, jeanne = office["vera"], office["jeanne"]
    open_her_day(page, live_server.url, jeanne)
    page.goto(f"{live_server.url}/a-corriger")
    # A visite the server refuses (no mode: an older app let it through): it is hers to fix.
    page.evaluate("""async (jeanne) => {
        const store = await import('/static/js/store.js');
        await store.queue({id: crypto.randomUUID(), form: 'visite.visite', form_version: 1,
            title: 'Visite', recorded_at: new Date().toISOString(), parent_id: null,
            base_revision: null, data: {personne: jeanne, date: '2026-11-20',
            personne_vue: 'oui', alerte: 'aucune'}});
        return window.outreach.sync();
    }""", jeanne)
    page.reload()
    expect(page.locator("#sur-la-tablette").get_by_role("link", name="Corriger")).to_be_visible()

    # Not now: she stays logged in, and nothing is erased.
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="Se déconnecter").click()
    assert asked.value.message.startswith("1 fiche est à corriger. Elle restera")
    expect(page.get_by_role("heading", name="À corriger")).to_be_visible()
    assert tablet(page, vera)["stores"]["people"]

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    held = tablet(page, vera)
    [kept] = held["stores"]["to_fix"]
    assert "sealed" in kept and "verdict" in kept and "data" not in kept
    assert held["stores"]["people"] == [] and held["stores"]["visits"] == []
    assert held["stores"]["forms"], "the forms to correct it with stay"

    log_in(page, live_server.url, "vera")
    page.goto(f"{live_server.url}/a-corriger")
    expect(page.locator("#sur-la-tablette").get_by_role("link", name="Corriger")).to_be_visible()
