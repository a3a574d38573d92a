"""The offline scenario in two engines (issue 20): Chromium through Playwright, and WebKit
(WebKitGTK's MiniBrowser) through Selenium; the same scenario code (tests/scenarios.py).
"""

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import User
from outreach.core.sessions import revoke_sessions
from tests import scenarios
from tests.conftest import PASSWORD, LiveServer, add_user, stored_records
from tests.webkit import webkit, x_display  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


class Served:
    """The app on 127.0.0.1, stopped and started again on the same port and database."""

    def __init__(self, app):
        self.app = app
        self.live = LiveServer(app)
        self.port = self.live.port
        self.running = True

    def stop(self):
        """Stop serving."""
        self.live.stop()
        self.running = False

    def start(self):
        """Serve again on the same port."""
        self.live = LiveServer(self.app, port=self.port)
        self.running = True

    def revoke(self):
        """End lea's sessions, as a password change does."""
        with self.app.app_context():
            user = db.session.scalars(select(User).where(User.login == "lea")).one()
            revoke_sessions(user.id, reason="password")
            db.session.commit()

    def scenario_server(self):
        """The server as the scenario sees it."""
        return scenarios.Server(self.live.url, self.stop, self.start,
                                lambda: stored_records(self.app, "maraude.tournee"), self.revoke)


@pytest.fixture
def served(app):
    add_user(app, "lea", "maraude")
    served = Served(app)
    yield served
    if served.running:
        served.stop()


@pytest.fixture(params=["chromium", pytest.param("webkit", marks=pytest.mark.webkit)])
def tablet(request):
    """The same tablet interface over Chromium (Playwright) or WebKit (Selenium)."""
    if request.param == "chromium":
        return scenarios.PlaywrightTablet(request.getfixturevalue("page"))
    return scenarios.SeleniumTablet(request.getfixturevalue("webkit"))


def test_saved_with_the_server_gone_then_synced_once(tablet, served):
    scenarios.saved_with_the_server_gone_then_synced_once(
        tablet, served.scenario_server(), "lea", PASSWORD)


def test_an_expired_session_keeps_the_record_until_logged_in_again(tablet, served):
    scenarios.an_expired_session_keeps_the_record_until_logged_in_again(
        tablet, served.scenario_server(), "lea", PASSWORD)
