"""Who may reach what: every route refuses anonymous requests, roles and CSRF are enforced."""

import re

import pytest

from outreach.core.roles import ROLES

PUBLIC = {"auth.login", "static", "api_session.open_session", "pwa.manifest",
          "pwa.service_worker"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete(rule) -> str:
    """Fill a rule's variables with harmless values."""
    url = rule.rule
    for argument in rule.arguments:
        converter = rule._converters[argument].__class__.__name__
        value = "1" if converter == "IntegerConverter" else "personne"
        url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", value, url)
    return url


def _routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in PUBLIC]


def test_every_route_but_the_public_ones_refuses_anonymous(app, client):
    checked = 0
    for rule in _routes(app):
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url)
                assert response.is_json and response.json["error"], (method, url)
            else:
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/connexion"), (method, url)
            checked += 1
    assert checked >= 10


def test_public_routes_answer_without_session(client):
    assert client.get("/connexion").status_code == 200
    assert client.get("/static/outreach.css").status_code == 200


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, auth, client):
    auth.login("admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "api_session.open_session":
            continue
        for method in sorted(rule.methods & STATE_CHANGING):
            response = client.open(_concrete(rule), method=method)
            assert response.status_code == 400, (method, rule.rule)
            if rule.rule.startswith("/api/"):
                assert response.json["code"] == "csrf"
            else:
                assert "Jeton de sécurité" in response.text
            checked += 1
    assert checked >= 6


OFFICE_PAGES = ["/fiches", "/fiches/00000000-0000-4000-8000-000000000000"]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("url", OFFICE_PAGES)
def test_fiches_for_office_roles_only(auth, client, role, url):
    auth.login(role)
    response = client.get(url)
    if role in ("coordinateur", "admin"):
        assert response.status_code in (200, 404)
    else:
        assert response.status_code == 403
        assert "Accès refusé" in response.text


@pytest.mark.parametrize("role", list(ROLES))
def test_user_admin_for_admin_only(auth, client, role):
    auth.login(role)
    response = client.get("/admin/utilisateurs")
    assert response.status_code == (200 if role == "admin" else 403)
    created = auth.post("/admin/utilisateurs", {"login": "nouveau", "role": "maraude",
                                                "password": "un-long-mot-de-passe"})
    assert created.status_code == (302 if role == "admin" else 403)


def test_errors_are_french_pages_and_json_for_the_api(auth, client):
    auth.login("maraude")
    page = client.get("/pas-de-page-ici")
    assert page.status_code == 404
    assert '<html lang="fr">' in page.text and "Page introuvable" in page.text
    api = client.get("/api/v1/pas-de-page")
    assert api.status_code == 404
    assert api.json == {"error": "Page introuvable."}


def test_an_unexpected_failure_is_a_french_500(app, auth, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("boom")

    auth.login("admin")
    page = client.get("/boom")
    assert page.status_code == 500 and "Erreur du serveur" in page.text
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.json["error"].startswith("Erreur du serveur")
