"""A lost tablet gives nothing away (issue 17), in a real Chromium: the data sealed on disk, the
code chosen at a first login, the lock after inactivity and at reopening, five wrong codes, the
password offline, the escrow online, two people on one tablet, a tablet declared lost, a copied
cookie. Every path has records waiting, and none is lost but on a tablet declared lost."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from outreach.core import accounts, tablets
from outreach.core.db import db
from outreach.core.models import Tablet as TabletRow
from outreach.core.models import TabletKey, User
from tests.conftest import (
    PASSWORD,
    LiveServer,
    add_user,
    csrf_from,
    make_app,
    stored_records,
    wait_until,
)
from tests.sync_helpers import Tablet, item, personne
from tests.test_offline import FORM, choose_code, fill_tournee, log_in, open_tablet, unlock

pytestmark = pytest.mark.browser
WAITING = "import('/static/js/store.js').then((store) => store.countWaiting())"
NEW_PASSWORD = "un-autre-mot-de-passe"

# An invented person pulled from the server, and one recorded on the tablet.
PULLED = {"alias_prenom": "Zéphyrine", "nom": "Quenouille", "adresse": "17 impasse des Glycines",
          "telephone": "06 98 76 54 32", "notes": "craint les escaliers mécaniques"}
MADE = {"alias_prenom": "Barnabé", "nom": "Tartempion", "adresse": "4 allée des Capucines",
        "telephone": "07 11 22 33 44", "notes": "parapluie turquoise oublié"}


def words_of(*people: dict) -> list[str]:
    return [value for person in people for value in person.values()]


def on_disk(profile: Path, words: list[str]) -> set[str]:
    """Return the words found in any file of the browser profile, in any encoding Chromium uses
    (UTF-8; one byte per character, as V8 stores Latin-1 strings; UTF-16)."""
    found = set()
    contents = [path.read_bytes() for path in profile.rglob("*") if path.is_file()]
    for word in words:
        forms = {word.encode("utf-8"), word.encode("utf-16-le")}
        try:
            forms.add(word.encode("latin-1"))
        except UnicodeEncodeError:
            pass
        if any(form in content for form in forms for content in contents):
            found.add(word)
    return found


def keep_waiting(page):
    """Push fails: what is saved stays in the outbox."""
    page.context.route("**/api/v1/sync/push", lambda route: route.abort())


def a_record_waiting(page, url, login="lea", secteur="Gare et quais"):
    """Log in, and save a tournée that cannot leave (push fails): one record waiting."""
    log_in(page, url, login)
    keep_waiting(page)
    page.goto(f"{url}{FORM}")
    fill_tournee(page, secteur)


def opened_tablet(playwright_instance, profile, offline=False):
    """A tablet (a persistent browser profile) opened again, and its page."""
    tablet = open_tablet(playwright_instance, profile)
    tablet.set_offline(offline)
    return tablet, tablet.pages[0] if tablet.pages else tablet.new_page()


def let_push(page):
    page.context.unroute("**/api/v1/sync/push")


def queue_person(page, data: dict) -> None:
    """A personne saved on the tablet, as the form saves it."""
    page.evaluate("""(data) => import('/static/js/store.js').then((store) => store.queue({
        id: crypto.randomUUID(), form: "personne", form_version: 2, title: "Personne",
        recorded_at: new Date().toISOString(), recorded_by: store.currentUser(), parent_id: null,
        base_revision: null, data }))""", {"niveau": "identifie", "consentement": True,
                                           "date_consentement": "2026-11-20", **data})


def lock_now(page) -> None:
    """Lock as the idle timer does."""
    page.evaluate("import('/static/js/crypto.js')"
                  ".then((keys) => keys.lock(document.body.dataset.userId))")


def all_sent(page) -> None:
    """Wait until the outbox is empty (the page's own sync sends it once unlocked)."""
    wait_until(page, f"{WAITING}.then((count) => count === 0)")


def sync(page) -> dict:
    return page.evaluate("window.outreach.sync()")


@pytest.mark.parametrize("pin", ["on", "off"])
def test_nothing_personal_is_left_on_the_tablet_s_disk(app, playwright_instance, tmp_path, pin):
    app.config["TABLET_PIN"] = pin == "on"
    add_user(app, "lea", "maraude")
    Tablet(app.test_client(), "lea").push(item("personne", personne(
        niveau="identifie", consentement=True, date_consentement="2026-11-01", **PULLED)))
    server = LiveServer(app)
    profile = tmp_path / "profil"
    tablet, page = opened_tablet(playwright_instance, profile)
    try:
        log_in(page, server.url, "lea")
        page.goto(f"{server.url}/saisie/maraude.rencontre")
        wait_until(page, "document.body.dataset.settled === '1'")
        # The person pulled is offered in the form (drawn from the store, not from the page kept).
        expect(page.get_by_role("option", name="Zéphyrine Quenouille")).to_be_attached()
        keep_waiting(page)
        page.goto(f"{server.url}{FORM}")
        fill_tournee(page, "Gare et quais")
        queue_person(page, MADE)
        assert page.evaluate(WAITING) == 2
        wait_until(page, "caches.keys().then((keys) => keys.includes('pages'))")
    finally:
        tablet.close()
        server.stop()
    found = on_disk(profile, words_of(PULLED, MADE))
    if pin == "on":
        assert found == set()
    else:
        # The control: with the code turned off the data is in clear, and this scan finds it.
        assert found >= {"Quenouille", "Tartempion", "parapluie turquoise oublié"}


def test_the_code_is_chosen_at_the_first_login_and_opens_a_reopened_browser(
    app, playwright_instance, tmp_path
):
    add_user(app, "lea", "maraude")
    server = LiveServer(app)
    tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
    try:
        page.goto(f"{server.url}/connexion")
        page.get_by_label("Identifiant").fill("lea")
        page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page.get_by_role("heading", name="Choisissez votre code")).to_be_visible()
        page.get_by_label("Code", exact=True).fill("12")
        page.get_by_label("Confirmer le code").fill("12")
        page.get_by_role("button", name="Enregistrer le code").click()
        expect(page.get_by_role("alert")).to_have_text("Le code a 4 à 6 chiffres.")
        page.get_by_label("Code", exact=True).fill("1357")
        page.get_by_label("Confirmer le code").fill("1358")
        page.get_by_role("button", name="Enregistrer le code").click()
        expect(page.get_by_role("alert")).to_have_text("Les deux codes ne sont pas les mêmes.")
        choose_code(page)
        expect(page.get_by_role("heading", name="Bonjour")).to_be_visible()
        # A second tab of the same browser session opens unlocked (the first one vouches).
        beside = tablet.new_page()
        beside.goto(f"{server.url}{FORM}")
        expect(beside.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        expect(beside.get_by_role("heading", name="Saisissez votre code")).to_have_count(0)
        beside.close()
        keep_waiting(page)
        page.goto(f"{server.url}{FORM}")
        fill_tournee(page, "Gare et quais")
        tablet.close()

        # Reopened: locked, the count shows, nothing is sent while locked.
        tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
        page.goto(f"{server.url}{FORM}")
        expect(page.get_by_role("heading", name="Saisissez votre code")).to_be_visible()
        expect(page.get_by_text("Lea", exact=True)).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_have_count(0)
        wait_until(page, "window.outreach !== undefined")
        assert sync(page) == {"locked": True}
        assert stored_records(app, "maraude.tournee") == []
        unlock(page)
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        all_sent(page)
        [record] = stored_records(app, "maraude.tournee")
        assert record.data["secteur"] == "Gare et quais"
    finally:
        tablet.close()
        server.stop()


@pytest.fixture
def quick_lock_app(tmp_path, migrated_database):
    app = make_app(tmp_path, migrated_database, LOCK_MINUTES=0.05)  # 3 seconds
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_app_locks_after_inactivity_and_sends_once_unlocked(quick_lock_app, page):
    app = quick_lock_app
    add_user(app, "lea", "maraude")
    server = LiveServer(app)
    try:
        a_record_waiting(page, server.url, secteur="Zone commerciale")
        page.get_by_label("Secteur").fill("à moitié tapé")
        expect(page.get_by_role("heading", name="Saisissez votre code")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        expect(page.get_by_label("Secteur")).to_be_hidden()
        assert sync(page) == {"locked": True}
        let_push(page)
        unlock(page)
        # The page comes back as it was left, what was being typed included.
        expect(page.get_by_label("Secteur")).to_have_value("à moitié tapé")
        expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
        assert [r.data["secteur"] for r in stored_records(app, "maraude.tournee")] == [
            "Zone commerciale"]
    finally:
        server.stop()


def test_five_wrong_codes_erase_the_code_and_the_password_opens_offline(
    app, playwright_instance, tmp_path
):
    add_user(app, "lea", "maraude")
    server = LiveServer(app)
    port = server.port
    tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
    try:
        log_in(page, server.url, "lea")
        page.goto(f"{server.url}{FORM}")
        wait_until(page, f"caches.match('{FORM}').then(Boolean)")
        tablet.set_offline(True)
        server.stop()
        fill_tournee(page, "Gare et quais")
        tablet.close()

        # Reopened with no network: five wrong codes, then the password.
        tablet, page = opened_tablet(playwright_instance, tmp_path / "profil", offline=True)
        page.goto(f"http://127.0.0.1:{port}{FORM}")
        for left in (4, 3, 2, 1):
            page.get_by_label("Code", exact=True).fill("0000")
            page.get_by_role("button", name="Déverrouiller").click()
            expect(page.get_by_role("alert").first).to_contain_text(f"Encore {left} essai")
        page.get_by_label("Code", exact=True).fill("0000")
        page.get_by_role("button", name="Déverrouiller").click()
        expect(page.get_by_text("Code effacé après 5 essais")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        page.get_by_label("Mot de passe").fill("pas le bon")
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page.get_by_text("Mot de passe incorrect")).to_be_visible()
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        # A new code, then the page, the record still waiting.
        expect(page.get_by_role("heading", name="Choisissez votre code")).to_be_visible()
        choose_code(page, "9753")
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
        tablet.close()

        # The new code opens; the network back, the record goes.
        server = LiveServer(app, port=port)
        tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
        page.goto(f"http://127.0.0.1:{port}{FORM}")
        unlock(page, "9753")
        all_sent(page)
        assert len(stored_records(app, "maraude.tournee")) == 1
    finally:
        tablet.close()
        server.stop()


def test_code_and_password_both_lost_the_escrow_brings_the_data_back_online(
    app, playwright_instance, tmp_path
):
    lea = add_user(app, "lea", "maraude")
    server = LiveServer(app)
    tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
    try:
        a_record_waiting(page, server.url)
        tablet.close()
        # Lea forgot her password: the admin gives her a new one (her sessions end).
        with app.app_context():
            accounts.set_password(db.session.get(User, lea), NEW_PASSWORD)
            db.session.commit()

        tablet, page = opened_tablet(playwright_instance, tmp_path / "profil")
        # Her session ended with the reset: the login page. The new password opens no copy
        # here; the login brings the escrow key, which opens her data, the record intact.
        page.goto(f"{server.url}{FORM}")
        log_in(page, server.url, "lea", password=NEW_PASSWORD, landing="Tournée de maraude",
               path=f"/connexion?suivant={FORM}")
        all_sent(page)
        assert len(stored_records(app, "maraude.tournee")) == 1
        # The password was wrapped again: it now opens the data with no network.
        wait_until(page, f"caches.match('{FORM}').then(Boolean)")
        lock_now(page)
        tablet.set_offline(True)
        page.reload()
        page.get_by_role("button", name="Se connecter avec le mot de passe").click()
        page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
    finally:
        tablet.close()
        server.stop()


def test_two_people_on_one_tablet_each_open_only_their_own(app, page):
    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    server = LiveServer(app)
    try:
        a_record_waiting(page, server.url)
        # Lea hands the tablet over: "Changer de personne" only locks her.
        lock_now(page)
        page.reload()
        page.get_by_role("link", name="Changer de personne").click()
        log_in(page, server.url, "sami", code="1111", path="/connexion?changer=1")
        expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
        let_push(page)
        wait_until(page, "window.outreach !== undefined")
        assert sync(page)["sent"] == 0
        assert stored_records(app, "maraude.tournee") == []
        # Sami's key does not open Lea's store.
        lea_opens = page.evaluate("""import('/static/js/crypto.js').then(async (keys) => {
            const lea = (await keys.findByLogin('lea')).user;
            return keys.isOpen(lea); })""")
        assert lea_opens is False
        # Lea back: her own code, her record sent in her own session.
        page.goto(f"{server.url}/connexion?changer=1")
        log_in(page, server.url, "lea", path="/connexion?changer=1")
        all_sent(page)
        [record] = stored_records(app, "maraude.tournee")
        assert record.author.login == "lea"
    finally:
        server.stop()


def test_a_tablet_declared_lost_erases_itself_at_its_next_contact(app, page):
    add_user(app, "lea", "maraude")
    server = LiveServer(app)
    try:
        a_record_waiting(page, server.url)
        device = page.evaluate("localStorage.getItem('outreach-device')")
        with app.test_request_context():
            tablets.declare_lost(db.session.get(TabletRow, device))
            db.session.commit()
        wait_until(page, "window.outreach !== undefined")
        # Its next contact: the sync is told 403 tablette_perdue, and the tablet erases itself.
        page.evaluate("() => { window.outreach.sync(); }")
        expect(page.get_by_text("Cette tablette a été déclarée perdue")).to_be_visible()
        names = page.evaluate("indexedDB.databases().then((all) => all.map((d) => d.name))")
        assert [name for name in names if name.startswith("outreach-")] == []
        kept = page.evaluate("caches.keys().then((keys) => keys.filter((k) => k === 'pages'))")
        assert kept == []
        assert page.evaluate("localStorage.getItem('outreach-device')") == device
        assert stored_records(app, "maraude.tournee") == []  # given up, as the office was told
    finally:
        server.stop()


@pytest.mark.parametrize("way_out", ["logout", "reset", "lost"])
def test_a_copied_cookie_opens_nothing_after_logout_reset_or_loss(app, page, browser, way_out):
    lea = add_user(app, "lea", "maraude")
    server = LiveServer(app)
    thief = browser.new_context()
    try:
        a_record_waiting(page, server.url)
        device = page.evaluate("localStorage.getItem('outreach-device')")
        thief.add_cookies(page.context.cookies())
        headers = {"X-Outreach-Device": device}
        assert thief.request.get(f"{server.url}/api/v1/session", headers=headers).status == 200
        if way_out == "logout":
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Se déconnecter").click()
            expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
        elif way_out == "reset":
            with app.app_context():
                accounts.set_password(db.session.get(User, lea), NEW_PASSWORD)
                db.session.commit()
        else:
            with app.test_request_context():
                tablets.declare_lost(db.session.get(TabletRow, device))
                db.session.commit()
        answer = thief.request.get(f"{server.url}/api/v1/session", headers=headers)
        assert answer.status == (403 if way_out == "lost" else 401)
        assert thief.request.get(f"{server.url}/saisie/maraude.tournee", headers=headers,
                                 max_redirects=0).status in (302, 403)
        if way_out == "lost":
            return
        # The record waited through it and goes at the next login.
        let_push(page)
        password = NEW_PASSWORD if way_out == "reset" else PASSWORD
        log_in(page, server.url, "lea", password=password, path="/connexion?changer=1")
        wait_until(page, "window.outreach !== undefined")
        wait_until(page, f"{WAITING}.then((count) => count === 0)")
        assert len(stored_records(app, "maraude.tournee")) == 1
    finally:
        thief.close()
        server.stop()


def test_the_last_resort_export_is_sealed_and_the_server_opens_it(app, page, tmp_path):
    add_user(app, "lea", "maraude")
    add_user(app, "root", "admin")
    server = LiveServer(app)
    try:
        log_in(page, server.url, "lea")
        keep_waiting(page)
        page.goto(f"{server.url}{FORM}")
        queue_person(page, MADE)
        page.goto(f"{server.url}/")
        with page.expect_download() as download:
            page.get_by_role("button", name="Exporter les fiches en attente").click()
        exported = Path(download.value.path()).read_text()
        assert "Tartempion" not in exported and '"sealed"' in exported
        admin = app.test_client()
        Tablet(admin, "root")
        form = admin.get("/admin/import").text
        upload = (io.BytesIO(exported.encode()), "export.json")
        answer = admin.post("/admin/import",
                            data={"csrf_token": csrf_from(form), "fichier": upload})
        assert answer.status_code == 200, answer.text
        [person] = stored_records(app, "personne")
        assert person.data["nom"] == "Tartempion"
    finally:
        server.stop()


def test_a_key_ring_nothing_opens_any_more_is_said_and_kept(app, page):
    """The escrow key gone from the server (a restored database) and the password changed: the
    login says so, and erases nothing (the records sealed stay for the CCAS to recover)."""
    lea = add_user(app, "lea", "maraude")
    server = LiveServer(app)
    try:
        a_record_waiting(page, server.url)
        with app.app_context():
            db.session.execute(TabletKey.__table__.delete())
            accounts.set_password(db.session.get(User, lea), NEW_PASSWORD)
            db.session.commit()
        page.goto(f"{server.url}/connexion?changer=1")
        page.get_by_label("Identifiant").fill("lea")
        page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text(
            "La clé de cette tablette ne s'ouvre plus : appelez le CCAS.")
        kept = page.evaluate("""(user) => new Promise((resolve) => {
            const opening = indexedDB.open(`outreach-${user}`);
            opening.onsuccess = () => {
                const counted = opening.result.transaction("outbox").objectStore("outbox").count();
                counted.onsuccess = () => resolve(counted.result);
            };
        })""", lea)
        assert kept == 1
    finally:
        server.stop()
