"""GET /api/v1/openapi.json: the API described from the same marshmallow schemas (apispec)."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app

from sync import protocol

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
ERRORS = {
    "400": "Requête illisible, ou jeton CSRF manquant (code « csrf »)",
    "401": "Connexion requise",
    "403": "Rôle insuffisant",
    "413": "Plus de 500 fiches, ou corps trop volumineux",
}


def _answers(schema: str, *codes: str) -> dict:
    answers = {"200": {"description": "OK", "content": {
        "application/json": {"schema": schema}}}}
    for code in codes:
        answers[code] = {"description": ERRORS[code], "content": {
            "application/json": {"schema": "Error"}}}
    return answers


def build_spec() -> dict:
    """Describe protocol v1 (DESIGN §4) as an OpenAPI 3 document."""
    spec = APISpec(title="Outreach — protocole de synchronisation", version="1",
                   openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    for name in ("RecordIn", "PushRequest", "RecordResult", "PushResponse", "Person",
                 "PullResponse", "RecordOut", "RecordsResponse", "Error"):
        spec.components.schema(name, schema=getattr(protocol, name))
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "outreach_session"})
    spec.components.security_scheme(
        "csrf", {"type": "apiKey", "in": "header", "name": "X-CSRFToken"})
    spec.path("/api/v1/session", operations={
        "post": {"summary": "Se connecter", "security": [], "requestBody": {"content": {
            "application/json": {"schema": {"type": "object", "required": ["login", "password"],
                                            "properties": {"login": {"type": "string"},
                                                           "password": {"type": "string"}}}}}},
                 "responses": {"200": {"description": "Utilisateur et jeton CSRF"},
                               "401": {"description": "Identifiants refusés"},
                               "429": {"description": "Trop de tentatives"}}},
        "get": {"summary": "Session en cours et jeton CSRF frais",
                "security": [{"session": []}], "responses": {
                    "200": {"description": "Utilisateur et jeton CSRF"},
                    "401": {"description": ERRORS["401"]}}},
        "delete": {"summary": "Se déconnecter", "security": [{"session": [], "csrf": []}],
                   "responses": {"200": {"description": "Déconnecté"}}},
    })
    spec.path("/api/v1/sync/push", operations={"post": {
        "summary": "Envoyer un lot de fiches (500 au plus)",
        "security": [{"session": [], "csrf": []}],
        "requestBody": {"content": {"application/json": {"schema": "PushRequest"}}},
        "responses": _answers("PushResponse", "400", "401", "413"),
    }})
    spec.path("/api/v1/sync/pull", operations={"get": {
        "summary": "Recevoir ce qu'il faut hors ligne, après un curseur",
        "security": [{"session": []}],
        "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}},
                       {"name": "device_id", "in": "query",
                        "schema": {"type": "string", "format": "uuid"}}],
        "responses": _answers("PullResponse", "400", "401"),
    }})
    spec.path("/api/v1/records", operations={"get": {
        "summary": "Fiches enregistrées, dans l'ordre de leur dernier changement",
        "security": [{"session": []}],
        "parameters": [
            {"name": "form", "in": "query", "schema": {"type": "string"}},
            {"name": "after", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
        "responses": _answers("RecordsResponse", "400", "401", "403"),
    }})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    """Serve the OpenAPI description of the API."""
    if "outreach.openapi" not in current_app.extensions:
        current_app.extensions["outreach.openapi"] = build_spec()
    return current_app.extensions["outreach.openapi"]
