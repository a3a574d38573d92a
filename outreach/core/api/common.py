"""What the API views share: reading JSON bodies, describing the user, compressing answers."""

from __future__ import annotations

import gzip
from typing import Any

from flask import Flask, request
from flask_login import current_user

from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES, ROLES
from sync.protocol import NotJSON, parse_json
from sync.push import Actor

COMPRESS_FROM = 1024


__all__ = ["NotJSON", "actor", "json_body", "user_json"]


def json_body() -> Any:
    """Return the request's body parsed as JSON, whatever its content type, or raise NotJSON."""
    return parse_json(request.get_data(cache=False))


def user_json(user: User) -> dict:
    """Describe the logged-in user for a client."""
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "role": user.role,
        "role_label": ROLES[user.role],
    }


def actor() -> Actor:
    """Return the logged-in user as the sync engine sees them."""
    return Actor(id=current_user.id, role=current_user.role,
                 office=current_user.role in OFFICE_ROLES)


def init_app(app: Flask) -> None:
    """Compress API answers for clients that accept gzip (a tablet's pull goes over 3G)."""

    @app.after_request
    def compress(response):
        """Gzip a large JSON answer of the API."""
        if (
            request.path.startswith("/api/")
            and response.mimetype == "application/json"
            and "gzip" in request.headers.get("Accept-Encoding", "")
            and not response.direct_passthrough
            and "Content-Encoding" not in response.headers
            and response.content_length
            and response.content_length >= COMPRESS_FROM
        ):
            response.set_data(gzip.compress(response.get_data(), compresslevel=6))
            response.headers["Content-Encoding"] = "gzip"
            response.vary.add("Accept-Encoding")
        return response
