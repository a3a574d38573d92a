"""Issue 14, item 10: the API answers what its OpenAPI description says, tried from outside.

schemathesis reads /api/v1/openapi.json from the app served by werkzeug on 127.0.0.1, generates
requests for each operation (valid ones and broken ones), sends each as every role of the
demonstration CCAS (its session cookie and CSRF token), and runs every check on each answer: no
server error, a status, content type, headers and body that the description allows, broken data
refused, valid data accepted, authentication enforced. Bounded and derandomized.
"""

import pytest
import requests
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from outreach.core.api.docs import build_spec
from outreach.core.db import db
from outreach.demo.load import DEMO_PASSWORD, load_demo
from tests.conftest import LiveServer, make_app

ROLES = ("maraude", "visiteur", "social", "coordinateur", "admin")
MAX_EXAMPLES = 25
CONFIG = {
    "seed": 14,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"},
    # Every phase but the stateful one (links between operations, which this API has none of).
    "phases": {"stateful": {"enabled": False}},
    # schemathesis's own list, and 413: a batch of more than 500 records is refused unread
    # with 413 (DESIGN §4), not 400.
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429",
        "5xx"]}},
}


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, migrated_database):
    folder = tmp_path_factory.mktemp("contract")
    # Generated logins fail by the hundred: throttling (a documented 429) would also lock out
    # the roles' own logins from 127.0.0.1, so it is set out of the way here.
    app = make_app(folder, migrated_database, LOGIN_ATTEMPTS_PER_MINUTE=1_000_000)
    with app.app_context():
        load_demo(app.extensions["outreach.forms"])
        db.session.remove()
    server = LiveServer(app)
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


def log_in(url: str, login: str) -> dict[str, str]:
    """Open a session for a demonstration account; return its cookie and CSRF token."""
    answer = requests.post(f"{url}/api/v1/session", json={"login": login,
                                                          "password": DEMO_PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"session": answer.cookies["outreach_session"], "csrf": answer.json()["csrf_token"]}


@pytest.fixture(scope="module")
def sessions(live_api) -> dict[str, dict[str, str]]:
    return {role: log_in(live_api.url, role) for role in ROLES}


# The description the server serves, built by the same code (checked equal below): built at
# import, because schemathesis makes one test per operation when pytest collects this file
# (its loader from a fixture needs pytest's private node ids, gone in pytest 9.2).
schema = schemathesis.openapi.from_dict(build_spec(), config=SchemathesisConfig.from_dict(CONFIG))
load_all_checks()
EVERY_CHECK = list(CHECKS.get_all())


def test_the_description_tried_is_the_one_served(live_api, sessions):
    served = requests.get(f"{live_api.url}/api/v1/openapi.json", timeout=30,
                          cookies={"outreach_session": sessions["admin"]["session"]})
    assert served.status_code == 200 and served.json() == build_spec()


def test_the_pull_answers_the_kinds_its_description_names(live_api, sessions):
    described = build_spec()["components"]["schemas"]["PullResponse"]
    for role in ROLES:
        answer = requests.get(f"{live_api.url}/api/v1/sync/pull", timeout=60,
                              cookies={"outreach_session": sessions[role]["session"]})
        assert answer.status_code == 200, role
        assert set(answer.json()) == set(described["properties"]) == set(described["required"])
    assert {"alerts", "appointments", "calls", "encounters", "sessions", "visits"} <= set(
        described["properties"])


def as_role(case, headers: dict[str, str]) -> None:
    """Put a role's real session and token where schemathesis generated them.

    Where a case leaves them out on purpose (a request without a session or a token, which
    must be refused), they stay out.
    """
    if "outreach_session" in (case.cookies or {}):
        case.cookies["outreach_session"] = headers["session"]
    if "X-CSRFToken" in (case.headers or {}):
        case.headers["X-CSRFToken"] = headers["csrf"]


@schema.parametrize()
def test_the_api_answers_what_its_description_says(case, live_api, sessions):
    with requests.Session() as http:
        for role in ROLES:
            # Logging out ends the session it is sent with: a session of its own each time.
            as_role(case, log_in(live_api.url, role) if case.method == "DELETE"
                    else sessions[role])
            http.cookies.clear()
            case.call_and_validate(base_url=live_api.url, session=http, checks=EVERY_CHECK)


# What schemathesis found, kept as plain tests (each failed before its fix).

@pytest.mark.parametrize(("path", "query"), [
    ("/api/v1/sync/pull", {"cursor": "².abc"}),                     # a digit to isdigit only
    ("/api/v1/sync/pull", {"cursor": "99999999999999999999.abc"}),   # past SQLite's integers
    ("/api/v1/records", {"after": "²:x"}),
    ("/api/v1/records", {"after": "99999999999999999999:x"}),
])
def test_a_cursor_of_another_shape_is_a_400_not_a_500(auth, client, path, query):
    auth.login("admin")
    answer = client.get(path, query_string=query)
    assert answer.status_code == 400 and "Curseur inconnu" in answer.json["error"]


def test_a_method_not_allowed_says_which_are(client):
    answer = client.put("/api/v1/session")
    assert answer.status_code == 405 and answer.is_json
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST", "DELETE"}


def test_the_login_s_refusals_are_described():
    answers = build_spec()["paths"]["/api/v1/session"]["post"]["responses"]
    assert {"200", "400", "401", "413", "429"} <= set(answers)
    assert answers["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
