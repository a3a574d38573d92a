"""Form definitions: the six shipped ones load, broken ones are refused, records are validated."""

import copy
import json
import shutil
import uuid

import pytest
from conftest import make_app
from werkzeug.datastructures import MultiDict

from outreach.core.db import db
from outreach.core.forms import (
    FORM_KEYS,
    FORMS_DIR,
    DefinitionError,
    FormRegistry,
    load_definitions,
)
from outreach.core.forms.fieldtypes import FIELD_TYPES
from outreach.core.forms.html import read_posted, show_value
from outreach.core.models import ReferenceItem

PERSON = "6f1c2a34-8d7e-4b5a-9c01-23456789abcd"
SITES = ("mairie_annexe", "centre_social")


@pytest.fixture(scope="module")
def registry():
    """The shipped forms, with a fixed "sites" reference list."""
    return FormRegistry(load_definitions(), lambda key: SITES if key == "sites" else ())


# A valid record with every field of each form filled in.
FULL = {
    "maraude.tournee": {
        "date": "2026-01-15", "heure_depart": "20:00", "heure_retour": "23:30",
        "secteur": "Gare et quais", "equipe": "Ana, Léo", "meteo": "pluie", "temperature": -2,
        "nombre_personnes": 12, "observations": "Froid, peu de monde sous le pont.",
    },
    "maraude.rencontre": {
        "lieu": {"label": "Parvis de la gare", "lat": 48.8566, "lon": 2.3522},
        "niveau": "alias", "personne": PERSON, "nombre_personnes": 3, "femmes": 1, "hommes": 2,
        "tranche_age": "de_26_a_40", "prestations": ["boisson_chaude", "duvet"],
        "besoins": ["hebergement", "sante"], "orientations": ["siao_115"],
        "situation_urgente": True, "detail_urgence": "115 appelé à 21 h.", "notes": "Calme.",
    },
    "visite.visite": {
        "personne": PERSON, "date": "2026-01-16", "mode": "domicile", "personne_vue": "oui",
        "etat_general": "moyen", "isolement": "fort", "besoins": ["courses", "portage_repas"],
        "alerte": "autre", "detail_alerte": "Réfrigérateur vide.",
        "prochaine_visite": "2026-01-23", "notes": "Contente de la visite.",
    },
    "permanence.session": {
        "site": "mairie_annexe", "date": "2026-01-17", "heure_debut": "09:00",
        "heure_fin": "12:00", "intervenants": "Sofia, Marc", "nombre_personnes": 7,
        "notes": "Salle froide.",
    },
    "permanence.accueil": {
        "niveau": "identifie", "personne": PERSON, "nombre_personnes": 2, "femmes": 1,
        "hommes": 1, "motifs": ["logement", "energie"], "actions": ["information"],
        "orientations": ["caf"], "situation_urgente": False, "rendez_vous_suivi": "2026-02-01",
        "notes": "Dossier FSL.",
    },
    "personne": {
        "niveau": "identifie", "alias_prenom": "Marie", "nom": "Durand",
        "date_naissance": "1950-04-02", "tranche_age": "plus_75", "sexe": "femme",
        "telephone": "06 12 34 56 78", "adresse": "3 rue des Lilas", "consentement": True,
        "date_consentement": "2026-01-10", "notes": "Préfère être appelée le matin.",
    },
    "maraude.lieu": {"nom": "Parking du marché", "secteur": "Centre",
                     "reperes": "Sous le pont, côté rivière."},
    "registre.inscription": {
        "nom": "Durand", "prenoms": "Marie Louise", "date_naissance": "1941-06-02",
        "categorie": "65_ans_plus", "adresse": "3 rue des Lilas", "telephone": "05 55 12 34 56",
        "service_domicile": "ADMR, 05 55 00 00 00", "contact_urgence": "Claire, sa fille",
        "telephone_urgence": "+33 6 12 34 56 78", "date_demande": "2026-05-10",
        "demandeur": "tiers", "demandeur_nom": "Claire Durand", "demandeur_qualite": "Fille",
        "personne": PERSON, "date_confirmation": "2026-05-10", "date_retrait": "2026-09-01",
        "notes": "3e étage sans ascenseur.",
    },
    "plan.appel": {
        "plan": PERSON, "tache": PERSON, "etape": "second_appel", "issue": "joint_besoin",
        "besoins": ["eau", "courses"], "precision": "Pack d'eau demain matin",
    },
}

# The same forms with their required fields only.
MINIMAL = {
    "maraude.tournee": {"date": "2026-01-15", "heure_depart": "20:00", "secteur": "Gare",
                        "equipe": "Ana"},
    "maraude.rencontre": {"lieu": {"label": "Parvis"}, "niveau": "anonyme",
                          "nombre_personnes": 1},
    "visite.visite": {"personne": PERSON, "date": "2026-01-16", "mode": "telephone",
                      "personne_vue": "absente", "alerte": "aucune"},
    "permanence.session": {"site": "centre_social", "date": "2026-01-17",
                           "heure_debut": "14:00", "intervenants": "Sofia"},
    "permanence.accueil": {"niveau": "anonyme", "nombre_personnes": 1, "motifs": ["budget"]},
    "personne": {"niveau": "alias", "alias_prenom": "Jojo"},
    "maraude.lieu": {"nom": "Parvis"},
    "registre.inscription": {
        "nom": "Durand", "prenoms": "Marie", "date_naissance": "1941-06-02",
        "categorie": "65_ans_plus", "adresse": "3 rue des Lilas", "telephone": "0555123456",
        "contact_urgence": "Claire", "telephone_urgence": "06.12.34.56.78",
        "date_demande": "2026-05-10", "demandeur": "personne",
    },
    "plan.appel": {"plan": PERSON, "tache": PERSON, "etape": "premier_appel",
                   "issue": "pas_de_reponse"},
}


# --- The shipped definitions ---------------------------------------------------------------


def test_the_shipped_forms_load_with_their_versions():
    definitions = load_definitions()
    # personne v2 added "Personne à prévenir" and consent to identify: v1 records stay valid.
    # registre.inscription v2 added the secteur the alert plans share calls by.
    shipped = [(key, 1) for key in FORM_KEYS] + [("personne", 2), ("registre.inscription", 2)]
    assert sorted((d.key, d.version) for d in definitions) == sorted(shipped)
    assert {d.source for d in definitions} == {f"{key}.v{v}.json" for key, v in shipped}


@pytest.mark.parametrize("key", FORM_KEYS)
def test_every_shipped_field_has_a_label_and_a_known_type(registry, key):
    definition = registry.current(key)
    current = {"personne": 2, "registre.inscription": 2}.get(key, 1)
    assert definition.version == current and definition.title.strip()
    for spec in definition.fields:
        assert isinstance(spec["label"], str) and spec["label"].strip(), spec
        assert spec["type"] in FIELD_TYPES, spec
        if spec["type"] in ("choice", "multi"):
            assert spec.get("choices") or spec.get("choices_from"), spec
            for choice in spec.get("choices", []):
                assert choice["value"] and choice["label"].strip(), spec
        else:
            assert "choices" not in spec and "choices_from" not in spec, spec


def test_registry_knows_parents_and_lists_the_six_forms_first(registry):
    assert registry.keys() == list(FORM_KEYS)
    assert registry.current("maraude.rencontre").parent == "maraude.tournee"
    assert registry.current("permanence.accueil").parent == "permanence.session"
    assert registry.get("personne", 3) is None and registry.current("rien") is None
    assert registry.current("permanence.session").field("site")["choices_from"] == "sites"


# --- Broken definitions are refused, naming the file and the field --------------------------

SOURCE = "essai.fiche.v1.json"
BASE = {
    "key": "essai.fiche",
    "version": 1,
    "title": "Essai",
    "fields": [
        {"key": "nom", "label": "Nom", "type": "text"},
        {"key": "nombre", "label": "Nombre", "type": "counter", "min": 0},
        {"key": "femmes", "label": "Dont femmes", "type": "counter", "part_of": "nombre"},
        {"key": "urgent", "label": "Urgent", "type": "boolean"},
        {"key": "detail", "label": "Détail", "type": "textarea",
         "required_if": {"field": "urgent", "equals": True}},
        {"key": "genre", "label": "Genre", "type": "choice",
         "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    ],
}


def _write(folder, name, content):
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    (folder / name).write_text(text, encoding="utf-8")


def _field(raw, key):
    return next(spec for spec in raw["fields"] if spec["key"] == key)


class Text(str):
    """A definition file's whole text, when the mutation is not a change to the JSON."""


def _mutated(mutation):
    raw = copy.deepcopy(BASE)
    result = mutation(raw)
    return result if isinstance(result, Text) else raw


def _drop(key, field_key=None):
    def mutation(raw):
        (_field(raw, field_key) if field_key else raw).pop(key)

    return mutation


def _set(key, **changes):
    return lambda raw: _field(raw, key).update(changes)


def _add(spec):
    return lambda raw: raw["fields"].append(spec)


def _choices(*choices):
    return lambda raw: _field(raw, "genre").update(choices=list(choices))


def test_the_base_definition_used_below_is_valid(tmp_path):
    _write(tmp_path, SOURCE, BASE)
    (definition,) = load_definitions(tmp_path)
    assert (definition.key, definition.version, definition.source) == ("essai.fiche", 1, SOURCE)


BROKEN = [
    ("unknown-type", _set("nom", type="texte"), "nom", "type inconnu «texte»"),
    ("no-type", _drop("type", "nom"), "nom", "type inconnu"),
    ("duplicate-key", _add({"key": "nom", "label": "Autre nom", "type": "text"}), "nom",
     "deux champs ont cette clé"),
    ("duplicate-label", _add({"key": "nom2", "label": "Nom", "type": "text"}), "nom2",
     "deux champs ont le libellé «Nom»"),
    ("no-label", _drop("label", "nom"), "nom", "«label» manquant"),
    ("blank-label", _set("nom", label="  "), "nom", "«label» manquant"),
    ("choice-without-value-key", _choices({"label": "A"}), "genre",
     "exactement «value» et «label»"),
    ("choice-with-empty-value", _choices({"value": "", "label": "A"}), "genre",
     "un choix n'a pas de valeur"),
    ("choice-without-label-key", _choices({"value": "a"}), "genre",
     "exactement «value» et «label»"),
    ("choice-with-blank-label", _choices({"value": "a", "label": " "}), "genre",
     "le choix «a» n'a pas de libellé"),
    ("choice-value-twice", _choices({"value": "a", "label": "A"}, {"value": "a", "label": "B"}),
     "genre", "la valeur «a» est donnée deux fois"),
    ("empty-choices", _choices(), "genre", "«choices» doit être une liste non vide"),
    ("choice-without-choices", _drop("choices", "genre"), "genre",
     "donnez «choices» ou «choices_from»"),
    ("choices-and-choices-from", _set("genre", choices_from="sites"), "genre",
     "donnez «choices» ou «choices_from»"),
    ("choices-on-text", _set("nom", choices=[{"value": "a", "label": "A"}]), "nom",
     "des choix sur un champ qui n'est pas à choix"),
    ("choices-from-on-text", _set("nom", choices_from="sites"), "nom",
     "des choix sur un champ qui n'est pas à choix"),
    ("unknown-field-property", _set("nom", placeholder="Dupont"), "nom",
     "clé inconnue ['placeholder']"),
    ("part-of-missing-field", _set("femmes", part_of="total"), "femmes",
     "«part_of» doit relier deux compteurs"),
    ("part-of-a-text-field", _set("femmes", part_of="nom"), "femmes",
     "«part_of» doit relier deux compteurs"),
    ("required-if-text-field", _set("detail", required_if={"field": "nom", "equals": "x"}),
     "detail", "«required_if» doit nommer un champ oui/non ou à choix"),
    ("required-if-missing-field", _set("detail", required_if={"field": "rien", "equals": True}),
     "detail", "«required_if» doit nommer"),
    ("min-on-text", _set("nom", min=0), "nom", "«min» n'est permis que sur un nombre entier"),
    ("max-on-date", _add({"key": "jour", "label": "Jour", "type": "date", "max": 3}), "jour",
     "«max» n'est permis que sur un nombre entier"),
    ("min-not-an-integer", _set("nombre", min="0"), "nombre", "«min» n'est permis que"),
    ("required-not-boolean", _set("nom", required="oui"), "nom",
     "«required» doit être true ou false"),
    ("bad-field-key", _add({"key": "Mauvaise clé", "label": "Mauvaise", "type": "text"}), None,
     "le champ n° 7 n'a pas de «key» valide"),
    ("unreadable-json", lambda raw: Text('{"key": "essai.fiche", "version": 1,'), None,
     "JSON illisible"),
    ("not-an-object", lambda raw: Text("[]"), None, "la définition doit être un objet JSON"),
    ("version-0", lambda raw: raw.update(version=0), None,
     "«version» doit être un entier positif"),
    ("version-true", lambda raw: raw.update(version=True), None,
     "«version» doit être un entier positif"),
    ("version-text", lambda raw: raw.update(version="1"), None,
     "«version» doit être un entier positif"),
    ("bad-form-key", lambda raw: raw.update(key="Essai Fiche"), None,
     "«key» manquante ou mal formée"),
    ("no-title", _drop("title"), None, "«title» manquant"),
    ("no-fields", lambda raw: raw.update(fields=[]), None, "«fields» doit être une liste"),
    ("unknown-definition-key", lambda raw: raw.update(couleur="bleu"), None,
     "clé inconnue ['couleur']"),
    ("roles-not-a-list", lambda raw: raw.update(roles="maraude"), None,
     "«roles» doit être une liste"),
]


@pytest.mark.parametrize(
    ("mutation", "field_key", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_a_broken_definition_is_refused_naming_file_and_field(tmp_path, mutation, field_key,
                                                              fragment):
    _write(tmp_path, SOURCE, _mutated(mutation))
    with pytest.raises(DefinitionError) as refused:
        load_definitions(tmp_path)
    message = str(refused.value)
    assert message.startswith(SOURCE), message
    assert fragment in message, message
    if field_key:
        assert f"champ «{field_key}»" in message, message


def test_registry_refuses_the_same_key_and_version_twice(tmp_path):
    _write(tmp_path, "essai-a.json", BASE)
    _write(tmp_path, "essai-b.json", {**BASE, "title": "Essai bis"})
    definitions = load_definitions(tmp_path)
    assert len(definitions) == 2
    with pytest.raises(DefinitionError) as refused:
        FormRegistry(definitions)
    message = str(refused.value)
    assert "essai-a.json" in message and "essai-b.json" in message
    assert "essai.fiche v1 est déjà défini" in message


def test_registry_keeps_two_versions_of_a_form(tmp_path):
    _write(tmp_path, "essai.fiche.v1.json", BASE)
    _write(tmp_path, "essai.fiche.v2.json", {**BASE, "version": 2})
    forms = FormRegistry(load_definitions(tmp_path))
    assert [d.version for d in forms.versions("essai.fiche")] == [1, 2]
    assert forms.current("essai.fiche").version == 2


def test_registry_refuses_a_child_form_whose_parent_does_not_exist(tmp_path):
    _write(tmp_path, "enfant.v1.json", {**BASE, "key": "enfant", "parent": "essai.absent"})
    definitions = load_definitions(tmp_path)
    with pytest.raises(DefinitionError) as refused:
        FormRegistry(definitions)
    message = str(refused.value)
    assert message.startswith("enfant.v1.json")
    assert "formulaire parent «essai.absent» inconnu" in message


def _shipped_plus(tmp_path, name, content):
    folder = tmp_path / "forms"
    folder.mkdir()
    for path in FORMS_DIR.glob("*.json"):
        shutil.copy(path, folder / path.name)
    _write(folder, name, content)
    return folder


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (_mutated(_set("nom", type="texte")), "type inconnu"),
        ("{pas du json", "JSON illisible"),
        ({**BASE, "parent": "essai.absent"}, "formulaire parent «essai.absent» inconnu"),
    ],
    ids=["bad-field", "unreadable-json", "missing-parent"],
)
def test_the_app_refuses_to_start_with_a_broken_definition(tmp_path, migrated_database,
                                                           content, fragment):
    folder = _shipped_plus(tmp_path, SOURCE, content)
    with pytest.raises(DefinitionError) as refused:
        make_app(tmp_path, migrated_database, FORMS_DIR=str(folder))
    assert SOURCE in str(refused.value) and fragment in str(refused.value)


def test_the_app_starts_with_an_added_valid_definition(tmp_path, migrated_database):
    folder = _shipped_plus(tmp_path, SOURCE, BASE)
    app = make_app(tmp_path, migrated_database, FORMS_DIR=str(folder))
    forms = app.extensions["outreach.forms"]
    assert forms.keys() == [*FORM_KEYS, "essai.fiche"]
    with app.app_context():
        db.engine.dispose()


# --- Validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", FORM_KEYS)
def test_a_full_valid_record_passes_and_comes_back_equal(registry, key):
    clean, errors = registry.validate(key, 1, FULL[key])
    assert errors == {}
    assert clean == FULL[key]


@pytest.mark.parametrize("key", FORM_KEYS)
def test_a_record_with_only_its_required_fields_passes(registry, key):
    clean, errors = registry.validate(key, 1, MINIMAL[key])
    assert errors == {}
    expected = dict(MINIMAL[key])
    if key == "maraude.rencontre":
        # A place without coordinates comes back with both set to null.
        expected["lieu"] = {"label": "Parvis", "lat": None, "lon": None}
    assert clean == expected


def test_optional_fields_may_be_null(registry):
    data = {**MINIMAL["maraude.tournee"], "meteo": None, "temperature": None,
            "observations": None, "heure_retour": None}
    clean, errors = registry.validate("maraude.tournee", 1, data)
    assert errors == {} and clean == data


def _with(key, **changes):
    return {**FULL[key], **changes}


def _without(key, *fields):
    return {name: value for name, value in FULL[key].items() if name not in fields}


def _place(**changes):
    return _with("maraude.rencontre", lieu={"label": "Parvis", "lat": None, "lon": None,
                                            **changes})


INVALID = [
    # (id, form, data, field, fragment)
    ("missing-required", "maraude.tournee", _without("maraude.tournee", "date"), "date",
     "obligatoire"),
    ("null-required", "maraude.tournee", _with("maraude.tournee", date=None), "date",
     "obligatoire"),
    ("blank-required-text", "maraude.tournee", _with("maraude.tournee", secteur="   "),
     "secteur", "obligatoire"),
    ("missing-required-place", "maraude.rencontre", _without("maraude.rencontre", "lieu"),
     "lieu", "obligatoire"),
    ("missing-required-person", "visite.visite", _without("visite.visite", "personne"),
     "personne", "obligatoire"),
    ("unknown-key", "maraude.tournee", _with("maraude.tournee", couleur="bleu"), "couleur",
     "Champ inconnu"),
    ("counter-as-string", "maraude.rencontre", _with("maraude.rencontre", nombre_personnes="3"),
     "nombre_personnes", "entier"),
    ("counter-decimal", "maraude.rencontre", _with("maraude.rencontre", nombre_personnes=2.5),
     "nombre_personnes", "entier"),
    ("counter-boolean", "maraude.rencontre", _with("maraude.rencontre", nombre_personnes=True),
     "nombre_personnes", "entier"),
    ("integer-as-string", "maraude.tournee", _with("maraude.tournee", temperature="-2"),
     "temperature", "entier"),
    ("below-min", "maraude.rencontre", _with("maraude.rencontre", nombre_personnes=0),
     "nombre_personnes", "Au moins 1"),
    ("above-max", "maraude.rencontre", _with("maraude.rencontre", nombre_personnes=51),
     "nombre_personnes", "Au plus 50"),
    ("negative-below-min", "maraude.tournee", _with("maraude.tournee", temperature=-31),
     "temperature", "Au moins -30"),
    ("counter-negative", "maraude.tournee", _with("maraude.tournee", nombre_personnes=-1),
     "nombre_personnes", "Au moins 0"),
    ("date-does-not-exist", "maraude.tournee", _with("maraude.tournee", date="2026-02-30"),
     "date", "n'existe pas"),
    ("date-french-format", "maraude.tournee", _with("maraude.tournee", date="15/01/2026"),
     "date", "AAAA-MM-JJ"),
    ("date-not-a-string", "personne", _with("personne", date_naissance=19500402),
     "date_naissance", "AAAA-MM-JJ"),
    ("time-25h", "maraude.tournee", _with("maraude.tournee", heure_depart="25:00"),
     "heure_depart", "n'existe pas"),
    ("time-bad-format", "permanence.session", _with("permanence.session", heure_debut="9h"),
     "heure_debut", "HH:MM"),
    ("unknown-choice", "maraude.tournee", _with("maraude.tournee", meteo="grele"), "meteo",
     "Choix inconnu"),
    ("choice-label-not-value", "visite.visite", _with("visite.visite", mode="À domicile"),
     "mode", "Choix inconnu"),
    ("multi-duplicate", "maraude.rencontre",
     _with("maraude.rencontre", prestations=["repas", "repas"]), "prestations", "deux fois"),
    ("multi-unknown", "maraude.rencontre",
     _with("maraude.rencontre", prestations=["repas", "cafe"]), "prestations",
     "Choix inconnu : cafe"),
    ("multi-not-a-list", "maraude.rencontre", _with("maraude.rencontre", prestations="repas"),
     "prestations", "Liste de choix attendue"),
    ("required-multi-empty", "permanence.accueil", _with("permanence.accueil", motifs=[]),
     "motifs", "Cochez au moins un choix"),
    ("boolean-as-string", "maraude.rencontre",
     _with("maraude.rencontre", situation_urgente="true"), "situation_urgente", "Oui ou non"),
    ("boolean-as-1", "personne", _with("personne", consentement=1), "consentement",
     "Oui ou non"),
    ("person-not-uuid", "visite.visite", _with("visite.visite", personne="Marie Durand"),
     "personne", "Identifiant de personne invalide"),
    ("person-number", "visite.visite", _with("visite.visite", personne=12), "personne",
     "Identifiant de personne invalide"),
    ("place-empty-label", "maraude.rencontre", _place(label=""), "lieu", "Nommez le lieu"),
    ("place-blank-label", "maraude.rencontre", _place(label="   "), "lieu", "Nommez le lieu"),
    ("place-lat-without-lon", "maraude.rencontre", _place(lat=48.85), "lieu",
     "la latitude et la longitude"),
    ("place-lat-95", "maraude.rencontre", _place(lat=95, lon=2.35), "lieu", "hors limites"),
    ("place-lon-181", "maraude.rencontre", _place(lat=48.85, lon=-181), "lieu", "hors limites"),
    ("place-lat-string", "maraude.rencontre", _place(lat="48.85", lon=2.35), "lieu",
     "Coordonnées invalides"),
    ("place-unknown-key", "maraude.rencontre", _place(adresse="1 rue"), "lieu",
     "Clé inconnue dans le lieu : adresse"),
    ("place-not-an-object", "maraude.rencontre", _with("maraude.rencontre", lieu="Parvis"),
     "lieu", "Lieu attendu"),
    ("text-over-500", "maraude.tournee", _with("maraude.tournee", secteur="x" * 501), "secteur",
     "500 caractères au plus (501 saisis)"),
    ("textarea-over-5000", "maraude.tournee", _with("maraude.tournee", observations="x" * 5001),
     "observations", "5000 caractères au plus"),
    ("text-not-a-string", "personne", _with("personne", telephone=612345678), "telephone",
     "Texte attendu"),
    ("required-if-boolean", "maraude.rencontre", _without("maraude.rencontre", "detail_urgence"),
     "detail_urgence", "obligatoire"),
    ("required-if-boolean-null", "permanence.accueil",
     _with("permanence.accueil", situation_urgente=True), "detail_urgence", "obligatoire"),
    ("required-if-choice", "personne", _without("personne", "nom"), "nom", "obligatoire"),
    ("required-if-choice-autre", "visite.visite", _without("visite.visite", "detail_alerte"),
     "detail_alerte", "obligatoire"),
    ("required-if-consent", "personne", _without("personne", "date_consentement"),
     "date_consentement", "obligatoire"),
    ("site-not-in-reference", "permanence.session",
     _with("permanence.session", site="gymnase"), "site", "Choix inconnu"),
]


@pytest.mark.parametrize(
    ("key", "data", "field_key", "fragment"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_data_is_refused_in_french(registry, key, data, field_key, fragment):
    clean, errors = registry.validate(key, 1, data)
    assert clean == {}
    assert field_key in errors, errors
    assert any(fragment in message for message in errors[field_key]), errors


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("maraude.tournee", _with("maraude.tournee", secteur="x" * 500,
                                  observations="y" * 5000)),
        ("maraude.rencontre", _with("maraude.rencontre", nombre_personnes=50, femmes=25,
                                    hommes=25)),
        ("maraude.rencontre", _place(lat=-90, lon=180)),
        ("maraude.rencontre", _with("maraude.rencontre", situation_urgente=False,
                                    detail_urgence=None)),
        ("personne", _with("personne", niveau="alias", nom=None, consentement=False,
                           date_consentement=None)),
        ("visite.visite", _with("visite.visite", alerte="chute", detail_alerte=None)),
        ("permanence.accueil", _with("permanence.accueil", femmes=2, hommes=0)),
    ],
    ids=["text-limits", "parts-equal-total", "coordinates-at-bounds", "not-urgent",
         "alias-no-name", "alert-not-autre", "all-women"],
)
def test_edge_values_are_accepted(registry, key, data):
    clean, errors = registry.validate(key, 1, data)
    assert errors == {} and clean == data


@pytest.mark.parametrize("key", ["maraude.rencontre", "permanence.accueil"])
def test_women_and_men_cannot_exceed_the_number_of_people(registry, key):
    clean, errors = registry.validate(key, 1, _with(key, nombre_personnes=3, femmes=2, hommes=2))
    assert clean == {}
    assert set(errors) == {"femmes", "hommes"}
    for field_key in ("femmes", "hommes"):
        assert errors[field_key] == ["dont femmes + dont hommes ne peut pas dépasser 3."]


def test_one_part_alone_cannot_exceed_the_total(registry):
    data = _without("maraude.rencontre", "hommes")
    _, errors = registry.validate("maraude.rencontre", 1, {**data, "nombre_personnes": 1,
                                                           "femmes": 2})
    assert "femmes" in errors and "ne peut pas dépasser 1" in errors["femmes"][0]


def test_every_error_of_a_record_is_given_at_once(registry):
    _, errors = registry.validate("maraude.tournee", 1, {"date": "2026-02-30", "meteo": "grele",
                                                         "couleur": "bleu"})
    assert set(errors) == {"date", "heure_depart", "secteur", "equipe", "meteo", "couleur"}


@pytest.mark.parametrize(
    ("data", "field_key", "fragment"),
    [([], "_schema", "objet JSON"), ("texte", "_schema", "objet JSON"),
     (None, "_schema", "objet JSON")],
    ids=["list", "string", "null"],
)
def test_data_that_is_not_an_object_is_refused(registry, data, field_key, fragment):
    _, errors = registry.validate("personne", 1, data)
    assert any(fragment in message for message in errors[field_key]), errors


def test_an_unknown_form_version_is_refused(registry):
    _, errors = registry.validate("personne", 9, MINIMAL["personne"])
    assert errors == {"form_version": ["Formulaire inconnu : personne v9."]}


def test_a_person_uuid_is_kept_in_its_canonical_form(registry):
    clean, errors = registry.validate("visite.visite", 1, _with("visite.visite",
                                                                personne=PERSON.upper()))
    assert errors == {} and clean["personne"] == PERSON


def test_a_blank_answer_does_not_satisfy_required_if(registry):
    # As for a required text, a blank answer to a field required by another one is missing.
    _, errors = registry.validate("maraude.rencontre", 1,
                                  _with("maraude.rencontre", detail_urgence="   "))
    assert errors == {"detail_urgence": ["Ce champ est obligatoire."]}
    _, errors = registry.validate("personne", 1, _with("personne", nom=""))
    assert errors == {"nom": ["Ce champ est obligatoire."]}


def test_choices_from_reads_the_reference_list_when_checking(app):
    forms = app.extensions["outreach.forms"]
    data = {**MINIMAL["permanence.session"], "site": "mairie_annexe"}
    with app.app_context():
        _, errors = forms.validate("permanence.session", 1, data)
        assert errors == {"site": ["Choix inconnu."]}
        db.session.add_all([
            ReferenceItem(list_key="sites", value="mairie_annexe", label="Mairie annexe"),
            ReferenceItem(list_key="sites", value="ancien_site", label="Ancien site",
                          active=False),
            ReferenceItem(list_key="lieux", value="gymnase", label="Gymnase"),
        ])
        db.session.commit()
        clean, errors = forms.validate("permanence.session", 1, data)
        assert errors == {} and clean == data
        # A retired site is still accepted: a tablet may have made the record before.
        _, errors = forms.validate("permanence.session", 1, {**data, "site": "ancien_site"})
        assert errors == {}
        for other in ("gymnase", "Mairie annexe"):
            _, errors = forms.validate("permanence.session", 1, {**data, "site": other})
            assert errors == {"site": ["Choix inconnu."]}, other


# --- Reading a posted HTML form, and showing values -----------------------------------------


def test_read_posted_turns_a_posted_form_into_typed_data(registry):
    fields = registry.current("maraude.rencontre").fields
    posted = MultiDict([
        ("lieu.label", " Parvis de la gare "), ("lieu.lat", "48,8566"), ("lieu.lon", " 2.3522"),
        ("niveau", "alias"), ("personne", f" {PERSON} "), ("nombre_personnes", "3"),
        ("femmes", " 1 "), ("hommes", ""), ("tranche_age", ""),
        ("prestations", "boisson_chaude"), ("prestations", "duvet"),
        ("situation_urgente", "oui"), ("detail_urgence", "115 appelé."), ("notes", ""),
        ("csrf_token", "jeton"), ("inconnu", "ignoré"),
    ])
    data = read_posted(fields, posted)
    assert data == {
        "lieu": {"label": "Parvis de la gare", "lat": 48.8566, "lon": 2.3522},
        "niveau": "alias", "personne": PERSON, "nombre_personnes": 3, "femmes": 1,
        "prestations": ["boisson_chaude", "duvet"], "situation_urgente": True,
        "detail_urgence": "115 appelé.",
    }
    clean, errors = registry.validate("maraude.rencontre", 1, data)
    assert errors == {} and clean == data


def test_read_posted_keeps_what_it_cannot_read_for_the_schema_to_name(registry):
    fields = registry.current("maraude.rencontre").fields
    posted = MultiDict([("lieu.label", ""), ("lieu.lat", "nord"), ("lieu.lon", "2,3"),
                        ("nombre_personnes", "trois"), ("femmes", "1.5"),
                        ("situation_urgente", "non")])
    data = read_posted(fields, posted)
    assert data == {"lieu": {"label": "", "lat": "nord", "lon": 2.3},
                    "nombre_personnes": "trois", "femmes": "1.5",
                    "situation_urgente": False}
    _, errors = registry.validate("maraude.rencontre", 1, data)
    assert "entier" in errors["nombre_personnes"][0] and "entier" in errors["femmes"][0]
    assert "lieu" in errors and "niveau" in errors


def test_read_posted_drops_empty_answers(registry):
    fields = registry.current("maraude.rencontre").fields
    posted = MultiDict([("lieu.label", ""), ("lieu.lat", ""), ("lieu.lon", ""), ("niveau", ""),
                        ("nombre_personnes", "  "), ("notes", "   ")])
    assert read_posted(fields, posted) == {}


def test_read_posted_gives_an_empty_list_for_a_required_multi(registry):
    fields = registry.current("permanence.accueil").fields
    data = read_posted(fields, MultiDict([("niveau", "anonyme"), ("nombre_personnes", "1")]))
    assert data == {"niveau": "anonyme", "nombre_personnes": 1, "motifs": []}


def test_read_posted_keeps_text_as_typed(registry):
    fields = registry.current("maraude.tournee").fields
    posted = MultiDict([("secteur", "  Gare  "), ("date", " 2026-01-15 "),
                        ("temperature", "-2"), ("observations", "Ligne 1\r\nLigne 2")])
    assert read_posted(fields, posted) == {"secteur": "  Gare  ", "date": "2026-01-15",
                                           "temperature": -2,
                                           "observations": "Ligne 1\r\nLigne 2"}


def _spec(registry, key, field_key):
    return registry.current(key).field(field_key)


SHOWN = [
    # (id, form, field, value, labels, people, expected)
    ("choice-label", "maraude.rencontre", "niveau", "identifie", None, None, "Identifiée"),
    ("multi-labels", "maraude.rencontre", "prestations", ["boisson_chaude", "kit_hygiene"],
     None, None, "Boisson chaude, Kit hygiène"),
    ("reference-label", "permanence.session", "site", "mairie_annexe",
     {"mairie_annexe": "Mairie annexe"}, None, "Mairie annexe"),
    ("retired-choice-shows-code", "permanence.session", "site", "ancien", {}, None, "ancien"),
    ("true", "maraude.rencontre", "situation_urgente", True, None, None, "Oui"),
    ("false", "maraude.rencontre", "situation_urgente", False, None, None, "Non"),
    ("date", "maraude.tournee", "date", "2026-01-05", None, None, "05/01/2026"),
    ("time", "maraude.tournee", "heure_depart", "20:30", None, None, "20:30"),
    ("counter-zero", "maraude.tournee", "nombre_personnes", 0, None, None, "0"),
    ("none", "maraude.tournee", "meteo", None, None, None, "—"),
    ("empty-list", "maraude.rencontre", "prestations", [], None, None, "—"),
    ("empty-text", "maraude.tournee", "observations", "", None, None, "—"),
    ("place", "maraude.rencontre", "lieu", {"label": "Parvis", "lat": None, "lon": None},
     None, None, "Parvis"),
    ("place-with-coordinates", "maraude.rencontre", "lieu",
     {"label": "Parvis", "lat": 48.8566, "lon": 2.3522}, None, None,
     "Parvis (48.85660, 2.35220)"),
    ("person-known", "visite.visite", "personne", PERSON, None, {PERSON: "Marie Durand"},
     "Marie Durand"),
    ("person-not-synced", "visite.visite", "personne", PERSON, None, {},
     "Personne non encore synchronisée"),
]


@pytest.mark.parametrize(
    ("key", "field_key", "value", "labels", "people", "expected"),
    [case[1:] for case in SHOWN],
    ids=[case[0] for case in SHOWN],
)
def test_show_value_writes_values_as_a_person_reads_them(registry, key, field_key, value,
                                                         labels, people, expected):
    spec = _spec(registry, key, field_key)
    if labels is None and "choices" in spec:
        labels = {choice["value"]: choice["label"] for choice in spec["choices"]}
    assert show_value(spec, value, labels, people) == expected


def test_show_value_writes_a_datetime_in_french():
    spec = {"key": "moment", "label": "Moment", "type": "datetime"}
    assert show_value(spec, "2026-01-15T20:30:00+01:00") == "15/01/2026 à 20:30"


def test_ids_of_full_records_are_uuids():
    # PERSON is used as a person's id throughout: it must itself be a canonical UUID.
    assert str(uuid.UUID(PERSON)) == PERSON
