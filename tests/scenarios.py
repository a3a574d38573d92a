"""One offline scenario, two drivers (issue 20): Chromium through Playwright, WebKit through
Selenium. The scenario speaks to a small "tablet" (go to a URL, fill a field by its label,
click a button by its name, read the status area, wait for a text, run async JS in the page);
each adapter implements it over its driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

FORM = "/saisie/maraude.tournee"
CODE = "2468"
TIMEOUT_S = 30


class PlaywrightTablet:
    """The tablet over a Playwright page (Chromium)."""

    can_be_offline = True

    def __init__(self, page):
        self.page = page

    def goto(self, url: str) -> None:
        """Open a URL."""
        self.page.goto(url)

    def reload(self) -> None:
        """Reload the page."""
        self.page.reload()

    def fill(self, label: str, value: str) -> None:
        """Fill the field labelled `label`."""
        exact = self.page.get_by_label(label, exact=True)
        # A label may carry more than its name (a hint, "obligatoire"): then by its start.
        (exact if exact.count() else self.page.get_by_label(label).first).fill(value)

    def click(self, name: str) -> None:
        """Click the button named `name`."""
        self.page.get_by_role("button", name=name, exact=True).click()

    def click_link(self, name: str) -> None:
        """Click the link named `name`."""
        self.page.get_by_role("link", name=name, exact=True).click()

    def status(self) -> str:
        """Return the status area's text."""
        return self.page.locator("#sync-status").inner_text()

    def text(self) -> str:
        """Return the page's visible text."""
        return self.page.locator("body").inner_text()

    def evaluate_async(self, expression: str):
        """Return the value of an async JS expression run in the page."""
        return self.page.evaluate("async () => (" + expression + ")")

    def set_offline(self, offline: bool) -> None:
        """Cut (or give back) the network."""
        self.page.context.set_offline(offline)

    def wait(self, what: Callable[[], bool], describe: str, timeout_s: float) -> None:
        """Poll `what()` between Playwright's own waits until it holds."""
        for _ in range(int(timeout_s * 10)):
            try:
                if what():
                    return
            except Exception:  # a page between two loads: not yet, not false
                pass
            self.page.wait_for_timeout(100)
        raise AssertionError(f"still not shown after {timeout_s} s: {describe}")


class SeleniumTablet:
    """The tablet over a Selenium WebDriver (WebKitGTK's MiniBrowser)."""

    # WebKitWebDriver has no network emulation: stopping the server is all it can do.
    can_be_offline = False

    def __init__(self, driver):
        self.driver = driver

    def _by(self, xpath: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def found(driver):
            shown = [e for e in driver.find_elements(By.XPATH, xpath) if e.is_displayed()]
            return shown[0] if shown else False

        return WebDriverWait(self.driver, TIMEOUT_S).until(found, f"nothing at {xpath}")

    def goto(self, url: str) -> None:
        """Open a URL."""
        self.driver.get(url)

    def reload(self) -> None:
        """Reload the page."""
        self.driver.refresh()

    def fill(self, label: str, value: str) -> None:
        """Fill the field labelled `label`."""
        from selenium.webdriver.common.by import By

        text = _quote(label)
        exact = f"//label[normalize-space(.)={text}]"
        element = self._by(f"{exact} | //label[starts-with(normalize-space(.), {text})"
                           f" and not({exact})]")
        field = self.driver.find_element(By.ID, element.get_attribute("for"))
        field.clear()
        field.send_keys(value)

    def click(self, name: str) -> None:
        """Click the button named `name`."""
        self._by(f"//button[normalize-space(.)={_quote(name)}]").click()

    def click_link(self, name: str) -> None:
        """Click the link named `name`."""
        self._by(f"//a[normalize-space(.)={_quote(name)}]").click()

    def status(self) -> str:
        """Return the status area's text."""
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, "sync-status").text

    def text(self) -> str:
        """Return the page's visible text."""
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def evaluate_async(self, expression: str):
        """Return the value of an async JS expression run in the page."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "(async () => (" + expression + "))().then(done,"
            " (error) => done({error: String(error)}));")

    def set_offline(self, offline: bool) -> None:
        """WebKitWebDriver cannot cut the network: nothing to do (DESIGN §9, "WebKit.")."""

    def wait(self, what: Callable[[], bool], describe: str, timeout_s: float) -> None:
        """Wait with WebDriverWait until `what()` holds."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout_s, poll_frequency=0.1,
                      ignored_exceptions=(WebDriverException,)).until(
            lambda driver: what(), f"still not shown after {timeout_s} s: {describe}")


def _quote(text: str) -> str:
    return "'" + text + "'" if "'" not in text else '"' + text + '"'


def wait_for(tablet, what: Callable[[], bool], describe: str, timeout_s: float = TIMEOUT_S):
    """Wait until `what()` holds, on what the page shows; fail with `describe`."""
    tablet.wait(what, describe, timeout_s)


def wait_for_text(tablet, text: str) -> None:
    """Wait until the page shows `text`."""
    wait_for(tablet, lambda: text in tablet.text(), text)


def wait_for_status(tablet, text: str) -> None:
    """Wait until the status area shows `text`."""
    wait_for(tablet, lambda: text in tablet.status(), f"status {text!r}")


def wait_until_js(tablet, expression: str) -> None:
    """Wait until an async JS expression in the page gives a truthy value."""
    def held():
        value = tablet.evaluate_async(expression)
        return bool(value) and not (isinstance(value, dict) and "error" in value)
    wait_for(tablet, held, expression)


def log_in(tablet, url: str, login: str, password: str, code: str = CODE) -> None:
    """Log in; at a first login on this tablet, choose the code."""
    tablet.goto(f"{url}/connexion")
    tablet.fill("Identifiant", login)
    tablet.fill("Mot de passe", password)
    tablet.click("Se connecter")
    wait_for(tablet, lambda: any(w in tablet.text() for w in ("Bonjour", "Choisissez votre code")),
             "Bonjour or Choisissez votre code")
    if "Choisissez votre code" in tablet.text():
        tablet.fill("Code", code)
        tablet.fill("Confirmer le code", code)
        tablet.click("Enregistrer le code")
    wait_for_text(tablet, "Bonjour")


def offline_ready(path: str) -> list[str]:
    """Return what holds, in turn, once a page opens offline: the service worker controls it,
    keeps `path`, and keeps every page this person needs offline (it keeps them in one piece of
    work: a test going offline in its middle is racing it)."""
    return ["navigator.serviceWorker && navigator.serviceWorker.controller !== null",
            f"caches.match('{path}').then(Boolean)",
            """(async () => {
        const wanted = JSON.parse(document.body.dataset.offlinePages || "[]");
        const cache = await caches.open("pages");
        const kept = await Promise.all(wanted.map((url) => cache.match(url)));
        return kept.every(Boolean);
    })()"""]


def ready_offline(tablet, path: str) -> None:
    """Wait until the service worker controls the page and keeps every page for offline use."""
    for expression in offline_ready(path):
        wait_until_js(tablet, expression)


def fill_tournee(tablet, secteur: str) -> None:
    """Fill and save a tournée; wait for "Fiche enregistrée"."""
    tablet.fill("Date", "2026-11-20")
    tablet.fill("Heure de départ", "20:30")
    tablet.fill("Secteur", secteur)
    tablet.fill("Équipe", "Léa, Sami")
    tablet.click("Enregistrer")
    wait_for_text(tablet, "Fiche enregistrée")


@dataclass
class Server:
    """What a scenario does to the server: its URL, stop, start again, read its records."""

    url: str
    stop: Callable[[], None]
    start: Callable[[], None]
    records: Callable[[], list]
    revoke_sessions: Callable[[], None]


def saved_with_the_server_gone_then_synced_once(tablet, server: Server, login: str,
                                                password: str) -> None:
    """Open a form online, lose the server, reload, save, get it back, sync: one record."""
    log_in(tablet, server.url, login, password)
    tablet.goto(f"{server.url}{FORM}")
    ready_offline(tablet, FORM)

    server.stop()
    tablet.set_offline(True)
    tablet.reload()
    wait_for_text(tablet, "Tournée de maraude")
    fill_tournee(tablet, "Gare et quais")
    wait_for_status(tablet, "1 fiche en attente")
    if tablet.can_be_offline:
        wait_for_status(tablet, "Hors ligne")
    assert server.records() == []

    server.start()
    tablet.set_offline(False)
    tablet.click("Synchroniser")
    wait_for_status(tablet, "Aucune fiche en attente")
    [record] = server.records()
    assert record.data["secteur"] == "Gare et quais"


def an_expired_session_keeps_the_record_until_logged_in_again(tablet, server: Server, login: str,
                                                              password: str) -> None:
    """The session ends while the form is filled: the record waits, then goes once."""
    log_in(tablet, server.url, login, password)
    tablet.goto(f"{server.url}{FORM}")
    wait_until_js(tablet, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    server.revoke_sessions()
    fill_tournee(tablet, "Square Jean-Moulin")
    wait_for_text(tablet, "Session expirée — reconnectez-vous")
    wait_for_status(tablet, "1 fiche en attente")
    assert server.records() == []

    tablet.click_link("Se reconnecter")
    tablet.fill("Identifiant", login)
    tablet.fill("Mot de passe", password)
    tablet.click("Se connecter")
    wait_for_text(tablet, "Tournée de maraude")
    wait_for_status(tablet, "Aucune fiche en attente")
    wait_until_js(tablet, "window.outreach.sync().then((result) => result.sent === 0)")
    [record] = server.records()
    assert record.data["secteur"] == "Square Jean-Moulin"
