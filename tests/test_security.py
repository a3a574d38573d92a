"""Issue 14, items 3 and 10: security headers on every answer, `suivant` kept to this site, a
login that takes JSON only, and unreadable JSON refused in French on every endpoint."""

import io
import json
import re
from pathlib import Path

import pytest

from outreach.core.security import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, csrf_from
from tests.sync_helpers import Tablet, item, personne

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_protected(answer, path):
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (path, name)
    assert answer.headers.get("Cache-Control") == "no-store", path


def test_the_policy_allows_no_inline_script_nor_another_site():
    rules = dict(rule.split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split("; "))
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert rules["default-src"] == "'self'" and rules["object-src"] == "'none'"
    assert rules["frame-ancestors"] == "'none'" and rules["base-uri"] == "'none'"
    assert rules["form-action"] == "'self'"


def parameterless_get_routes(app):
    """Every page and API call a GET reaches without a path parameter."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments})


def test_every_page_and_api_answer_carries_the_headers_and_is_not_stored(app, auth, client):
    auth.login("admin")
    kept = {"/static/<path:filename>", "/manifest.webmanifest", "/sw.js"}
    for path in parameterless_get_routes(app):
        if path in kept:
            continue
        answer = client.get(path)
        assert answer.status_code < 500, path
        assert_protected(answer, path)


def test_a_person_file_the_pull_and_an_export_are_not_stored(app, auth, client):
    auth.login("admin")
    tablet = Tablet(app.test_client(), "admin")
    person = item("personne", personne(alias_prenom="Momo"))
    tablet.push(person)
    for path in (f"/personnes/{person['id']}", "/api/v1/sync/pull",
                 "/tableau-de-bord/export?formulaire=maraude.rencontre&annee=2026"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_protected(answer, path)


def test_errors_and_redirects_carry_the_headers_too(client):
    for path in ("/", "/nulle-part", "/api/v1/sync/pull", "/api/v1/nulle-part"):
        answer = client.get(path)
        assert answer.status_code in (302, 401, 404), path
        assert_protected(answer, path)


def test_the_shell_keeps_its_caching_and_gets_the_other_headers(client):
    css = client.get("/static/outreach.css")
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/sw.js", "/manifest.webmanifest"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-cache", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path


def test_no_template_holds_inline_script_style_or_handler():
    package = Path(__file__).parent.parent / "outreach"
    for template in [*package.glob("templates/*.html"), *package.glob("*/templates/*.html")]:
        text = template.read_text()
        assert not re.search(r"<style", text), template.name
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        for tag in re.findall(r"<script[^>]*>", text):
            assert 'src="' in tag or 'type="application/json"' in tag, (template.name, tag)


# Where the login sends back to: only a path of this site.

HOSTILE_NEXT = [
    "////evil.example", "//evil.example/x", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\\/evil.example", "https://evil.example/", "http:evil.example",
    "javascript:alert(1)", "/\r\nSet-Cookie: x=1", "/\r\nLocation: //evil.example",
    "/\x00", "/\t/evil.example", "/\n/evil.example", " //evil.example", "evil.example", "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_logged_in_visit_to_the_login_page_never_leaves_the_site(auth, client, target):
    auth.login("admin")
    answer = client.get("/connexion", query_string={"suivant": target})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_login_form_never_sends_to_another_site(auth, client, target):
    auth.user("admin")
    page = client.get("/connexion")
    answer = client.post("/connexion", query_string={"suivant": target}, data={
        "login": "admin", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_the_raw_query_of_the_issue_is_refused(auth, client):
    auth.login("admin")
    for query in ("suivant=////evil.example", "suivant=/%0d%0aLocation:%20//evil.example",
                  "suivant=/%5C%5Cevil.example", "suivant=/%09/evil.example"):
        answer = client.get(f"/connexion?{query}")
        assert answer.status_code == 302 and answer.headers["Location"] == "/", query


@pytest.mark.parametrize("target", ["/fiches?formulaire=personne", "/saisie/maraude.tournee",
                                    "/personnes", "/plans/1/prefet#besoins"])
def test_a_path_of_the_site_is_kept(auth, client, target):
    auth.login("admin")
    answer = client.get("/connexion", query_string={"suivant": target})
    assert answer.headers["Location"] == target


# The login API: JSON only (a page of another site cannot send JSON without asking first).

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_the_login_api_takes_json_only(auth, client, content_type):
    auth.user("admin")
    body = json.dumps({"login": "admin", "password": PASSWORD})
    answer = client.post("/api/v1/session", data=body, content_type=content_type)
    assert answer.status_code == 400
    assert answer.is_json and answer.json["code"] == "json_attendu"
    assert "JSON" in answer.json["error"]
    assert client.get("/api/v1/session").status_code == 401


def test_a_form_posted_from_another_site_logs_nobody_in(auth, client):
    auth.user("admin")
    answer = client.post("/api/v1/session", data={"login": "admin", "password": PASSWORD},
                         headers={"Origin": "https://evil.example"})
    assert answer.status_code == 400
    assert client.get("/api/v1/session").status_code == 401


def test_the_login_page_still_needs_its_csrf_token(auth, client):
    auth.user("admin")
    answer = client.post("/connexion", data={"login": "admin", "password": PASSWORD})
    assert answer.status_code == 400
    assert "Jeton de sécurité manquant" in answer.text
    assert client.get("/api/v1/session").status_code == 401


def test_the_login_api_with_json_still_works(auth, client):
    auth.user("admin")
    answer = client.post("/api/v1/session", json={"login": "admin", "password": PASSWORD})
    assert answer.status_code == 200 and answer.json["user"]["login"] == "admin"


# Unreadable JSON: a 400 in French wherever the server reads JSON.

UNREADABLE = {
    "ouvert 100 000 fois": b"[" * 100_000,
    "imbrique 100 000 fois": b"[" * 100_000 + b"]" * 100_000,
    "objets imbriques": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "imbrique 40 fois": b"[" * 40 + b"]" * 40,
    "UTF-8 invalide": b'{"login": "\xff\xfe"}',
    "moitie de paire UTF-16": b'{"login": "\\ud800", "password": "x"}',
    "NaN": b"NaN",
    "Infinity": b'{"device_id": Infinity}',
    "nombre trop grand": b"1e999",
    "entier de 5000 chiffres": b"1" * 5000,
    "nombre nu": b"42",
    "vide": b"",
    "texte": b"bonjour",
    "UTF-16": '{"login": "a"}'.encode("utf-16"),
}
JSON_ENDPOINTS = {("POST", "/api/v1/session"), ("POST", "/api/v1/sync/push")}


def json_endpoints(app):
    """Every API call that takes a body (the ones that read JSON)."""
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/")
            for method in rule.methods & {"POST", "PUT", "PATCH"}}


def test_the_json_endpoints_are_the_ones_tried_here(app):
    # A new endpoint that takes a body must be added to JSON_ENDPOINTS (and so tried below).
    assert json_endpoints(app) == JSON_ENDPOINTS


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_json_is_a_400_in_french_on_every_endpoint(app, auth, client, body):
    auth.login("admin")
    for method, path in sorted(JSON_ENDPOINTS):
        answer = client.open(path, method=method, data=body, content_type="application/json",
                             headers={"X-CSRFToken": auth.csrf_token})
        assert answer.status_code == 400, (path, answer.status_code)
        assert answer.is_json, path
        assert "JSON" in answer.json["error"], (path, answer.json)


def test_a_deep_value_inside_a_record_is_refused_whole(app, auth):
    auth.login("admin")
    tablet = Tablet(app.test_client(), "admin")
    deep: object = "x"
    for _ in range(40):
        deep = {"a": deep}
    answer = tablet.push_raw({"device_id": tablet.device_id,
                              "records": [item(data={"notes": deep})]})
    assert answer.status_code == 400 and "imbriqué" in answer.json["error"]


def test_a_record_at_the_usual_depth_is_still_stored(app, auth):
    auth.login("admin")
    tablet = Tablet(app.test_client(), "admin")
    assert [r["status"] for r in tablet.push(item(), item("personne", personne(
        alias_prenom="Émile 😀")))] == ["created", "created"]


def test_an_emoji_escaped_as_a_utf16_pair_is_still_read(app, auth):
    auth.login("admin")
    tablet = Tablet(app.test_client(), "admin")
    record = item("personne", personne())
    body = json.dumps({"device_id": tablet.device_id, "records": [record]}).replace(
        '"Momo"', '"Momo \\ud83d\\ude00"')
    answer = tablet.client.post("/api/v1/sync/push", data=body, content_type="application/json",
                                headers={"X-CSRFToken": tablet.token})
    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "created"


@pytest.mark.parametrize("body", [UNREADABLE["imbrique 100 000 fois"],
                                  UNREADABLE["UTF-8 invalide"], UNREADABLE["nombre nu"]])
def test_an_unreadable_import_file_is_said_on_the_page(auth, body):
    auth.login("admin")
    answer = auth.post("/admin/import", {"fichier": (io.BytesIO(body), "export.json")},
                       content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "pas un export de fiches en attente" in answer.text
