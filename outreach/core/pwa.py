"""What makes the app installable and offline: the manifest and the service worker (DESIGN §7).

Both are served without a session (browsers fetch them without cookies) and hold nothing
personal. The service worker's precache list and version come from the content of the shell
files, so a deploy that changes one of them updates every tablet.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from outreach.core.roles import public

bp = Blueprint("pwa", __name__)
SHELL_GLOBS = ("outreach.css", "js/*.js", "vendor/idb/index.js", "icons/*.png")


def shell_files(static: Path) -> list[Path]:
    """Return the static files every page needs offline, in a stable order."""
    return sorted({path for pattern in SHELL_GLOBS for path in static.glob(pattern)})


def shell_version(static: Path) -> str:
    """Fingerprint the shell files' content: a change to any of them is a new version."""
    digest = hashlib.sha256()
    for path in shell_files(static):
        digest.update(path.relative_to(static).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/manifest.webmanifest")
@public
def manifest():
    """Describe the app for installing it on a tablet's home screen."""
    icons = [
        {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192",
         "type": "image/png"},
        {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512",
         "type": "image/png"},
        {"src": url_for("static", filename="icons/maskable-512.png"), "sizes": "512x512",
         "type": "image/png", "purpose": "maskable"},
    ]
    body = {
        "name": "Outreach — maraudes, visites, permanences",
        "short_name": "Outreach",
        "description": "Les fiches de l'aller-vers du CCAS, même sans réseau.",
        "lang": "fr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": icons,
    }
    response = current_app.response_class(
        current_app.json.dumps(body), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
@public
def service_worker():
    """Serve the service worker with its precache list and the shell's version."""
    static = Path(current_app.static_folder)
    shell = [url_for("static", filename=path.relative_to(static).as_posix())
             for path in shell_files(static)]
    script = render_template("sw.js", version=current_app.extensions["outreach.shell_version"],
                             shell=shell)
    response = current_app.response_class(script, mimetype="text/javascript")
    # Browsers check for a new worker at each visit; it must never come from a cache.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def kept_copy() -> bool:
    """Whether this page is the copy the service worker keeps for offline use (DESIGN §9).

    A kept copy holds nothing personal: Cache Storage is a file on the tablet's disk, outside
    the encrypted store. What is personal on a page (the people a person field offers, the
    rencontres of a tournée) is left out of it; the page draws it from the encrypted store, or
    shows it with the network.
    """
    return request.headers.get("X-Outreach-Keep") == "1"


def init_app(app: Flask) -> None:
    """Fingerprint the shell once at start and serve the manifest and the worker."""
    app.extensions["outreach.shell_version"] = shell_version(Path(app.static_folder))
    app.register_blueprint(bp)
    app.jinja_env.globals["kept_copy"] = kept_copy

    @app.after_request
    def mark_kept_copy(response: Response) -> Response:
        """Mark the copy drawn for keeping: the worker keeps no other page.

        A page answered to anything else (a person's own visit, with the people in it) is
        never what lands in Cache Storage.
        """
        if kept_copy() and response.mimetype == "text/html":
            response.headers["X-Outreach-Kept"] = "1"
        response.vary.add("X-Outreach-Keep")
        return response
