"""Headers every answer carries, and the one check on where a login may send a person back to."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, request

# No inline script nor inline style anywhere: every script is a static ES module and every
# style is in outreach.css, so an injected <script> or style="" attribute has no effect.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# What holds nothing personal keeps its own caching: the shell's files, the manifest and the
# service worker. Every other answer (pages, API, exports) may name someone: never stored by a
# browser's or a proxy's HTTP cache. The service worker keeps the pages it needs in Cache
# Storage, which ignores Cache-Control.
CACHEABLE_ENDPOINTS = frozenset({"static", "pwa.manifest", "pwa.service_worker"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_path(target: str | None) -> str | None:
    """Return `target` if it is a path of this site (`/…`), else None.

    Browsers read a backslash as a slash and drop tabs and newlines, so `//evil`, `/<tab>/evil`
    and a slash then a backslash all leave the site: one leading slash, then no scheme nor host;
    a control character (a header split) is never sent back.
    """
    if not target or _CONTROL.search(target):
        return None
    normalised = target.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return None
    return target


def init_app(app: Flask) -> None:
    """Add the security headers to every answer."""

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Set CSP, framing, sniffing and referrer rules; forbid caching what may be personal."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
