"""The server-side session store: a copied cookie dies with the logout, a new password, a
disabled account; the session knows its tablet; an unknown login costs a real hash."""

import hashlib
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.cli import main
from outreach.core.db import db
from outreach.core.models import LoginSession, User, utcnow
from outreach.core.passwords import hash_password
from outreach.core.sessions import revoke_sessions
from tests.conftest import PASSWORD, add_user, csrf_from

COOKIE = "outreach_session"


def copy_of_cookie(app, client):
    """Return a new client holding a copy of this client's session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def still_works(client) -> tuple[int, int]:
    """Return what the API and a page answer to this client: (200, 200) while logged in."""
    return client.get("/api/v1/session").status_code, client.get("/").status_code


def _login(app, login):
    with app.app_context():
        return db.session.scalar(select(User).where(User.login == login))


def page_logout(app, auth, runner):
    auth.logout()


def api_logout(app, auth, runner):
    assert auth.client.delete("/api/v1/session",
                              headers={"X-CSRFToken": auth.csrf_token}).status_code == 200


def cli_set_password(app, auth, runner):
    result = runner.invoke(main, ["user", "set-password", "--login", "vera", "--password",
                                 "un-tout-nouveau-secret"])
    assert result.exit_code == 0, result.output


def cli_disable(app, auth, runner):
    result = runner.invoke(main, ["user", "disable", "--login", "vera"])
    assert result.exit_code == 0, result.output


def admin_page(action):
    def act(app, auth, runner):
        admin = app.test_client()
        page = admin.get("/connexion")
        admin.post("/connexion", data={"login": "admin", "password": PASSWORD,
                                       "csrf_token": csrf_from(page.text)})
        token = admin.get("/api/v1/session").json["csrf_token"]
        user_id = _login(app, "vera").id
        answer = admin.post(f"/admin/utilisateurs/{user_id}/{action}",
                            data={"csrf_token": token, "password": "un-tout-nouveau-secret"})
        assert answer.status_code == 302
    return act


@pytest.mark.parametrize(("way_out", "reason"), [
    (page_logout, "logout"), (api_logout, "logout"), (cli_set_password, "password"),
    (cli_disable, "disabled"), (admin_page("mot-de-passe"), "password"),
    (admin_page("desactiver"), "disabled"),
], ids=["page-logout", "api-logout", "cli-set-password", "cli-disable", "admin-password",
        "admin-disable"])
def test_a_cookie_copied_before_it_ends_no_longer_works(app, auth, runner, way_out, reason):
    add_user(app, "vera", "visiteur")
    add_user(app, "admin", "admin")
    auth.login("vera")
    thief = copy_of_cookie(app, auth.client)
    assert still_works(thief) == (200, 200)
    way_out(app, auth, runner)
    api, page = thief.get("/api/v1/session"), thief.get("/")
    assert api.status_code == 401 and api.json["error"] == "Connexion requise : reconnectez-vous."
    assert page.status_code == 302 and page.headers["Location"].startswith("/connexion")
    with app.app_context():
        [row] = db.session.scalars(select(LoginSession).where(
            LoginSession.user_id == _login(app, "vera").id))
        assert row.revoked_at is not None and row.revoked_reason == reason


def test_the_session_row_keeps_a_hash_of_the_key_and_the_tablet(app, client):
    add_user(app, "lea", "maraude")
    device = str(uuid.uuid4())
    answer = client.post("/api/v1/session", json={"login": "lea", "password": PASSWORD},
                         headers={"X-Outreach-Device": device, "User-Agent": "Tablette/1.0"})
    assert answer.status_code == 200
    with client.session_transaction() as cookie:
        key = cookie["sid"]
    with app.app_context():
        [row] = db.session.scalars(select(LoginSession))
        assert row.token_hash == hashlib.sha256(key.encode()).hexdigest() != key
        assert row.device_id == device and row.user_agent == "Tablette/1.0"
        assert row.address == "127.0.0.1" and row.revoked_at is None
        assert row.expires_at - row.created_at == timedelta(hours=12)


def test_a_session_opened_on_a_page_learns_its_tablet_at_the_first_api_call(app, auth):
    auth.login("maraude")
    device = str(uuid.uuid4())
    auth.client.get("/api/v1/session", headers={"X-Outreach-Device": device})
    with app.app_context():
        assert db.session.scalar(select(LoginSession.device_id)) == device


def test_a_session_idle_longer_than_the_setting_has_ended(app, auth):
    auth.login("maraude")
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert still_works(auth.client) == (401, 302)


def test_activity_moves_the_end_of_the_session(app, auth):
    auth.login("maraude")
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        row.last_seen_at = utcnow() - timedelta(hours=2)
        row.expires_at = utcnow() + timedelta(hours=10)
        db.session.commit()
    assert still_works(auth.client) == (200, 200)
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        assert row.expires_at > utcnow() + timedelta(hours=11, minutes=58)


def test_revoking_a_tablet_ends_only_its_sessions(app):
    add_user(app, "lea", "maraude")
    lost, kept = str(uuid.uuid4()), str(uuid.uuid4())
    clients = {}
    for device in (lost, kept):
        clients[device] = app.test_client()
        clients[device].post("/api/v1/session", json={"login": "lea", "password": PASSWORD},
                             headers={"X-Outreach-Device": device})
    with app.app_context():
        assert revoke_sessions(device_id=lost, reason="lost_device") == 1
        db.session.commit()
    assert clients[lost].get("/api/v1/session").status_code == 401
    assert clients[kept].get("/api/v1/session").status_code == 200
    with app.app_context(), pytest.raises(ValueError):
        revoke_sessions(reason="logout")


def test_a_cookie_from_before_the_session_store_opens_nothing(app, client):
    """A cookie of the old kind ("id:version", no session key) logs its holder out once."""
    user_id = add_user(app, "lea", "maraude")
    with client.session_transaction() as cookie:
        cookie["_user_id"] = f"{user_id}:1"
    assert still_works(client) == (401, 302)


def _quickest(client, login: str, address: str, tries: int = 3) -> float:
    """Return the quickest of a few refused logins, in seconds."""
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        answer = client.post("/api/v1/session", json={"login": login, "password": "pas-le-bon-1"},
                             environ_base={"REMOTE_ADDR": address})
        times.append(time.perf_counter() - started)
        assert answer.status_code == 401
    return min(times)


def test_an_unknown_or_disabled_login_takes_as_long_as_a_real_one(app, client):
    """Login enumeration by timing: before, an unknown login answered in ~5 ms, a real one in
    ~120 ms (scrypt); now both check a hash. The quickest of three tries is compared, so a busy
    machine slows either side only."""
    add_user(app, "lea", "maraude")
    add_user(app, "ancien", "maraude", active=False)
    with app.app_context():
        # The product's cost, not the tests' cheaper one (conftest.password_hash).
        for user in db.session.scalars(select(User)):
            user.password_hash = hash_password("un-mot-de-passe-réel")
        db.session.commit()
    real = _quickest(client, "lea", "10.0.0.1")
    unknown = _quickest(client, "personne-de-tel", "10.0.0.2")
    disabled = _quickest(client, "ancien", "10.0.0.3")
    assert unknown / real > 0.5 and disabled / real > 0.5, (real, unknown, disabled)


def test_logging_in_again_ends_the_session_it_replaces(app, auth):
    auth.login("maraude")
    thief = copy_of_cookie(app, auth.client)
    auth.client.post("/api/v1/session", json={"login": "maraude", "password": PASSWORD})
    assert still_works(thief) == (401, 302)
    assert still_works(auth.client) == (200, 200)
    with app.app_context():
        reasons = db.session.scalars(select(LoginSession.revoked_reason)
                                     .order_by(LoginSession.id)).all()
    assert reasons == ["replaced", None]


def test_an_answer_that_changes_nothing_writes_no_cookie(auth, client):
    # A pull or a kept page answered late wrote the session back as it was when it started,
    # over the cookie of a save made meanwhile: its "Fiche enregistrée" was lost (browser
    # tests, under load).
    auth.login("maraude")
    assert "Set-Cookie" not in client.get("/api/v1/session").headers
    assert "Set-Cookie" not in client.get("/api/v1/sync/pull").headers
    saved = auth.post("/saisie/personne", {"niveau": "alias", "alias_prenom": "Dédé"})
    assert saved.status_code == 302 and "Set-Cookie" in saved.headers
    assert "Fiche enregistrée." in client.get("/").text
