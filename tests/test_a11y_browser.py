"""Issue 15, in a real Chromium on the demonstration CCAS: every page of every role, online and
kept offline, read by axe-core with no violation and no raw date; a rencontre and a visite done
with the keyboard alone; on a phone, a compact header whose menu folds."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from outreach.core.db import db
from outreach.core.models import User
from outreach.demo.load import DEMO_PASSWORD, load_demo
from sync.schema import record
from tests.conftest import LiveServer, csrf_from, make_app, wait_until
from tests.test_offline import CODE, ready_offline
from tests.test_offline import log_in as log_in_choosing_a_code

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
# The demonstration's accounts, and the screen each works on: the field on a phone (the
# smallest screen they carry), the office on a tablet.
ROLES = {"maraude": PHONE, "visiteur": PHONE, "social": PHONE,
         "coordinateur": TABLET, "admin": TABLET}
FIELD = ("maraude", "visiteur", "social")
# GET routes that are not pages a person reads: files, the API, downloads.
NOT_PAGES = {"static", "pwa.manifest", "pwa.service_worker", "journal.export",
             "dashboard.export", "auth.login"}
# A date as the database writes it, which a person should never have to read.
RAW_DATE = re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")
AXE = Axe()
# Pages no link leads to while the demonstration's plan is open (one plan at a time).
START = {"coordinateur": ["/plans/nouveau"]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, migrated_database):
    """The demonstration CCAS served on 127.0.0.1, with a conflict and a refused record."""
    app = make_app(tmp_path_factory.mktemp("a11y"), migrated_database)
    with app.app_context():
        load_demo(app.extensions["outreach.forms"])
        db.session.remove()
    make_conflict_and_refusal(app)
    open_a_plan(app)
    server = LiveServer(app)
    yield app, server
    server.stop()
    with app.app_context():
        db.engine.dispose()


def make_conflict_and_refusal(app) -> None:
    """Have the maraude tablet send a stale change (a conflict) and a refused rencontre."""
    client = app.test_client()
    token = client.post("/api/v1/session", json={"login": "maraude",
                                                 "password": DEMO_PASSWORD}).json["csrf_token"]
    with app.app_context():
        author = db.session.scalar(select(User.id).where(User.login == "maraude"))
        mine = db.session.execute(select(record).where(
            record.c.form == "maraude.rencontre", record.c.recorded_by == author,
            record.c.deleted.is_(False)).limit(1)).mappings().one()
    stale = {"id": mine["id"], "form": mine["form"], "form_version": mine["form_version"],
             "recorded_at": "2026-11-20T21:30:00+00:00",
             "parent_id": mine["parent_id"], "base_revision": None,
             "data": {**mine["data"], "notes": "Changé sur une autre tablette."}}
    refused = {"id": str(uuid.uuid4()), "form": "maraude.rencontre", "form_version": 1,
               "recorded_at": stale["recorded_at"], "parent_id": None, "base_revision": None,
               "data": {"lieu": {"label": "Gare", "lat": None, "lon": None},
                        "niveau": "anonyme", "nombre_personnes": 0}}
    answer = client.post("/api/v1/sync/push", headers={"X-CSRFToken": token},
                         json={"device_id": str(uuid.uuid4()), "records": [stale, refused]})
    assert [r["status"] for r in answer.json["results"]] == ["conflict", "rejected"], answer.json


def open_a_plan(app) -> None:
    """Open a plan canicule shared among every agent: calls on each one's "Mes appels"."""
    client = app.test_client()
    page = client.get("/connexion")
    client.post("/connexion", data={"login": "coordinateur", "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_from(page.text)})
    form = client.get("/plans/nouveau")
    agents = re.findall(r'name="agents" value="([^"]+)"', form.text)
    opened = client.post("/plans/nouveau", data={
        "kind": "canicule", "level": "Niveau 3 — alerte canicule", "starts_on": "2026-07-01",
        "message": "Buvez de l'eau.", "sharing": "secteur", "agents": agents,
        "csrf_token": csrf_from(form.text)})
    assert opened.status_code == 302, opened.text


def log_in(page, url: str, login: str) -> None:
    log_in_choosing_a_code(page, url, login, password=DEMO_PASSWORD)


def settle(page) -> None:
    """Wait until the page has drawn what the tablet keeps, after its first sync."""
    if page.locator("body[data-user-id]").count():
        page.wait_for_selector("body[data-settled]", state="attached")


def problems(page) -> list[str]:
    """What axe-core finds on the page as shown, and any date written raw."""
    found = [f"{v['id']} ({v['help']}): {', '.join(' '.join(n['target']) for n in v['nodes'])}"
             for v in AXE.run(page).response["violations"]]
    text = page.evaluate("document.body.innerText")
    found += [f"date brute {date}" for date in sorted(set(RAW_DATE.findall(text)))]
    return found


class Crawl:
    """One person's visit of every page they reach from their home, following the links."""

    def __init__(self, app, url: str, page):
        self.adapter = app.url_map.bind("127.0.0.1")
        self.url, self.page = url, page
        self.checked: set[tuple] = set()  # read already: followed, not read again
        self.seen: dict[tuple, str] = {}
        self.found: dict[str, list[str]] = {}

    def key(self, href: str) -> tuple | None:
        """The page a link leads to, as one kind: its route, and which form it fills."""
        parts = urlsplit(href)
        if parts.netloc and parts.netloc != urlsplit(self.url).netloc:
            return None
        try:
            endpoint, values = self.adapter.match(parts.path, method="GET")
        except (HTTPException, RequestRedirect):
            return None
        if endpoint in NOT_PAGES or endpoint.startswith("api"):
            return None
        return (endpoint, values.get("form_key"), "parent=" in parts.query)

    def run(self, also: list[str]) -> None:
        """Open each kind of page once, from the home page on, and note what is wrong there."""
        waiting = [f"{self.url}/", *also]
        while waiting:
            href = waiting.pop(0)
            key = self.key(href)
            if key is None or key in self.seen:
                continue
            self.seen[key] = href
            if key in self.checked and key[0] != "home.index":
                continue
            answer = self.page.goto(href)
            assert answer.status < 400, href
            settle(self.page)
            wrong = problems(self.page)
            if wrong:
                self.found[urlsplit(href).path] = wrong
            waiting += self.page.eval_on_selector_all(
                "a[href]", "(links) => links.map((link) => link.href.split('#')[0])")


def links(page) -> list[str]:
    """Where the page's links lead."""
    return page.eval_on_selector_all(
        "a[href]", "(all) => all.map((link) => link.href.split('#')[0])")


def check_offline_copies(page, url: str, found: dict, login: str) -> tuple[list[str], list]:
    """Lose the network and read every page the service worker kept for this person.

    Return the pages kept, and where their links lead (to go on from there, online).
    """
    page.goto(f"{url}/")
    ready_offline(page, "/")
    kept = page.evaluate("JSON.parse(document.body.dataset.offlinePages)")
    page.context.set_offline(True)
    onward = []
    for path in kept:
        page.goto(f"{url}{path}")
        settle(page)
        if wrong := problems(page):
            found[f"{login} hors ligne {path}"] = wrong
        onward += links(page)
    page.context.set_offline(False)
    return [f"{url}{path}" for path in kept], onward


def not_kept_again(route) -> None:
    """Refuse the worker's keeping of the offline pages, done once already (speed)."""
    if route.request.headers.get("x-outreach-keep"):
        route.abort()
    else:
        route.fallback()


def test_every_page_of_every_role_has_no_axe_violation(demo, browser):
    app, server = demo
    started = time.monotonic()
    found, reached, office = {}, set(), set()
    # The login page, before anyone logs in.
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/connexion")
    if wrong := problems(page):
        found["/connexion"] = wrong
    context.close()
    for login, viewport in ROLES.items():
        # The office is read online only: no service worker keeping pages behind each one.
        context = browser.new_context(locale="fr-FR", viewport=viewport,
                                      service_workers="allow" if login in FIELD else "block")
        try:
            page = context.new_page()
            log_in(page, server.url, login)
            crawl = Crawl(app, server.url, page)
            onward = [f"{server.url}{path}" for path in START.get(login, [])]
            if login in FIELD:
                # The pages kept for offline use are read offline, the others online.
                kept, onward = check_offline_copies(page, server.url, found, login)
                crawl.checked = {crawl.key(href) for href in kept}
                context.route(re.compile(r"^(?!.*/(static|api)/)"), not_kept_again)
            elif login == "admin":
                # The admin's screens are the coordinateur's, and their own: only those are read.
                crawl.checked = office
            crawl.run(onward)
            if login == "coordinateur":
                office = set(crawl.seen)
            found.update({f"{login} {path}": wrong for path, wrong in crawl.found.items()})
            reached |= {endpoint for endpoint, _, _ in crawl.seen}
        finally:
            context.close()
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint not in NOT_PAGES
             and not rule.endpoint.startswith("api")}
    assert found == {}, "\n".join(f"{where}: {'; '.join(wrong)}" for where, wrong in found.items())
    assert pages - reached == set(), "pages no role reached by a link"
    print(f"axe: {time.monotonic() - started:.0f} s")


# What has the keyboard's focus, as a person would name it: its label, or its own words.
FOCUSED = """() => {
    const node = document.activeElement;
    if (!node || node === document.body) return "";
    const label = node.labels && node.labels.length ? node.labels[0].innerText : "";
    return (node.getAttribute("aria-label") || label || node.innerText || "").trim();
}"""


def tab_to(page, name: str, back: bool = False, presses: int = 150) -> None:
    """Press Tab (Shift+Tab when going back) until the focus is on what is called `name`."""
    for _ in range(presses):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(FOCUSED) == name:
            return
    raise AssertionError(f"«{name}» never got the focus")


def type_into(page, name: str, text: str) -> None:
    """Tab to a field and type into it."""
    tab_to(page, name)
    page.keyboard.type(text)


def type_date(page, name: str, day: str) -> None:
    """Tab to a date field and type the day in the order it shows (JJ/MM/AAAA, or MM/JJ/AAAA
    in a browser left in English)."""
    tab_to(page, name)
    year, month, date = day.split("-")
    for digits in (date + month + year, month + date + year):
        page.keyboard.type(digits)
        if page.evaluate("document.activeElement.value") == day:
            return
        page.keyboard.press("Shift+Tab")  # back to the first part, to type it again
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{name}: {day} could not be typed")


def type_time(page, name: str, moment: str) -> None:
    """Tab to a time field and type the time (24 h, or 12 h with AM/PM in English)."""
    tab_to(page, name)
    hours, minutes = moment.split(":")
    page.keyboard.type(hours + minutes)
    if page.evaluate("document.activeElement.value") != moment:
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        half = "P" if int(hours) >= 12 else "A"
        page.keyboard.type(f"{int(hours) % 12 or 12:02d}{minutes}{half}")
    assert page.evaluate("document.activeElement.value") == moment, name


def keyboard_log_in(page, url: str, login: str) -> None:
    page.goto(f"{url}/connexion")
    type_into(page, "Identifiant", login)
    type_into(page, "Mot de passe", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    # The code is chosen from the keyboard too: the screen puts the focus in its first field.
    expect(page.get_by_role("heading", name="Choisissez votre code")).to_be_visible()
    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    page.keyboard.type(CODE)
    page.keyboard.press("Tab")
    page.keyboard.type(CODE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Bonjour")).to_be_visible()


def send_and_read(page, app, form: str, after: set[str]) -> dict:
    """Synchronise from the keyboard; return the one record of `form` the server got since."""
    tab_to(page, "Synchroniser", back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    with app.app_context():
        rows = db.session.execute(select(record).where(
            record.c.form == form, record.c.id.not_in(after))).mappings().all()
    assert len(rows) == 1, rows
    return dict(rows[0])


def ids_of(app, form: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(record.c.id).where(record.c.form == form)))


def test_a_maraude_agent_does_a_tournee_and_a_rencontre_with_the_keyboard_alone(demo, browser):
    app, server = demo
    before = {form: ids_of(app, form) for form in ("maraude.tournee", "maraude.rencontre")}
    context = browser.new_context(locale="fr-FR", viewport=TABLET)
    page = context.new_page()
    try:
        keyboard_log_in(page, server.url, "maraude")
        tab_to(page, "Tournée de maraude")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
        type_date(page, "Date", "2026-11-20")
        type_time(page, "Heure de départ", "20:30")
        type_into(page, "Secteur / itinéraire", "Gare au clavier")
        type_into(page, "Équipe", "Léa, Sami")
        tab_to(page, "Enregistrer")
        page.keyboard.press("Enter")
        expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
        tournee = send_and_read(page, app, "maraude.tournee", before["maraude.tournee"])
        assert tournee["data"]["secteur"] == "Gare au clavier"
        assert tournee["data"]["date"] == "2026-11-20"

        tab_to(page, "Nouvelle rencontre")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Rencontre")).to_be_visible()
        type_into(page, "Lieu", "Sous le pont")
        tab_to(page, "Anonyme")  # a radio group: Space picks, the arrows move the choice
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Space")
        type_into(page, "Nombre de personnes", "3")
        type_into(page, "Dont femmes", "1")
        type_into(page, "Dont hommes", "2")
        tab_to(page, "Moins de 18 ans")
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        for name in ("Boisson chaude", "Duvet / couverture"):
            tab_to(page, name)
            page.keyboard.press("Space")
        tab_to(page, "Oui")  # Situation urgente
        page.keyboard.press("Space")
        type_into(page, "Détail de la situation urgente", "Très froid, 115 appelé.")
        type_into(page, "Notes", "Saisie au clavier.")
        tab_to(page, "Enregistrer")
        page.keyboard.press("Enter")
        expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
        rencontre = send_and_read(page, app, "maraude.rencontre", before["maraude.rencontre"])
    finally:
        context.close()
    assert rencontre["parent_id"] == tournee["id"]
    data = rencontre["data"]
    assert data["lieu"]["label"] == "Sous le pont" and data["niveau"] == "anonyme"
    assert (data["nombre_personnes"], data["femmes"], data["hommes"]) == (3, 1, 2)
    assert data["tranche_age"] == "de_26_a_40"
    assert data["prestations"] == ["boisson_chaude", "duvet"]
    assert data["situation_urgente"] is True and data["notes"] == "Saisie au clavier."


def test_a_visiteur_does_a_visite_with_the_keyboard_alone(demo, browser):
    app, server = demo
    before = ids_of(app, "visite.visite")
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    try:
        keyboard_log_in(page, server.url, "visiteur")
        expect(page.get_by_role("link", name="Saisir la visite").first).to_be_visible()
        tab_to(page, "Saisir la visite")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Visite")).to_be_visible()
        expect(page.get_by_label("Personne visitée", exact=True)).not_to_have_value("")
        person = page.get_by_label("Personne visitée", exact=True).input_value()
        type_date(page, "Date", "2026-11-25")
        for name in ("À domicile", "Oui", "Bon", "Aucun", "Courses", "Aucune"):
            tab_to(page, name)
            page.keyboard.press("Space")
            if name == "Aucun":  # Sentiment d'isolement: the arrow moves to "Faible"
                page.keyboard.press("ArrowRight")
        type_into(page, "Notes", "Visite au clavier.")
        tab_to(page, "Enregistrer")
        page.keyboard.press("Enter")
        expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
        visite = send_and_read(page, app, "visite.visite", before)
    finally:
        context.close()
    data = visite["data"]
    assert data["personne"] == person and data["date"] == "2026-11-25"
    assert (data["mode"], data["personne_vue"], data["etat_general"]) == ("domicile", "oui", "bon")
    assert (data["isolement"], data["besoins"], data["alerte"]) == ("faible", ["courses"], "aucune")


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS colours written rgb(r, g, b)."""
    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


OUTLINE_AND_GROUND = """() => {
    const node = document.activeElement;
    let ground = node.parentElement;
    while (ground && getComputedStyle(ground).backgroundColor === "rgba(0, 0, 0, 0)") {
        ground = ground.parentElement;
    }
    return [getComputedStyle(node).outlineColor,
            ground ? getComputedStyle(ground).backgroundColor : "rgb(255, 255, 255)"];
}"""


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablette", "telephone"])
def test_on_a_phone_the_header_is_compact_and_its_menu_folds_by_keyboard(demo, browser,
                                                                         viewport):
    app, server = demo
    context = browser.new_context(locale="fr-FR", viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, server.url, "coordinateur")
        nav = page.locator("nav[aria-label='Menu principal']")
        # The home link is not named like the accueil form.
        expect(nav.get_by_role("link", name="Ma page", exact=True, include_hidden=True)
               ).to_be_attached()
        expect(nav.get_by_role("link", name="Accueil", include_hidden=True)).to_have_count(0)
        status = page.get_by_role("status")
        expect(status).to_contain_text("Aucune fiche en attente")
        menu = page.get_by_role("button", name="Menu")
        if viewport == TABLET:
            expect(menu).to_be_hidden()
            expect(nav.get_by_role("link", name="Planning")).to_be_visible()
            return
        # Header and status together fit a seventh of the screen, the status still in sight.
        expect(status).to_contain_text("Synchronisé le")
        bottom = page.evaluate("document.querySelector('.sync').getBoundingClientRect().bottom")
        assert bottom <= 120, bottom
        expect(status).to_be_in_viewport()
        expect(page.get_by_role("button", name="Synchroniser")).to_be_in_viewport()
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav.get_by_role("link", name="Planning")).to_be_hidden()
        # Opened and closed with the keyboard.
        tab_to(page, "Menu")
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Planning")).to_be_visible()
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) == "Ma page"
        page.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        assert page.evaluate(FOCUSED) == "Menu"
        page.keyboard.press("Space")
        expect(nav.get_by_role("link", name="Planning")).to_be_visible()
    finally:
        context.close()


def test_without_scripts_the_menu_stays_open(demo, browser):
    app, server = demo
    context = browser.new_context(locale="fr-FR", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, server.url, "coordinateur")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.get_by_role("link", name="Planning")).to_be_visible()
    finally:
        context.close()


def test_the_focus_ring_and_the_numbers_to_call_are_easy_to_see_and_touch(demo, browser):
    app, server = demo
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, server.url, "visiteur")
        # The list is drawn from the tablet, then again once the first pull lands: measure the
        # one drawn after it, every link laid out.
        expect(page.get_by_role("status")).to_contain_text("Synchronisé le")
        calls = page.locator("#mes-visites a[href^='tel:']")
        expect(calls.first).to_be_visible()
        wait_until(page, """[...document.querySelectorAll("#mes-visites a[href^='tel:']")]
            .every((link) => link.getBoundingClientRect().height > 0)""")
        heights = calls.evaluate_all("(all) => all.map((l) => l.getBoundingClientRect().height)")
        assert min(heights) >= 44, heights
        # The focus ring, on the page and on the blue header: 3:1 at least against what is behind.
        tab_to(page, "Saisir la visite")
        ring, ground = page.evaluate(OUTLINE_AND_GROUND)
        assert contrast(ring, ground) >= 3, (ring, ground)
        tab_to(page, "Menu", back=True)
        ring, ground = page.evaluate(OUTLINE_AND_GROUND)
        assert contrast(ring, ground) >= 3, (ring, ground)
    finally:
        context.close()


def test_days_are_written_jj_mm_aaaa_by_the_pages_and_the_tablet(demo, browser):
    app, server = demo
    with app.test_request_context():
        from flask import render_template_string

        shown = render_template_string("{{ '2026-11-26'|date_fr }} {{ none|date_fr }}.", none=None)
    assert shown == "26/11/2026 ."
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/connexion")
        drawn = page.evaluate("import('/static/js/dom.js').then((dom) => "
                              "[dom.frenchDate('2026-11-26'), dom.frenchDate(null)])")
        assert drawn == ["26/11/2026", ""]
    finally:
        context.close()
