"""Protocol v1 at the boundary: reading the push envelope and checking each record's shape.

Per DESIGN §9: the envelope is refused whole (400) only when it cannot be read; anything else wrong
inside one record rejects that record alone, with French messages keyed by field.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, fields

MAX_RECORDS = 500
RECORD_KEYS = ("id", "form", "form_version", "recorded_at", "parent_id", "base_revision", "data")
_RECORD_KEYS = frozenset(RECORD_KEYS)
STATUSES = ("created", "unchanged", "updated", "conflict", "rejected")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A push is envelope → records → record → data → a place: five levels. Far deeper is an attack
# (a body nested 100,000 levels deep overflows the parser's stack), refused before it is read.
MAX_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTAINERS = (dict, list)
# What tablets send, and what `as_uuid` answers: already canonical, no need to parse it again.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class EnvelopeError(ValueError):
    """A push body that cannot be read at all: answered 400, nothing applied."""


class TooManyRecords(EnvelopeError):
    """More records than one batch may hold: answered 413, nothing applied."""


class NotJSON(EnvelopeError):
    """A body that is not a JSON document this server can keep: answered 400."""


def parse_json(raw: bytes) -> Any:
    """Return a request body read as JSON, or raise NotJSON in French.

    Refused: invalid UTF-8, bad syntax, NaN or Infinity (not JSON, and not storable), numbers too
    long for Python to read, nesting deeper than MAX_DEPTH, and strings holding half of a UTF-16
    pair (they cannot be written back as UTF-8).
    """
    try:
        text = raw.decode("utf-8")  # JSON between systems is UTF-8 (RFC 8259 §8.1)
        body = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise NotJSON("Le corps de la requête n'est pas du JSON valide.") from None
    if isinstance(body, dict | list | str):
        _check_tree(body, strings=bool(_SURROGATE_ESCAPE.search(text)))
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _check_tree(body: Any, strings: bool) -> None:
    # Level by level, so that the check itself cannot overflow; strings are looked at only when
    # the body escapes a surrogate (rare), containers always. json.loads makes exact types only.
    level, depth = [body], 1
    while level:
        nested = []
        for value in level:
            if type(value) is str:
                _check_string(value)
                continue
            if depth > MAX_DEPTH:
                raise NotJSON(f"JSON imbriqué sur plus de {MAX_DEPTH} niveaux.")
            if type(value) is dict:
                if strings:
                    nested.extend(value)
                value = value.values()
            for child in value:
                if type(child) in _CONTAINERS or (strings and type(child) is str):
                    nested.append(child)
        level, depth = nested, depth + 1


def _check_string(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise NotJSON("Le corps de la requête n'est pas du JSON valide : un caractère "
                      "y est une moitié de paire UTF-16.") from None


def as_uuid(value: Any) -> str | None:
    """Return the canonical form of a UUID string, or None if it is not one."""
    if not isinstance(value, str):
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def read_envelope(body: Any) -> tuple[str, list[dict]]:
    """Return (device_id, records) of a push body, or raise EnvelopeError in French."""
    if not isinstance(body, dict):
        raise EnvelopeError("Le corps doit être un objet JSON {\"device_id\", \"records\"}.")
    unknown = set(body) - {"device_id", "records"}
    if unknown:
        raise EnvelopeError(f"Clé inconnue dans l'envoi : {', '.join(sorted(unknown))}.")
    device_id = as_uuid(body.get("device_id"))
    if device_id is None:
        raise EnvelopeError("«device_id» manquant ou qui n'est pas un UUID.")
    records = body.get("records")
    if not isinstance(records, list):
        raise EnvelopeError("«records» manquant ou qui n'est pas une liste.")
    if len(records) > MAX_RECORDS:
        raise TooManyRecords(f"{MAX_RECORDS} fiches au plus par envoi ({len(records)} reçues).")
    for position, item in enumerate(records):
        if not isinstance(item, dict):
            raise EnvelopeError(f"La fiche n° {position + 1} n'est pas un objet JSON.")
        if as_uuid(item.get("id")) is None:
            raise EnvelopeError(f"La fiche n° {position + 1} n'a pas d'«id» UUID.")
    return device_id, records


def check_record(item: dict, now: datetime) -> tuple[dict, dict[str, list[str]]]:
    """Check a record's own keys (not its data): (normalised record, errors by key)."""
    errors: dict[str, list[str]] = {}
    unknown = item.keys() - _RECORD_KEYS
    for key in sorted(unknown):
        errors[key] = ["Champ inconnu."]
    for key in ("form", "form_version", "recorded_at", "data"):
        if key not in item:
            errors[key] = ["Ce champ est obligatoire."]
    record = {"id": as_uuid(item["id"]), "form": item.get("form"),
              "form_version": item.get("form_version"), "parent_id": item.get("parent_id"),
              "base_revision": item.get("base_revision"), "data": item.get("data"),
              "recorded_at": item.get("recorded_at")}
    if "form" in item and not (isinstance(record["form"], str) and record["form"]):
        errors["form"] = ["Clé de formulaire attendue."]
    if "form_version" in item and not _positive_int(record["form_version"]):
        errors["form_version"] = ["Numéro de version attendu (entier positif)."]
    if record["base_revision"] is not None and not _positive_int(record["base_revision"]):
        errors["base_revision"] = ["Numéro de révision attendu (entier positif) ou null."]
    if record["parent_id"] is not None:
        record["parent_id"] = as_uuid(record["parent_id"])
        if record["parent_id"] is None:
            errors["parent_id"] = ["Identifiant de fiche parente invalide (UUID ou null)."]
    if "data" in item and not isinstance(record["data"], dict):
        errors["data"] = ["Les réponses doivent être un objet JSON."]
    if "recorded_at" in item:
        message = _recorded_at_error(record["recorded_at"], now)
        if message:
            errors["recorded_at"] = [message]
    return record, errors


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _recorded_at_error(value: Any, now: datetime) -> str | None:
    if not isinstance(value, str):
        return "Date et heure attendues (ISO 8601)."
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "Date et heure attendues (ISO 8601)."
    if moment.tzinfo is None:
        return "Le fuseau horaire manque (ex. +01:00)."
    if moment > now + timedelta(days=1):
        return "Date dans le futur : vérifiez l'horloge de la tablette."
    if moment < EARLIEST:
        return "Date antérieure à 2000 : vérifiez l'horloge de la tablette."
    return None


# Schemas that describe the protocol for the OpenAPI document (the checks above do the work on
# the hot path, for speed; these are their description, kept beside them).


class RecordIn(Schema):
    """A record pushed by a tablet."""

    id = fields.UUID(required=True)
    form = fields.String(required=True, metadata={"example": "maraude.rencontre"})
    form_version = fields.Integer(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    parent_id = fields.UUID(allow_none=True)
    base_revision = fields.Integer(allow_none=True)
    data = fields.Dict(required=True)


class PushRequest(Schema):
    """A batch of at most 500 records from one device."""

    device_id = fields.UUID(required=True)
    records = fields.List(fields.Nested(RecordIn), required=True)


class RecordResult(Schema):
    """What became of one pushed record."""

    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    revision = fields.Integer(required=True, allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         required=True)


class PushResponse(Schema):
    """One result per record, in request order, and the pull cursor after the batch."""

    results = fields.List(fields.Nested(RecordResult), required=True)
    cursor = fields.String(required=True)


class Person(Schema):
    """A person this user may have offline, or a tombstone {id, deleted: true}."""

    id = fields.UUID(required=True)
    revision = fields.Integer()
    data = fields.Dict()
    deleted = fields.Boolean()


class PullItem(Schema):
    """One item of a kind the domain adds beside `people`, in the same shape, or a tombstone."""

    id = fields.String(required=True)
    revision = fields.Integer()
    data = fields.Dict()
    deleted = fields.Boolean()


class Choice(Schema):
    """One entry of a reference list."""

    value = fields.String()
    label = fields.String()


class PullResponse(Schema):
    """What this user may have offline, after a cursor (the domain's kinds are added to it)."""

    forms = fields.List(fields.Dict(), required=True)
    reference = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(Choice)),
                            required=True)
    people = fields.List(fields.Nested(Person), required=True)
    cursor = fields.String(required=True)
    more = fields.Boolean(required=True)


class RecordOut(Schema):
    """A stored record at its current revision."""

    id = fields.UUID()
    form = fields.String()
    form_version = fields.Integer()
    revision = fields.Integer()
    parent_id = fields.UUID(allow_none=True)
    recorded_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    recorded_by = fields.String()
    data = fields.Dict()


class RecordsResponse(Schema):
    """A page of stored records in the order of their last change."""

    records = fields.List(fields.Nested(RecordOut))
    cursor = fields.String()
    more = fields.Boolean()


class Error(Schema):
    """An error, in French; `code` tells some apart (`csrf`: fetch a new token and try again)."""

    error = fields.String(required=True)
    code = fields.String()
