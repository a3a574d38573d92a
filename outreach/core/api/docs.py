"""GET /api/v1/openapi.json: the API described from the same marshmallow schemas (apispec).

It says every answer each call can give (schemathesis checks it against the running app, in
tests/test_api_contract.py): the errors are all `{"error", "code"?}` in JSON.
"""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app

from outreach.core import signals
from sync import protocol

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
ERRORS = {
    "400": "Requête illisible (JSON invalide, imbriqué trop profondément…), ou jeton CSRF "
           "manquant ou expiré (code « csrf »)",
    "401": "Connexion requise",
    "403": "Rôle insuffisant",
    "413": "Corps trop volumineux (plus de 10 Mo), ou plus de 500 fiches",
    "429": "Trop de tentatives de connexion : réessayez dans une minute",
}
SESSION_ANSWER = {"type": "object", "required": ["user", "csrf_token"], "properties": {
    "user": {"type": "object", "required": ["id", "login", "name", "role", "role_label"],
             "properties": {"id": {"type": "integer"}, "login": {"type": "string"},
                            "name": {"type": "string"}, "role": {"type": "string"},
                            "role_label": {"type": "string"}}},
    "csrf_token": {"type": "string"}}}
ALERTS_SUMMARY = {"type": "object", "required": ["new", "latest_received_at", "ids"],
                  "properties": {"new": {"type": "integer"},
                                 "latest_received_at": {"type": "string", "nullable": True},
                                 "ids": {"type": "array", "items": {"type": "string"}}}}


# The cursors' shapes (sync/pull.py, sync/records.py): opaque to a client, but a string of
# another shape is refused, so the description says which strings are cursors at all.
PULL_CURSOR = r"^([0-9]{1,18}\.[\s\S]+)?$"
RECORDS_CURSOR = r"^([0-9]{1,18}(:[\s\S]*)?)?$"
# What makes a push unreadable (refused whole) is the envelope only; each record's own shape
# (RecordIn) is checked record by record, and a wrong one is answered `rejected`, not 400.
PUSH_ENVELOPE = {
    "type": "object", "required": ["device_id", "records"], "additionalProperties": False,
    "properties": {
        "device_id": {"type": "string", "format": "uuid"},
        "records": {"type": "array", "maxItems": protocol.MAX_RECORDS, "items": {
            "type": "object", "required": ["id"], "additionalProperties": True,
            "properties": {"id": {"type": "string", "format": "uuid"}},
            "description": "Une fiche (RecordIn) : un défaut autre que l'«id» la rejette seule."}},
    }}


def _json(schema: str | dict) -> dict:
    return {"application/json": {"schema": schema}}


def _answers(schema: str | dict, *codes: str, ok: str = "OK") -> dict:
    answers = {"200": {"description": ok, "content": _json(schema)}}
    for code in codes:
        answers[code] = {"description": ERRORS[code], "content": _json("Error")}
    return answers


def build_spec() -> dict:
    """Describe protocol v1 (DESIGN §4) as an OpenAPI 3 document."""
    spec = APISpec(title="Outreach — protocole de synchronisation", version="1",
                   openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    for name in ("RecordIn", "PushRequest", "RecordResult", "PushResponse", "Person",
                 "PullItem", "PullResponse", "RecordOut", "RecordsResponse", "Error"):
        spec.components.schema(name, schema=getattr(protocol, name))
    # The kinds the domain adds beside `people` (DESIGN §4), in the same shape, always sent.
    pull = spec.components.schemas["PullResponse"]
    for kind in signals.every_pull_kind():
        pull["properties"][kind] = {"type": "array",
                                    "items": {"$ref": "#/components/schemas/PullItem"}}
        pull["required"].append(kind)
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "outreach_session"})
    spec.components.security_scheme(
        "csrf", {"type": "apiKey", "in": "header", "name": "X-CSRFToken"})
    login = {"type": "object", "required": ["login", "password"], "properties": {
        "login": {"type": "string", "minLength": 1}, "password": {"type": "string",
                                                                 "minLength": 1}}}
    spec.path("/api/v1/session", operations={
        "post": {"summary": "Se connecter (JSON seulement : un autre Content-Type est refusé, "
                            "code « json_attendu »)",
                 "security": [], "requestBody": {"required": True, "content": _json(login)},
                 "responses": {**_answers(SESSION_ANSWER, "400", "413", "429",
                                          ok="Utilisateur et jeton CSRF"),
                               "401": {"description": "Identifiants refusés",
                                       "content": _json("Error")}}},
        "get": {"summary": "Session en cours et jeton CSRF frais",
                "security": [{"session": []}],
                "responses": _answers(SESSION_ANSWER, "401", ok="Utilisateur et jeton CSRF")},
        "delete": {"summary": "Se déconnecter", "security": [{"session": [], "csrf": []}],
                   "responses": _answers({"type": "object", "required": ["ok"], "properties": {
                       "ok": {"type": "boolean"}}}, "400", "401", ok="Déconnecté")},
    })
    spec.path("/api/v1/sync/push", operations={"post": {
        "summary": "Envoyer un lot de fiches (500 au plus)",
        "security": [{"session": [], "csrf": []}],
        "description": "Le lot est refusé entier (400) seulement s'il est illisible : "
                       "«device_id» ou «records» absent ou du mauvais type, une fiche qui "
                       "n'est pas un objet ou sans «id» UUID. Tout autre défaut d'une fiche "
                       "(voir RecordIn) la rejette seule : status «rejected», avec ses "
                       "erreurs par champ, dans une réponse 200 (DESIGN §9).",
        "requestBody": {"required": True, "content": _json(PUSH_ENVELOPE)},
        "responses": _answers("PushResponse", "400", "401", "413"),
    }})
    spec.path("/api/v1/sync/pull", operations={"get": {
        "summary": "Recevoir ce qu'il faut hors ligne, après un curseur",
        "security": [{"session": []}],
        "parameters": [{"name": "cursor", "in": "query",
                        "schema": {"type": "string", "pattern": PULL_CURSOR},
                        "description": "Curseur rendu par le pull précédent (opaque) ; un "
                                       "curseur qui n'a pas cette forme est refusé (400)"},
                       {"name": "device_id", "in": "query",
                        "schema": {"type": "string", "format": "uuid"}}],
        "responses": _answers("PullResponse", "400", "401"),
    }})
    spec.path("/api/v1/records", operations={"get": {
        "summary": "Fiches enregistrées, dans l'ordre de leur dernier changement "
                   "(coordinateur, admin)",
        "security": [{"session": []}],
        "parameters": [
            {"name": "form", "in": "query", "schema": {"type": "string"}},
            {"name": "after", "in": "query",
             "schema": {"type": "string", "pattern": RECORDS_CURSOR},
             "description": "Curseur rendu par l'appel précédent (opaque) ; un curseur qui "
                            "n'a pas cette forme est refusé (400)"},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "default": 100},
             "description": "1 000 au plus (au-delà : 1 000)"}],
        "responses": _answers("RecordsResponse", "400", "401", "403"),
    }})
    spec.path("/api/v1/alerts/summary", operations={"get": {
        "summary": "Nouvelles alertes, pour la boîte de réception (coordinateur, admin)",
        "security": [{"session": []}],
        "responses": _answers(ALERTS_SUMMARY, "401", "403"),
    }})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    """Serve the OpenAPI description of the API."""
    if "outreach.openapi" not in current_app.extensions:
        current_app.extensions["outreach.openapi"] = build_spec()
    return current_app.extensions["outreach.openapi"]
