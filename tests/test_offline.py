"""The tablet with no network, in a real Chromium: open, save, close, reopen, and send later."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record, User
from outreach.core.sessions import revoke_sessions
from tests import scenarios
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, LiveServer, add_user, wait_until

pytestmark = pytest.mark.browser
FORM = "/saisie/maraude.tournee"


def open_tablet(playwright_instance, folder):
    """Open a browser whose profile (service worker, IndexedDB) survives being closed."""
    return playwright_instance.chromium.launch_persistent_context(
        str(folder), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR")


# The tablet's code every test person chooses at their first login on a tablet.
CODE = "2468"


def log_in(page, url, login, code=CODE, landing="Bonjour", password=PASSWORD, path="/connexion"):
    """Log in through the page; at a first login on this tablet, choose the code."""
    page.goto(f"{url}{path}")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    heading = page.get_by_role("heading", name=landing)
    choosing = page.get_by_role("heading", name="Choisissez votre code")
    expect(heading.or_(choosing)).to_be_visible()
    if choosing.is_visible():
        choose_code(page, code)
    expect(heading).to_be_visible()


def choose_code(page, code=CODE):
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Confirmer le code").fill(code)
    page.get_by_role("button", name="Enregistrer le code").click()


def unlock(page, code=CODE):
    """Unlock at the lock screen with the code."""
    expect(page.get_by_role("heading", name="Saisissez votre code")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_role("heading", name="Saisissez votre code")).to_have_count(0)


def ready_offline(page, path):
    """Wait until the service worker controls the page and keeps `path` for offline use.

    It waits for every page this person needs offline to be kept, not only `path`: the service
    worker keeps them in one piece of work, and a test going offline in its middle is racing it.
    """
    for expression in scenarios.offline_ready(path):
        wait_until(page, expression)


def fill_tournee(page, secteur):
    page.get_by_label("Date", exact=True).fill("2026-11-20")
    page.get_by_label("Heure de départ").fill("20:30")
    page.get_by_label("Secteur").fill(secteur)
    page.get_by_label("Équipe").fill("Léa, Sami")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")


def stored(app):
    with app.app_context():
        return list(db.session.scalars(select(Record)))


def test_saved_offline_kept_through_a_closed_browser_and_sent_once_online(
    app, playwright_instance, tmp_path
):
    add_user(app, "lea", "maraude")
    server = LiveServer(app)
    port = server.port
    tablet = open_tablet(playwright_instance, tmp_path / "profil")
    try:
        page = tablet.pages[0] if tablet.pages else tablet.new_page()
        log_in(page, server.url, "lea")
        page.goto(f"{server.url}{FORM}")
        ready_offline(page, FORM)

        # 1. No network, and no server either: the form opens, the record waits.
        tablet.set_offline(True)
        server.stop()
        page.reload()
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        fill_tournee(page, "Gare et quais")
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        expect(page.get_by_role("status")).to_contain_text("Hors ligne")
        tablet.close()

        # 2. The browser was closed; reopened with still no network, the record still waits.
        tablet = open_tablet(playwright_instance, tmp_path / "profil")
        tablet.set_offline(True)
        page = tablet.pages[0] if tablet.pages else tablet.new_page()
        page.goto(f"http://127.0.0.1:{port}{FORM}")
        # Reopened, the app is locked; the count of waiting records shows behind the lock.
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        unlock(page)
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        assert stored(app) == []

        # 3. The network is back: the record is sent by itself, exactly once.
        server = LiveServer(app, port=port)
        tablet.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
        page.get_by_role("button", name="Synchroniser").click()
        expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
        [record] = stored(app)
        assert record.data["secteur"] == "Gare et quais"
    finally:
        tablet.close()
        server.stop()


def test_a_lost_push_answer_keeps_the_record_and_the_retry_is_unchanged(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    answers = []

    def lose_the_first_answer(route):
        # The server receives and stores every batch; the first answer never reaches the tablet.
        response = route.fetch(timeout=60_000)
        answers.append(response.json())
        if len(answers) == 1:
            route.abort()
        else:
            route.fulfill(response=response)

    page.context.route("**/api/v1/sync/push", lose_the_first_answer)
    with page.expect_event("requestfailed", lambda request: "sync/push" in request.url,
                           timeout=60_000):
        fill_tournee(page, "Parking du marché")
    assert [r["status"] for r in answers[0]["results"]] == ["created"]

    # The tablet kept the record (no answer, no removal) and sends it again, by its own backoff
    # timer or this sync: the server says "unchanged", and only then the outbox empties.
    wait_until(page, "window.outreach.sync().then(() => import('/static/js/store.js'))"
                     ".then((store) => store.countWaiting()).then((count) => count === 0)")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    assert [r["status"] for r in answers[1]["results"]] == ["unchanged"]
    assert len(stored(app)) == 1


def test_an_expired_session_keeps_the_outbox_until_the_person_logs_in_again(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    with app.app_context():  # the session ends while the person fills the form
        user = db.session.scalars(select(User).where(User.login == "lea")).one()
        revoke_sessions(user.id, reason="password")
        db.session.commit()
    fill_tournee(page, "Square Jean-Moulin")
    expect(page.get_by_text("Session expirée — reconnectez-vous")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    assert stored(app) == []

    page.get_by_role("link", name="Se reconnecter").click()
    page.get_by_label("Identifiant").fill("lea")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    [record] = stored(app)
    assert record.data["secteur"] == "Square Jean-Moulin"


def test_a_rencontre_saved_offline_under_a_tournee_made_offline_arrives_tied(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, "/saisie/maraude.rencontre")
    page.context.set_offline(True)
    fill_tournee(page, "Bords du canal")
    page.get_by_role("link", name="Nouvelle rencontre").click()
    expect(page.get_by_role("heading", name="Rencontre")).to_be_visible()
    page.get_by_label("Lieu").fill("Sous le pont du canal")
    page.get_by_role("group", name="Niveau d'identification").get_by_label("Anonyme").check()
    page.get_by_label("Nombre de personnes", exact=True).fill("2")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    expect(page.get_by_role("status")).to_contain_text("2 fiches en attente")
    assert stored(app) == []

    page.context.set_offline(False)
    page.get_by_role("button", name="Synchroniser").click()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    records = {record.form: record for record in stored(app)}
    assert set(records) == {"maraude.tournee", "maraude.rencontre"}
    assert records["maraude.rencontre"].parent_id == records["maraude.tournee"].id
    assert records["maraude.rencontre"].data["lieu"]["label"] == "Sous le pont du canal"


def test_a_new_deploy_is_offered_and_the_outbox_survives_the_update(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())  # the record must wait
    fill_tournee(page, "Zone commerciale")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    app.extensions["outreach.shell_version"] = "nouvelle-version"  # what a deploy changes
    page.reload()
    banner = page.get_by_text("Nouvelle version disponible")
    expect(banner).to_be_visible()
    with page.expect_event("load"):
        page.get_by_role("button", name="Mettre à jour").click()
    # The new worker took over and dropped the old shell cache on activation.
    wait_until(page,
               "caches.keys().then((keys) => keys.filter((k) => k.startsWith('shell-')).join())"
               " .then((shells) => shells === 'shell-nouvelle-version')")
    expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    expect(banner).to_be_hidden()


def test_a_refused_record_is_fixed_in_a_corriger_and_accepted(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}/a-corriger")
    ready_offline(page, "/saisie/maraude.rencontre")
    # A record the server refuses (an older app let a count of 0 through).
    page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        await store.queue({id: crypto.randomUUID(), form: 'maraude.rencontre', form_version: 1,
            title: 'Rencontre', recorded_at: new Date().toISOString(), parent_id: null,
            base_revision: null, data: {lieu: {label: 'Gare', lat: null, lon: null},
            niveau: 'anonyme', nombre_personnes: 0}});
        return window.outreach.sync();
    }""")
    page.reload()
    tablet = page.locator("#sur-la-tablette")
    expect(tablet).to_contain_text("Au moins 1.")
    assert stored(app) == []

    page.context.set_offline(True)  # fixed with no network
    tablet.get_by_role("link", name="Corriger").click()
    expect(page.get_by_role("heading", name="Rencontre")).to_be_visible()
    expect(page.locator("#erreur-nombre_personnes")).to_have_text("Au moins 1.")
    expect(page.get_by_label("Lieu")).to_have_value("Gare")
    page.get_by_label("Nombre de personnes", exact=True).fill("2")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="À corriger")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    expect(page.locator("#sur-la-tablette")).to_be_hidden()

    page.context.set_offline(False)
    page.get_by_role("button", name="Synchroniser").click()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [record] = stored(app)
    assert record.data["nombre_personnes"] == 2
    page.reload()
    expect(page.get_by_text("Aucune fiche refusée.")).to_be_visible()


def test_export_on_the_tablet_then_import_by_the_admin(app, live_server, page, tmp_path):
    agent = add_user(app, "lea", "maraude")
    add_user(app, "admin", "admin")
    log_in(page, live_server.url, "lea")
    # This tablet never gets out.
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())
    page.goto(f"{live_server.url}{FORM}")
    fill_tournee(page, "Quartier nord")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    with page.expect_download() as download:
        page.get_by_role("button", name="Exporter les fiches en attente").click()
    exported = tmp_path / "export.json"
    download.value.save_as(exported)

    from tests.conftest import AuthActions

    admin = AuthActions(app, app.test_client())
    admin.login("admin")
    for expected in ("created", "unchanged"):  # an import twice stores once
        with exported.open("rb") as file:
            answer = admin.post("/admin/import", {"fichier": (file, "export.json")},
                                content_type="multipart/form-data")
        assert answer.status_code == 200
        assert {"created": "nouvelles", "unchanged": "déjà reçues"}[expected] in answer.text
    [record] = stored(app)
    assert record.recorded_by == agent and record.data["secteur"] == "Quartier nord"
    refused = admin.post("/admin/import", {"fichier": (tmp_path.joinpath("x").open("wb+"), "x")},
                         content_type="multipart/form-data")
    assert refused.status_code == 400 and "pas un export" in refused.text


def test_people_kept_offline_are_offered_and_searched_in_a_person_field(app, live_server, page):
    from tests.sync_helpers import Tablet, item, personne

    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}/saisie/personne")
    ready_offline(page, "/saisie/maraude.rencontre")
    # Met by a colleague of the same team after the pages were kept: only the pull brings it.
    Tablet(app.test_client(), "sami").push(item("personne", personne(alias_prenom="Tonio")))
    page.evaluate("window.outreach.sync()")
    page.context.set_offline(True)
    page.get_by_label("Alias ou prénom").fill("Jojo")
    page.get_by_role("group", name="Niveau d'identification").get_by_label("Alias").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")

    page.goto(f"{live_server.url}/saisie/maraude.rencontre")
    person = page.get_by_label("Personne", exact=True)
    expect(person.locator("option", has_text="Tonio")).to_have_count(1)
    expect(person.locator("option", has_text="Jojo")).to_have_count(1)
    page.get_by_label("Chercher une personne (Personne)").fill("jo")
    expect(person.locator("option", has_text="Tonio")).to_be_hidden()
    person.select_option(label="Jojo")


def test_logging_out_with_records_waiting_asks_and_never_deletes_them(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())
    fill_tournee(page, "Centre-ville et gare")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    # The question comes after the outbox is counted: wait for it, not for the page. It is
    # answered by a handler, as the click itself waits until the question has an answer.
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="Se déconnecter").click()
    assert "1 fiche attend encore" in asked.value.message
    expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    page.context.unroute("**/api/v1/sync/push")
    log_in(page, live_server.url, "lea")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    wait_until(page, "window.outreach.sync().then((result) => result.sent === 0)")
    [record] = stored(app)
    assert record.data["secteur"] == "Centre-ville et gare"
