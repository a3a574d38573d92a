"""Changes an admin makes to a form: each gives the next version of the definition, or a refusal.

A change never breaks what is stored. Records keep their version, so a field or a choice taken
out of the next version stays readable in the records made before ("retirer", never "supprimer");
a field keeps its type for ever (another type is another field, with another key); and what the
application itself reads (a visit's alert, a person's level, the counts a tournée adds up) is
never taken out. Nothing here imports Flask: the functions take a definition and give one.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable

# Fields the application reads to do its work (alerts, "Mes visites", people, counts): their
# label, help and place may change, not their presence.
FIELDS_THE_APP_READS = {
    "maraude.tournee": {"date", "secteur", "nombre_personnes"},
    "maraude.rencontre": {"lieu", "niveau", "personne", "nombre_personnes", "femmes", "hommes",
                          "tranche_age", "prestations", "besoins", "orientations",
                          "situation_urgente", "detail_urgence"},
    "visite.visite": {"personne", "date", "mode", "alerte", "detail_alerte", "prochaine_visite",
                      "notes"},
    "permanence.session": {"site", "date", "heure_debut", "heure_fin"},
    "permanence.accueil": {"niveau", "personne", "nombre_personnes", "femmes", "hommes", "motifs",
                           "actions", "orientations", "situation_urgente", "detail_urgence",
                           "rendez_vous_suivi"},
    "personne": {"niveau", "alias_prenom", "nom", "date_naissance", "tranche_age", "telephone",
                 "adresse", "contact_urgence", "telephone_urgence", "consentement",
                 "date_consentement", "notes"},
    "registre.inscription": {"nom", "prenoms", "date_naissance", "categorie", "adresse",
                             "secteur", "telephone", "service_domicile", "contact_urgence",
                             "telephone_urgence", "date_demande", "personne",
                             "date_confirmation", "date_retrait", "notes"},
    "plan.appel": {"plan", "tache", "etape", "issue", "besoins", "precision"},
}
# Choices the application tests for: they may be renamed, not retired.
CHOICES_THE_APP_READS = {
    "niveau": {"anonyme", "alias", "identifie"},
    "alerte": {"aucune", "absence_reponse"},
    "mode": {"domicile", "telephone"},
    "etape": {"premier_appel", "second_appel", "personne_a_prevenir"},
    "issue": {"joint_va_bien", "joint_besoin", "pas_de_reponse"},
}
# The types an admin may give a new field, with their French names.
NEW_FIELD_TYPES = {
    "text": "Texte court",
    "textarea": "Texte long",
    "integer": "Nombre",
    "counter": "Compteur (nombre de personnes, de repas…)",
    "date": "Date",
    "time": "Heure",
    "boolean": "Oui / non",
    "choice": "Un choix dans une liste",
    "multi": "Plusieurs choix dans une liste",
}
TYPE_NAMES = NEW_FIELD_TYPES | {"counter": "Compteur", "datetime": "Date et heure",
                                "person": "Personne", "place": "Lieu"}
LABEL_MAX = 120
HELP_MAX = 300


class EditRefused(ValueError):
    """A change that cannot be made; the message says why, in French, for the admin."""

    def __init__(self, message: str, field: str = "_form") -> None:
        super().__init__(message)
        self.field = field


def _next(raw: dict) -> dict:
    following = copy.deepcopy(raw)
    following["version"] = raw["version"] + 1
    return following


def _field(raw: dict, key: str) -> dict:
    for spec in raw["fields"]:
        if spec["key"] == key:
            return spec
    raise EditRefused("Ce champ n'est pas dans la version actuelle du formulaire.")


def _clean_label(label: str, what: str = "libellé") -> str:
    label = " ".join((label or "").split())
    if not label:
        raise EditRefused(f"Donnez un {what}.", "label")
    if len(label) > LABEL_MAX:
        raise EditRefused(f"{LABEL_MAX} caractères au plus pour le {what}.", "label")
    return label


def _clean_help(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) > HELP_MAX:
        raise EditRefused(f"{HELP_MAX} caractères au plus pour l'aide.", "help")
    return text


def label_free(raw: dict, label: str, except_key: str | None = None) -> None:
    """Refuse a label another field of the form already has."""
    for spec in raw["fields"]:
        if spec["key"] != except_key and spec["label"].casefold() == label.casefold():
            raise EditRefused(f"Un autre champ s'appelle déjà « {spec['label']} ».", "label")


def slug(label: str) -> str:
    """Make a key from a French label: « Repas servis » → repas_servis."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if not words or not words[0].isalpha():
        words = f"champ_{words}".strip("_")
    return words[:40].rstrip("_")


def unused_key(wanted: str, used: set[str]) -> str:
    """Return `wanted`, or `wanted_2`, `wanted_3`… the first not in `used`."""
    # A key once used keeps its meaning in the records of older versions: never reuse one.
    key, n = wanted, 2
    while key in used:
        key, n = f"{wanted}_{n}", n + 1
    return key


def keys_ever_used(history: Iterable[dict]) -> set[str]:
    """Return every field key any version of the form has had."""
    return {spec["key"] for raw in history for spec in raw["fields"]}


def values_ever_used(history: Iterable[dict], field_key: str) -> set[str]:
    """Return every choice value a field has had in any version."""
    return {
        choice["value"]
        for raw in history for spec in raw["fields"]
        if spec["key"] == field_key for choice in spec.get("choices", ())
    }


def change_field(raw: dict, key: str, label: str, help_text: str, required: bool) -> dict:
    """Give a field another label, help, or make it required or not."""
    following = _next(raw)
    spec = _field(following, key)
    label = _clean_label(label)
    label_free(following, label, except_key=key)
    spec["label"] = label
    help_text = _clean_help(help_text)
    if help_text:
        spec["help"] = help_text
    else:
        spec.pop("help", None)
    if required and _depends_on_another(spec):
        raise EditRefused("Ce champ est demandé selon une autre réponse : il ne peut pas être "
                          "obligatoire toujours.", "required")
    spec["required"] = bool(required)
    if following == {**raw, "version": following["version"]}:
        raise EditRefused("Rien n'a changé.")
    return following


def _depends_on_another(spec: dict) -> bool:
    return "required_if" in spec or "accepted_if" in spec


def add_field(raw: dict, history: Iterable[dict], label: str, kind: str, help_text: str,
              required: bool, choices: Iterable[str] = ()) -> dict:
    """Add a field at the end of the form (choices, one label each, for a choice field)."""
    if kind not in NEW_FIELD_TYPES:
        raise EditRefused("Choisissez le type du champ.", "type")
    following = _next(raw)
    label = _clean_label(label)
    label_free(following, label)
    spec: dict = {"key": unused_key(slug(label), keys_ever_used(history)), "label": label,
                  "type": kind, "required": bool(required)}
    help_text = _clean_help(help_text)
    if help_text:
        spec["help"] = help_text
    if kind in ("choice", "multi"):
        labels = [_clean_label(text, "libellé de choix") for text in choices if text.strip()]
        if not labels:
            raise EditRefused("Donnez au moins un choix (un par ligne).", "choices")
        spec["choices"] = []
        for text in labels:
            _add_choice_to(spec, text, set())
    if kind in ("integer", "counter"):
        spec["min"] = 0
    following["fields"].append(spec)
    return following


def retire_field(raw: dict, key: str) -> dict:
    """Take a field out of the next version; records made before keep it."""
    following = _next(raw)
    spec = _field(following, key)
    if key in FIELDS_THE_APP_READS.get(raw["key"], ()):
        raise EditRefused(f"« {spec['label']} » sert à l'application (alertes, visites, comptes) : "
                          "vous pouvez le renommer, pas le retirer.")
    for other in following["fields"]:
        rules = (other.get("part_of"), other.get("required_if", {}).get("field"),
                 other.get("accepted_if", {}).get("field"))
        if other["key"] != key and key in rules:
            raise EditRefused(f"« {other['label']} » dépend de « {spec['label']} » : "
                              "retirez-le d'abord.")
    following["fields"] = [other for other in following["fields"] if other["key"] != key]
    if not following["fields"]:
        raise EditRefused("Un formulaire garde au moins un champ.")
    return following


def reorder(raw: dict, keys: list[str]) -> dict:
    """Put the fields in the given order (every field of the form, each once)."""
    if sorted(keys) != sorted(spec["key"] for spec in raw["fields"]):
        raise EditRefused("L'ordre donné ne reprend pas tous les champs du formulaire.")
    if keys == [spec["key"] for spec in raw["fields"]]:
        raise EditRefused("Rien n'a changé.")
    following = _next(raw)
    by_key = {spec["key"]: spec for spec in following["fields"]}
    following["fields"] = [by_key[key] for key in keys]
    return following


def _choice_field(raw: dict, key: str) -> dict:
    spec = _field(raw, key)
    if "choices" not in spec:
        raise EditRefused("Ce champ n'a pas de choix à lui (liste de référence : voir les listes).")
    return spec


def _add_choice_to(spec: dict, label: str, used: set[str]) -> None:
    if any(choice["label"].casefold() == label.casefold() for choice in spec["choices"]):
        raise EditRefused(f"Le choix « {label} » existe déjà.", "choice")
    taken = used | {choice["value"] for choice in spec["choices"]}
    spec["choices"].append({"value": unused_key(slug(label), taken), "label": label})


def add_choice(raw: dict, history: Iterable[dict], key: str, label: str) -> dict:
    """Add a choice at the end of a field's list."""
    following = _next(raw)
    spec = _choice_field(following, key)
    _add_choice_to(spec, _clean_label(label, "libellé de choix"), values_ever_used(history, key))
    return following


def rename_choice(raw: dict, key: str, value: str, label: str) -> dict:
    """Give a choice another label (its value, stored in the records, stays)."""
    following = _next(raw)
    spec = _choice_field(following, key)
    label = _clean_label(label, "libellé de choix")
    choice = next((c for c in spec["choices"] if c["value"] == value), None)
    if choice is None:
        raise EditRefused("Ce choix n'est pas dans la version actuelle.", "choice")
    if any(c["label"].casefold() == label.casefold() and c is not choice
           for c in spec["choices"]):
        raise EditRefused(f"Le choix « {label} » existe déjà.", "choice")
    if choice["label"] == label:
        raise EditRefused("Rien n'a changé.", "choice")
    choice["label"] = label
    return following


def retire_choice(raw: dict, key: str, value: str) -> dict:
    """Take a choice out of the next version; records that chose it keep it and its label."""
    following = _next(raw)
    spec = _choice_field(following, key)
    choice = next((c for c in spec["choices"] if c["value"] == value), None)
    if choice is None:
        raise EditRefused("Ce choix n'est pas dans la version actuelle.", "choice")
    if value in CHOICES_THE_APP_READS.get(key, ()):
        raise EditRefused(f"« {choice['label']} » sert à l'application : vous pouvez le "
                          "renommer, pas le retirer.", "choice")
    spec["choices"] = [c for c in spec["choices"] if c["value"] != value]
    if not spec["choices"]:
        raise EditRefused("Un champ à choix garde au moins un choix.", "choice")
    return following


def check_history(versions: list[dict]) -> None:
    """Refuse versions of one form where a field changes type (a field keeps its type for ever).

    Raise EditRefused naming the field and both types.
    """
    seen: dict[str, tuple[str, int]] = {}
    for raw in sorted(versions, key=lambda r: r["version"]):
        for spec in raw["fields"]:
            first = seen.setdefault(spec["key"], (spec["type"], raw["version"]))
            if first[0] != spec["type"]:
                raise EditRefused(
                    f"{raw['key']} v{raw['version']}, champ « {spec['label']} » : "
                    f"il était « {TYPE_NAMES.get(first[0], first[0])} » en v{first[1]}. "
                    "Un champ ne change pas de type : retirez-le et ajoutez-en un autre.")
