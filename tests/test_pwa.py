"""Installable and offline-ready (DESIGN §7): the manifest and the service worker, no session."""

from pathlib import Path

from outreach.core.pwa import shell_files, shell_version


def test_manifest_is_installable_and_needs_no_session(client):
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200 and answer.mimetype == "application/manifest+json"
    manifest = answer.json
    assert manifest["lang"] == "fr" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_service_worker_is_served_at_the_root_without_a_session(app, client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Service-Worker-Allowed"] == "/"
    assert answer.headers["Cache-Control"] == "no-cache"
    script = answer.text
    assert app.extensions["outreach.shell_version"] in script
    for url in ("/static/outreach.css", "/static/js/app.js", "/static/vendor/idb/index.js"):
        assert f'"{url}"' in script
    assert "skipWaiting()" in script and 'message.type === "take-update"' in script


def test_the_version_follows_the_content_of_the_shell(tmp_path):
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "outreach.css").write_text("body {}")
    (static / "js" / "app.js").write_text("// v1")
    first = shell_version(static)
    assert shell_version(static) == first
    (static / "js" / "app.js").write_text("// v2")
    assert shell_version(static) != first
    assert [p.name for p in shell_files(static)] == ["app.js", "outreach.css"]


def test_every_module_stays_small():
    folder = Path(__file__).parent.parent / "outreach" / "static" / "js"
    for module in folder.glob("*.js"):
        assert len(module.read_text().splitlines()) <= 300, module.name


def test_a_page_kept_in_the_background_leaves_the_message_to_the_person(auth, client):
    # The service worker keeps pages while the person reads one: it must not take their
    # "Fiche enregistrée" (found by the browser tests: a message lost under load).
    auth.login("maraude")
    saved = auth.post("/saisie/personne", {"niveau": "alias", "alias_prenom": "Dédé"})
    assert saved.status_code == 302
    kept = client.get("/", headers={"X-Outreach-Keep": "1"})
    assert kept.status_code == 200 and "Fiche enregistrée." not in kept.text
    assert "Fiche enregistrée." in client.get("/").text
