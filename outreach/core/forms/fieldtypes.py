"""The field types a form definition may use: how each value is checked and read from HTML.

Every type here loads to the JSON value DESIGN §5 gives it, so what is stored is what was sent.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Collection
from datetime import date, datetime, time
from typing import Any

from marshmallow import ValidationError, fields

REQUIRED = "Ce champ est obligatoire."
# Shapes a text field may be asked to have ("format"), with the French message when it has not.
FORMATS = {
    "telephone_fr": (re.compile(r"^(?:(?:\+|00)33[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}$"),
                     "Numéro de téléphone français attendu (ex. 05 55 12 34 56)."),
}
TEXT_MAX = {"text": 500, "textarea": 5000}


def _messages() -> dict[str, str]:
    return {"required": REQUIRED, "null": REQUIRED, "invalid": "Valeur invalide."}


class Text(fields.Field):
    """A string of bounded length; a blank answer to a required field counts as missing."""

    def __init__(self, max_length: int, shape: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.shape = FORMATS.get(shape) if shape else None

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Texte attendu.")
        if self.required and not value.strip():
            raise ValidationError(REQUIRED)
        if len(value) > self.max_length:
            raise ValidationError(f"{self.max_length} caractères au plus ({len(value)} saisis).")
        if self.shape and value.strip() and not self.shape[0].match(value.strip()):
            raise ValidationError(self.shape[1])
        return value


class Integer(fields.Field):
    """A whole number (never a boolean, never a decimal) within optional bounds."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Nombre entier attendu.")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(f"Au moins {self.minimum}.")
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(f"Au plus {self.maximum}.")
        return value


class Date(fields.Field):
    """A calendar date as YYYY-MM-DD."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValidationError("Date attendue (AAAA-MM-JJ).")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValidationError("Cette date n'existe pas.") from None
        return value


class Time(fields.Field):
    """A time of day as HH:MM."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValidationError("Heure attendue (HH:MM).")
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValidationError("Cette heure n'existe pas.") from None
        return value


def parse_aware_datetime(value: Any) -> datetime:
    """Read an ISO-8601 timestamp that carries its UTC offset, or raise ValidationError."""
    if not isinstance(value, str):
        raise ValidationError("Date et heure attendues (ISO 8601).")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("Date et heure attendues (ISO 8601).") from None
    if moment.tzinfo is None:
        raise ValidationError("Le fuseau horaire manque (ex. +01:00).")
    return moment


class DateTime(fields.Field):
    """A moment, ISO-8601 with its UTC offset (the tablet adds it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parse_aware_datetime(value)
        return value


class Choice(fields.Field):
    """One value out of a list of choices (inline, or a reference list read when checking)."""

    def __init__(self, values: Callable[[], Collection[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or value not in self.values():
            raise ValidationError("Choix inconnu.")
        return value


class Multi(fields.Field):
    """Several distinct values out of a list of choices."""

    def __init__(self, values: Callable[[], Collection[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError("Liste de choix attendue.")
        known = self.values()
        unknown = [item for item in value if item not in known]
        if unknown:
            raise ValidationError(f"Choix inconnu : {', '.join(unknown)}.")
        if len(set(value)) != len(value):
            raise ValidationError("Un choix est coché deux fois.")
        if self.required and not value:
            raise ValidationError("Cochez au moins un choix.")
        return value


class Boolean(fields.Field):
    """Yes or no, as JSON true or false (not "true", not 1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Oui ou non attendu.")
        return value


class Person(fields.Field):
    """A person's UUID; whether the person exists is not checked (their file may sync later)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else _raise()
        except ValueError:
            raise ValidationError("Identifiant de personne invalide.") from None


def _raise():
    raise ValueError


class Place(fields.Field):
    """A place: a label, and coordinates only if the agent asked for them."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Lieu attendu.")
        unknown = set(value) - {"label", "lat", "lon"}
        if unknown:
            raise ValidationError(f"Clé inconnue dans le lieu : {', '.join(sorted(unknown))}.")
        label = value.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ValidationError("Nommez le lieu.")
        if len(label) > 200:
            raise ValidationError("200 caractères au plus pour le lieu.")
        lat, lon = value.get("lat"), value.get("lon")
        if (lat is None) != (lon is None):
            raise ValidationError("Donnez la latitude et la longitude, ou aucune des deux.")
        if lat is not None:
            for number, bound in ((lat, 90), (lon, 180)):
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ValidationError("Coordonnées invalides.")
                if not math.isfinite(number) or abs(number) > bound:
                    raise ValidationError("Coordonnées hors limites.")
        return {"label": label, "lat": lat, "lon": lon}


def build_field(spec: dict, reference: Callable[[str], Collection[str]]) -> fields.Field:
    """Build the marshmallow field that checks one field of a definition."""
    kind = spec["type"]
    options = {
        "required": spec.get("required", False),
        "allow_none": not spec.get("required", False),
        "error_messages": _messages(),
    }
    if kind in TEXT_MAX:
        return Text(TEXT_MAX[kind], spec.get("format"), **options)
    if kind in ("integer", "counter"):
        return Integer(spec.get("min"), spec.get("max"), **options)
    if kind in ("choice", "multi"):
        if "choices_from" in spec:
            list_key = spec["choices_from"]

            def values():
                """Read the reference list when checking, so new entries count at once."""
                return reference(list_key)
        else:
            inline = frozenset(choice["value"] for choice in spec["choices"])

            def values():
                """Give the definition's own choices."""
                return inline
        return (Choice if kind == "choice" else Multi)(values, **options)
    simple = {
        "date": Date,
        "time": Time,
        "datetime": DateTime,
        "boolean": Boolean,
        "person": Person,
        "place": Place,
    }
    return simple[kind](**options)


FIELD_TYPES = frozenset(
    {"text", "textarea", "integer", "counter", "date", "time", "datetime", "choice", "multi",
     "boolean", "person", "place"}
)
