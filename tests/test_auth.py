"""Logging in and out: the /connexion page, the session API, throttling, disabled accounts."""

import pytest

from outreach.core.db import db
from outreach.core.models import LoginAttempt, User
from tests.conftest import PASSWORD, add_user, csrf_from


def test_login_page_has_the_words_of_the_contract(client):
    page = client.get("/connexion").text
    assert '<label for="login">Identifiant</label>' in page
    assert '<label for="password">Mot de passe</label>' in page
    assert ">Se connecter</button>" in page


def test_login_then_back_to_the_page_asked_for(auth, client):
    auth.user("coordinateur")
    asked = client.get("/fiches?formulaire=personne")
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/connexion?suivant=")
    page = client.get(asked.headers["Location"])
    response = client.post(
        asked.headers["Location"],
        data={"login": "coordinateur", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.headers["Location"] == "/fiches?formulaire=personne"
    assert client.get("/fiches").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_sends_to_another_site(auth, client, target):
    auth.user("admin")
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        query_string={"suivant": target},
        data={"login": "admin", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("login", "password"), [("admin", "mauvais-mot-de-passe"), ("inconnu", PASSWORD)]
)
def test_bad_credentials_never_say_which_was_wrong(auth, login, password):
    auth.user("admin")
    response = auth.login(login, password)
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.text
    assert auth.client.get("/").status_code == 302


def test_login_is_case_and_space_tolerant(auth):
    auth.user("admin")
    assert auth.login(" Admin ").status_code == 302


def test_disabled_user_cannot_log_in(app, auth):
    add_user(app, "ancien", "visiteur", active=False)
    response = auth.login("ancien")
    assert response.status_code == 401
    assert "incorrect" in response.text


def test_disabling_ends_an_open_session(app, auth, client):
    auth.login("visiteur")
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.query(User).filter_by(login="visiteur").one()
        user.active = False
        user.session_version += 1
        db.session.commit()
    assert client.get("/").status_code == 302


def test_logout(auth, client):
    auth.login("maraude")
    response = auth.logout()
    assert response.headers["Location"] == "/connexion"
    assert client.get("/").status_code == 302


def test_logout_needs_post_with_csrf(auth, client):
    auth.login("maraude")
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/").status_code == 200


def test_throttled_per_login_after_ten_failures(app, auth):
    auth.user("admin")
    for _ in range(10):
        assert auth.login("admin", "mauvais-mot-de-passe").status_code == 401
    response = auth.login("admin", PASSWORD)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    with app.app_context():
        assert db.session.query(LoginAttempt).filter_by(succeeded=False).count() == 10


def test_throttled_per_address_across_logins(app, auth):
    auth.user("admin")
    for number in range(10):
        auth.login(f"inconnu{number}", "mauvais-mot-de-passe")
    assert auth.login("admin", PASSWORD).status_code == 429


def test_throttle_is_per_login_for_another_address(app, auth, client):
    auth.user("admin")
    auth.user("maraude")
    for _ in range(10):
        client.post("/api/v1/session", json={"login": "admin", "password": "mauvais-mot-de-passe"},
                    environ_base={"REMOTE_ADDR": "10.0.0.1"})
    other = app.test_client()
    refused = other.post("/api/v1/session", json={"login": "admin", "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert refused.status_code == 429
    allowed = other.post("/api/v1/session", json={"login": "maraude", "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert allowed.status_code == 200


# The session API (DESIGN §4, §9)


def test_api_login_gives_user_and_token(auth, client):
    auth.user("visiteur")
    response = client.post("/api/v1/session", json={"login": "visiteur", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"]["role"] == "visiteur"
    assert response.json["csrf_token"]
    again = client.get("/api/v1/session")
    assert again.status_code == 200
    assert again.json["user"]["login"] == "visiteur"


def test_api_session_without_login_is_401_json(client):
    response = client.get("/api/v1/session")
    assert response.status_code == 401
    assert response.is_json and response.json["error"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"login": "a"}', "application/json"),
        ('{"login": 1, "password": 2}', "application/json"),
        ("login=a&password=b", "application/x-www-form-urlencoded"),
    ],
)
def test_api_login_refuses_malformed_bodies_with_400_json(client, body, content_type):
    response = client.post("/api/v1/session", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json and response.json["error"]


def test_api_login_bad_credentials_401(auth, client):
    auth.user("visiteur")
    response = client.post("/api/v1/session", json={"login": "visiteur", "password": "non-non-non"})
    assert response.status_code == 401
    assert response.json["error"] == "Identifiant ou mot de passe incorrect."


def test_api_logout_needs_csrf_then_logs_out(auth, client):
    auth.user("visiteur")
    token = client.post(
        "/api/v1/session", json={"login": "visiteur", "password": PASSWORD}
    ).json["csrf_token"]
    refused = client.delete("/api/v1/session")
    assert refused.status_code == 400
    assert refused.json["code"] == "csrf"
    assert client.delete("/api/v1/session", headers={"X-CSRFToken": token}).status_code == 200
    assert client.get("/api/v1/session").status_code == 401
