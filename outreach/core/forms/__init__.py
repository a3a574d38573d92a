"""Forms are data: versioned definitions, checked at start, each with the validator built from it.

Nothing here imports Flask: the sync engine, the Python client and the benchmarks use it as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, validates_schema

from outreach.core.forms.fieldtypes import FIELD_TYPES, FORMATS, REQUIRED, build_field

FORMS_DIR = Path(__file__).parent
FORM_KEYS = (
    "maraude.tournee",
    "maraude.rencontre",
    "visite.visite",
    "permanence.session",
    "permanence.accueil",
    "personne",
    "maraude.lieu",
    "registre.inscription",
    "plan.appel",
)
DEFINITION_KEYS = {"key", "version", "title", "description", "parent", "roles", "listed",
                   "fields"}
FIELD_KEYS = {"key", "label", "type", "required", "help", "choices", "choices_from", "min",
              "max", "part_of", "required_if", "accepted_if", "format", "age_rule"}
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# Names the entry page already posts for itself: a field may not take them.
RESERVED_KEYS = {"parent", "csrf_token"}
FORM_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


class DefinitionError(ValueError):
    """A form definition that cannot be used; the message names the file and the field."""


class RecordDataSchema(Schema):
    """Base of every form's schema: unknown keys refused, rules across fields checked."""

    definition: dict = {}
    # Set by `build_schema`, once per version: the fields that have a rule across fields, and
    # the parts of each total. A push checks 500 records; most fields have no such rule.
    ruled: tuple[dict, ...] = ()
    parts: dict[str, list[dict]] = {}
    error_messages = {"unknown": "Champ inconnu.", "type": "Un objet JSON est attendu."}

    class Meta:
        """Refuse unknown keys."""

        unknown = RAISE

    @validates_schema
    def _cross_field_rules(self, data: dict, **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for spec in self.ruled:
            condition = spec.get("required_if")
            if condition and data.get(condition["field"]) == condition["equals"]:
                value = data.get(spec["key"])
                if value is None or value == [] or (isinstance(value, str) and not value.strip()):
                    errors.setdefault(spec["key"], []).append(REQUIRED)
            accepted = spec.get("accepted_if")
            if accepted and data.get(accepted["field"]) == accepted["equals"]:
                if data.get(spec["key"]) is not True:
                    errors.setdefault(spec["key"], []).append(accepted["message"])
            if "age_rule" in spec and spec["key"] not in errors:
                problem = age_problem(spec, data, self.definition)
                if problem:
                    errors.setdefault(spec["key"], []).append(problem)
        for total_key, part_specs in self.parts.items():
            total = data.get(total_key)
            given = [data[s["key"]] for s in part_specs if data.get(s["key"]) is not None]
            if total is not None and sum(given) > total:
                names = " + ".join(s["label"].lower() for s in part_specs)
                message = f"{names} ne peut pas dépasser {total}."
                for spec in part_specs:
                    errors.setdefault(spec["key"], []).append(message)
        if errors:
            raise ValidationError(errors)


def age_problem(spec: dict, data: dict, definition: dict) -> str | None:
    """Say why a birth date does not meet its category's minimum age at a date, or None.

    `age_rule` = {"category": field, "at": date field, "minimum": {category value: years}}:
    the register's eligibility (65 ans et plus, 60 ans reconnu inapte, adulte handicapé).
    """
    rule = spec["age_rule"]
    born, at, category = data.get(spec["key"]), data.get(rule["at"]), data.get(rule["category"])
    if not (born and at and category) or category not in rule["minimum"]:
        return None
    try:
        born_on, at_day = date.fromisoformat(born), date.fromisoformat(at)
    except ValueError:
        return None
    age = at_day.year - born_on.year - ((at_day.month, at_day.day) < (born_on.month, born_on.day))
    minimum = rule["minimum"][category]
    if age >= minimum:
        return None
    categories = next(f for f in definition["fields"] if f["key"] == rule["category"])
    label = next((c["label"] for c in categories["choices"] if c["value"] == category),
                 category)
    return (f"Pour « {label} », il faut avoir {minimum} ans à la date de la demande : "
            f"la personne en a {max(age, 0)}.")


@dataclass
class FormDefinition:
    """One version of one form, as loaded from its definition."""

    key: str
    version: int
    title: str
    fields: list[dict]
    raw: dict
    source: str
    parent: str | None = None
    roles: list[str] | None = None
    # False: filled from its own screen (a plan's call from "Mes appels"), not from the home list.
    listed: bool = True
    schema: Schema = field(init=False, repr=False)
    quick_load: QuickLoad = field(init=False, repr=False)

    def field(self, key: str) -> dict | None:
        """Return the definition of one field, or None."""
        return next((spec for spec in self.fields if spec["key"] == key), None)


def check_definition(raw: Any, source: str) -> None:
    """Refuse a definition the app could not use, naming the file and the field at fault."""

    def fail(message: str, field_key: str | None = None) -> None:
        """Raise the refusal, naming the file and the field."""
        where = f"{source}, champ «{field_key}»" if field_key else source
        raise DefinitionError(f"{where} : {message}")

    if not isinstance(raw, dict):
        fail("la définition doit être un objet JSON")
    unknown = set(raw) - DEFINITION_KEYS
    if unknown:
        fail(f"clé inconnue {sorted(unknown)}")
    if not isinstance(raw.get("key"), str) or not FORM_KEY.match(raw["key"]):
        fail("«key» manquante ou mal formée")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        fail("«version» doit être un entier positif")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        fail("«title» manquant")
    roles = raw.get("roles")
    if roles is not None and not (
        isinstance(roles, list) and all(isinstance(r, str) for r in roles)
    ):
        fail("«roles» doit être une liste de rôles")
    if not isinstance(raw.get("listed", True), bool):
        fail("«listed» doit valoir true ou false")
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields:
        fail("«fields» doit être une liste non vide")
    keys: dict[str, dict] = {}
    labels: set[str] = set()
    for position, spec in enumerate(fields, start=1):
        if not isinstance(spec, dict):
            fail(f"le champ n° {position} n'est pas un objet")
        key = spec.get("key")
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            fail(f"le champ n° {position} n'a pas de «key» valide")
        unknown = set(spec) - FIELD_KEYS
        if unknown:
            fail(f"clé inconnue {sorted(unknown)}", key)
        if key in RESERVED_KEYS:
            fail("cette clé est réservée par l'application", key)
        if key in keys:
            fail("deux champs ont cette clé", key)
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip():
            fail("«label» manquant", key)
        if label in labels:
            fail(f"deux champs ont le libellé «{label}»", key)
        if spec.get("type") not in FIELD_TYPES:
            fail(f"type inconnu «{spec.get('type')}»", key)
        if not isinstance(spec.get("required", False), bool):
            fail("«required» doit être true ou false", key)
        _check_choices(spec, fail)
        if "format" in spec and (spec["type"] != "text" or spec["format"] not in FORMATS):
            fail(f"«format» : un champ texte, et l'un de {sorted(FORMATS)}", key)
        for bound in ("min", "max"):
            if bound in spec and (
                spec["type"] not in ("integer", "counter")
                or isinstance(spec[bound], bool)
                or not isinstance(spec[bound], int)
            ):
                fail(f"«{bound}» n'est permis que sur un nombre entier", key)
        keys[key] = spec
        labels.add(label)
    for spec in fields:
        if "part_of" in spec:
            total = keys.get(spec["part_of"])
            if spec["type"] != "counter" or not total or total["type"] != "counter":
                fail("«part_of» doit relier deux compteurs du même formulaire", spec["key"])
        if "required_if" in spec:
            condition = spec["required_if"]
            if (
                not isinstance(condition, dict)
                or set(condition) != {"field", "equals"}
                or condition["field"] not in keys
                or keys[condition["field"]]["type"] not in ("boolean", "choice")
            ):
                fail("«required_if» doit nommer un champ oui/non ou à choix", spec["key"])
        if "age_rule" in spec:
            rule = spec["age_rule"]
            category = keys.get(rule.get("category")) if isinstance(rule, dict) else None
            at = keys.get(rule.get("at")) if isinstance(rule, dict) else None
            if (
                spec["type"] != "date" or set(rule) != {"category", "at", "minimum"}
                or not category or "choices" not in category or not at or at["type"] != "date"
                or not isinstance(rule["minimum"], dict)
                or set(rule["minimum"]) != {c["value"] for c in category["choices"]}
                or not all(isinstance(v, int) and not isinstance(v, bool)
                           for v in rule["minimum"].values())
            ):
                fail("«age_rule» : une date de naissance, un champ à choix «category» dont "
                     "chaque choix a son âge dans «minimum», une date «at»", spec["key"])
        if "accepted_if" in spec:
            # A yes/no that must be "oui" when another field says so (consent to identify).
            condition = spec["accepted_if"]
            if (
                spec["type"] != "boolean"
                or not isinstance(condition, dict)
                or set(condition) != {"field", "equals", "message"}
                or condition["field"] not in keys
                or not isinstance(condition["message"], str)
            ):
                fail("«accepted_if» : un champ oui/non, avec «field», «equals» et «message»",
                     spec["key"])


def _check_choices(spec: dict, fail: Callable[..., None]) -> None:
    key = spec["key"]
    if spec["type"] not in ("choice", "multi"):
        if "choices" in spec or "choices_from" in spec:
            fail("des choix sur un champ qui n'est pas à choix", key)
        return
    if ("choices" in spec) == ("choices_from" in spec):
        fail("donnez «choices» ou «choices_from», l'un des deux", key)
    if "choices_from" in spec:
        if not isinstance(spec["choices_from"], str) or not IDENTIFIER.match(spec["choices_from"]):
            fail("«choices_from» doit nommer une liste de référence", key)
        return
    choices = spec["choices"]
    if not isinstance(choices, list) or not choices:
        fail("«choices» doit être une liste non vide", key)
    values = set()
    for choice in choices:
        if not isinstance(choice, dict) or set(choice) != {"value", "label"}:
            fail("chaque choix a exactement «value» et «label»", key)
        if not isinstance(choice["value"], str) or not choice["value"]:
            fail("un choix n'a pas de valeur", key)
        if not isinstance(choice["label"], str) or not choice["label"].strip():
            fail(f"le choix «{choice['value']}» n'a pas de libellé", key)
        if choice["value"] in values:
            fail(f"la valeur «{choice['value']}» est donnée deux fois", key)
        values.add(choice["value"])


def build_schema(
    definition: FormDefinition, reference: Callable[[str], Iterable[str]]
) -> Schema:
    """Build, once, the marshmallow schema that validates a record's data for this version."""
    declared = {spec["key"]: build_field(spec, reference) for spec in definition.fields}
    name = f"{definition.key}.v{definition.version}".replace(".", "_")
    schema_class = RecordDataSchema.from_dict(declared, name=name)
    schema_class.definition = definition.raw
    schema_class.ruled = tuple(spec for spec in definition.fields
                               if {"required_if", "accepted_if", "age_rule"} & spec.keys())
    schema_class.parts = {}
    for spec in definition.fields:
        if "part_of" in spec:
            schema_class.parts.setdefault(spec["part_of"], []).append(spec)
    return schema_class()


class QuickLoad:
    """A schema's load for data that passes, without marshmallow's bookkeeping around it.

    Each field is checked by the very field marshmallow would call, and the rules across fields
    by the schema's own method: for data with no error the clean data is what `schema.load`
    gives. At the first error it gives up (None), and the caller loads through marshmallow,
    whose messages are the ones a user reads. A push of 500 valid records spends most of its
    checking time in marshmallow's error store and hooks; this is the same check without it.
    """

    def __init__(self, schema: RecordDataSchema) -> None:
        self.schema = schema
        self.fields = tuple(schema.load_fields.items())
        self.known = frozenset(schema.load_fields)
        self.required = frozenset(key for key, spec in self.fields if spec.required)
        # What `Field.deserialize` adds around `_deserialize`: none of our fields has any.
        for key, spec in self.fields:
            if spec.validators or spec.pre_load or spec.post_load:
                raise DefinitionError(f"champ «{key}» : des validateurs que la vérification "
                                      "rapide ne connaît pas")

    def __call__(self, data: Any) -> dict | None:
        """Return the clean data, or None when the data has an error."""
        if type(data) is not dict or not self.required <= data.keys() \
                or not data.keys() <= self.known:
            return None
        clean = {}
        try:
            for key, spec in self.fields:
                if key in data:
                    value = data[key]
                    if value is None:
                        if not spec.allow_none:
                            return None
                        clean[key] = None
                    else:
                        clean[key] = spec._deserialize(value, key, data)
            self.schema._cross_field_rules(clean)
        except ValidationError:
            return None
        return clean


class FormRegistry:
    """Every version of every form, with its validator; the one place forms are looked up."""

    def __init__(
        self,
        definitions: Iterable[FormDefinition],
        reference: Callable[[str], Iterable[str]] = lambda list_key: (),
    ) -> None:
        self._by_version: dict[tuple[str, int], FormDefinition] = {}
        for definition in definitions:
            ident = (definition.key, definition.version)
            if ident in self._by_version:
                raise DefinitionError(
                    f"{definition.source} : {definition.key} v{definition.version} "
                    f"est déjà défini dans {self._by_version[ident].source}"
                )
            definition.schema = build_schema(definition, reference)
            definition.quick_load = QuickLoad(definition.schema)
            self._by_version[ident] = definition
        # Looked up for every pushed record: sorted once here, not at each call.
        self._versions: dict[str, list[FormDefinition]] = {}
        for definition in sorted(self._by_version.values(), key=lambda d: d.version):
            self._versions.setdefault(definition.key, []).append(definition)
        for definition in self._by_version.values():
            if definition.parent and not self.versions(definition.parent):
                raise DefinitionError(
                    f"{definition.source} : formulaire parent «{definition.parent}» inconnu"
                )

    def get(self, key: str, version: int) -> FormDefinition | None:
        """Return one version of a form, or None."""
        return self._by_version.get((key, version))

    def versions(self, key: str) -> list[FormDefinition]:
        """Return every version of a form, oldest first."""
        return list(self._versions.get(key, ()))

    def current(self, key: str) -> FormDefinition | None:
        """Return the newest version of a form, or None."""
        versions = self._versions.get(key)
        return versions[-1] if versions else None

    def keys(self) -> list[str]:
        """Return the key of every form, the six given ones first."""
        present = set(self._versions)
        given = [k for k in FORM_KEYS if k in present]
        return given + sorted(present - set(given))

    def validate(self, key: str, version: int, data: Any) -> tuple[dict, dict[str, list[str]]]:
        """Check a record's data against its form version: (clean data, errors by field)."""
        definition = self.get(key, version)
        if definition is None:
            return {}, {"form_version": [f"Formulaire inconnu : {key} v{version}."]}
        clean = definition.quick_load(data)
        if clean is not None:
            return clean, {}
        try:
            return definition.schema.load(data), {}
        except ValidationError as error:
            return {}, flatten_errors(error.messages)


def flatten_errors(messages: Any) -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into field key → list of French sentences."""
    if isinstance(messages, list | str):
        return {"_schema": _sentences(messages)}
    return {str(key): _sentences(value) for key, value in messages.items()}


def _sentences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _sentences(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _sentences(item)]
    return [str(value)]


def load_definitions(directory: Path | str = FORMS_DIR) -> list[FormDefinition]:
    """Read and check every definition file (`*.json`) of a folder."""
    found = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DefinitionError(f"{path.name} : JSON illisible ({error})") from None
        found.append(definition_from(raw, path.name))
    return found


def definition_from(raw: Any, source: str) -> FormDefinition:
    """Check a definition (from a file or the database) and make it a FormDefinition."""
    check_definition(raw, source)
    return FormDefinition(
        key=raw["key"],
        version=raw["version"],
        title=raw["title"],
        fields=raw["fields"],
        raw=raw,
        source=source,
        parent=raw.get("parent"),
        roles=raw.get("roles"),
        listed=raw.get("listed", True),
    )
