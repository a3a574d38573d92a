"""Shared fixtures: a fresh app on a real SQLite file, a client, a CLI runner, an auth helper."""

from __future__ import annotations

import os
import re
import shutil
from functools import cache

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from outreach import create_app
from outreach.core.db import db, upgrade_schema
from outreach.core.models import User
from outreach.core.roles import ROLES

PASSWORD = "mot-de-passe-de-test"


@cache
def password_hash() -> str:
    # The shared test password is checked at every test login: it is hashed with scrypt at 1/32
    # of the product's cost (the cost is read from the hash), so that a login costs ~4 ms, not
    # ~120 ms. The product's own cost is what test_sessions' timing test logs in against.
    return generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


# One switch runs the whole suite on PostgreSQL instead of SQLite files (README, "Tests").
ENGINE = os.environ.get("OUTREACH_TEST_DATABASE", "sqlite")
if ENGINE not in ("sqlite", "postgresql"):
    raise SystemExit(f"OUTREACH_TEST_DATABASE must be sqlite or postgresql, not {ENGINE!r}")
on_postgresql = ENGINE == "postgresql"
sqlite_only = pytest.mark.skipif(on_postgresql, reason="about the SQLite file itself")


class MigratedDatabase:
    """An empty database migrated once per run; each app gets its own fresh copy."""

    def __init__(self, folder) -> None:
        self.cluster = None
        if on_postgresql:
            from tests.postgres import ThrowawayCluster

            self.cluster = ThrowawayCluster()
            self.template = self.cluster.create()
            url = self.cluster.url(self.template)
        else:
            self.template = folder / "template.db"
            url = f"sqlite:///{self.template}"
        self.made: list[str] = []
        app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(folder),
                          "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade_schema()
            db.engine.dispose()

    def fresh(self, folder) -> str:
        """Copy the migrated database for one app; return its URL."""
        if self.cluster:
            name = self.cluster.create(template=self.template)
            self.made.append(name)
            return self.cluster.url(name)
        path = folder / "outreach.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def drop_since(self, mark: int) -> None:
        """Remove the databases made since `mark` (a test's own, not its session's)."""
        if self.cluster:
            for name in self.made[mark:]:
                self.cluster.drop(name)
        del self.made[mark:]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Migrate one empty database per run; each test gets its own copy."""
    template = MigratedDatabase(tmp_path_factory.mktemp("template"))
    yield template
    if template.cluster:
        template.cluster.stop()


@pytest.fixture(autouse=True)
def _drop_test_databases(request):
    # Wider-scoped fixtures are set up first: what is made after this mark is the test's own.
    if "migrated_database" not in request.fixturenames or not on_postgresql:
        yield
        return
    template = request.getfixturevalue("migrated_database")
    mark = len(template.made)
    yield
    template.drop_since(mark)


def make_app(tmp_path, migrated_database, **config):
    """Build an app on a private copy of the migrated database."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "clé-de-test",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": migrated_database.fresh(tmp_path),
        "LOGIN_ATTEMPTS_PER_MINUTE": 10,
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def app(tmp_path, migrated_database):
    app = make_app(tmp_path, migrated_database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_app(app):
    """The app with the demonstration CCAS loaded (invented people)."""
    from outreach.demo.load import load_demo

    with app.app_context():
        load_demo(app.extensions["outreach.forms"])
        db.session.remove()
    return app


def add_user(app, login: str, role: str, active: bool = True) -> int:
    """Add an account with the shared test password; return its id."""
    with app.app_context():
        user = User(login=login, name=login.title(), role=role, password_hash=password_hash(),
                    active=active)
        db.session.add(user)
        db.session.commit()
        return user.id


def assert_not_on_disk(path: str, words: list[bytes]) -> None:
    """Assert no word is left in a SQLite database file, nor in its write-ahead log.

    On PostgreSQL the files belong to the server and removed rows stay until VACUUM: the
    erasure from PostgreSQL's files is not checked here (README, "PostgreSQL").
    """
    if on_postgresql:
        return
    for suffix in ("", "-wal"):
        try:
            content = open(path + suffix, "rb").read()
        except FileNotFoundError:
            continue
        for word in words:
            assert word not in content, (suffix, word)


def csrf_from(html: str) -> str:
    """Read the CSRF token a page carries."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


class AuthActions:
    """Log in and out as a person of a given role, the way the browser does."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.csrf_token = None

    def user(self, role: str) -> int:
        """Return the id of the test account for a role, making it on first use."""
        with self.app.app_context():
            found = db.session.scalar(select(User.id).where(User.login == role))
        return found or add_user(self.app, role, role)

    def login(self, role: str = "admin", password: str = PASSWORD):
        """Log in through /connexion as the account named after the role."""
        if role in ROLES:
            self.user(role)
        page = self.client.get("/connexion")
        response = self.client.post(
            "/connexion",
            data={"login": role, "password": password, "csrf_token": csrf_from(page.text)},
        )
        if response.status_code == 302:
            self.csrf_token = self.client.get("/api/v1/session").json["csrf_token"]
        return response

    def logout(self):
        """Log out through the logout button."""
        return self.client.post("/deconnexion", data={"csrf_token": self.csrf_token})

    def post(self, url: str, data: dict | None = None, **kwargs):
        """POST a page form with the CSRF token."""
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf_token},
                                **kwargs)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


# Browser tests: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def wait_until(page, predicate: str, timeout_ms: int = 20_000) -> None:
    """Wait until the page's async `predicate` (an expression giving a promise) holds.

    Playwright's `wait_for_function` takes a returned promise for a truthy answer and stops
    at once, so a condition on IndexedDB or the Cache API is polled here, in the page. The
    predicate is part of the evaluated source, not a string evaluated in the page: the
    Content-Security-Policy (no 'unsafe-eval') refuses `new Function` and `eval`.
    """
    held = page.evaluate(
        """async (timeoutMs) => {
            const check = () => (""" + predicate + """);
            const deadline = Date.now() + timeoutMs;
            while (Date.now() < deadline) {
                // A page still loading its modules has no window.outreach yet: not yet, not false.
                try { if (await check()) return true; } catch (error) { /* try again */ }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            return false;
        }""",
        timeout_ms,
    )
    assert held, f"Still not true after {timeout_ms} ms: {predicate}"


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1, on a port chosen by the system."""

    def __init__(self, app, port: int = 0):
        import threading

        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        """Stop serving (to prove that nothing reaches the server)."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import expect, sync_playwright

    # Two cores running the whole suite: give pages time rather than fail on a busy moment.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


# The sizes the field screens are tried at (issue 15): a tablet held upright, and a phone.
VIEWPORTS = {"tablette": {"width": 820, "height": 1180}, "telephone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, browser):
    """A page in its own context, at a tablet's or a phone's size."""
    context = browser.new_context(locale="fr-FR", viewport=VIEWPORTS[request.param])
    yield context.new_page()
    context.close()


def stored_records(app, form: str) -> list:
    """Return the server's records of a form, detached from the session."""
    from outreach.core.models import Record

    with app.app_context():
        found = list(db.session.scalars(select(Record).where(Record.form == form)))
        db.session.expunge_all()
        return found


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()
