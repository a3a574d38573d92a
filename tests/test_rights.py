"""A person's rights from their file: the export of all that is held (a page and a JSON file),
and anonymising or erasing on request — refused while an alert plan calls them — for the office
only, audited. One invented person with every kind of data: revisions, a merged file, records of
the three activities, a register entry, a plan's call, an alert, an assignment, a conflict and a
refused record."""

from datetime import date
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from outreach.alerts.models import Alert
from outreach.core.db import db
from outreach.core.models import AuditEvent, Record
from outreach.figures import facts, indicators
from outreach.people.models import PersonMerge
from outreach.register.models import AlertPlan, CallTask
from outreach.visits.models import VisitAssignment
from tests.conftest import add_user, assert_not_on_disk
from tests.sync_helpers import Tablet, item, rencontre

PARIS = ZoneInfo("Europe/Paris")
NAME, PHONE = "Quillebeuf", "07 98 76 54 32"
NOVEMBER = indicators.Period(date(2026, 11, 1), date(2026, 11, 30))
FIELD_ROLES = ("maraude", "visiteur", "travailleur_social")


def person(**data):
    return item("personne", {"niveau": "identifie", "alias_prenom": "Hortense", "nom": NAME,
                             "date_naissance": "1944-02-03", "telephone": PHONE,
                             "adresse": "5 chemin des Aubepines", "consentement": True,
                             "date_consentement": "2026-11-01", "sexe": "femme",
                             "tranche_age": "plus_75", "notes": f"{NAME} vit seule", **data},
                form_version=2)


@pytest.fixture
def held(app, auth):
    """Everything about Hortense, pushed from the office's tablet and the field's; return ids."""
    vera_id = add_user(app, "vera", "visiteur")
    auth.login("coordinateur")
    desk = Tablet(app.test_client(), "coordinateur")
    hortense = person()
    double = item("personne", {"niveau": "alias", "alias_prenom": "Hortense Q.",
                               "notes": f"sans doute {NAME}"}, form_version=2)
    met = item(data=rencontre(niveau="identifie", personne=hortense["id"], nombre_personnes=1,
                              besoins=["sante"], notes=f"{NAME} tousse"))
    met_double = item(data=rencontre(niveau="alias", personne=double["id"], nombre_personnes=1))
    received = item("permanence.accueil", {"niveau": "identifie", "personne": hortense["id"],
                                           "nombre_personnes": 1, "motifs": ["droits"],
                                           "notes": f"Dossier APA de {NAME}"})
    visited = item("visite.visite", {"personne": hortense["id"], "date": "2026-11-20",
                                     "mode": "domicile", "personne_vue": "oui",
                                     "alerte": "chute", "detail_alerte": f"{NAME} est tombée"})
    entry = item("registre.inscription", {
        "nom": NAME, "prenoms": "Hortense", "date_naissance": "1944-02-03",
        "categorie": "65_ans_plus", "adresse": "5 chemin des Aubepines", "telephone": PHONE,
        "contact_urgence": "Gaston, son fils", "telephone_urgence": "06 01 02 03 04",
        "date_demande": "2026-05-10", "demandeur": "personne", "personne": hortense["id"]},
        form_version=2)
    results = desk.push(hortense, double, met, met_double, received, visited, entry)
    assert {r["status"] for r in results} == {"created"}, results
    edited = {**hortense, "base_revision": 1, "data": {**hortense["data"], "notes": "2e"}}
    stale = {**hortense, "base_revision": 1, "data": {**hortense["data"], "notes": f"{NAME} !"}}
    refused = item(data=rencontre(niveau="identifie", personne=hortense["id"],
                                  nombre_personnes=-1, notes=f"{NAME} refusée"))
    assert [r["status"] for r in desk.push(edited)] == ["updated"]
    assert [r["status"] for r in desk.push(stale, refused)] == ["conflict", "rejected"]
    assert auth.post("/personnes/fusionner", {"garder": hortense["id"],
                                              "fusionner": double["id"]}).status_code == 302
    assert auth.post("/planning/affecter", {
        "personne": hortense["id"], "visiteur": str(vera_id), "rythme": "hebdomadaire",
        "mode": "domicile", "debut": "2026-11-02"}).status_code == 302
    with app.app_context():
        ids = {"merge": db.session.scalar(select(PersonMerge.id)),
               "assignment": db.session.scalar(select(VisitAssignment.id))}
    form = {"kind": "canicule", "level": "Niveau 3", "starts_on": "2026-07-01",
            "message": "Buvez de l'eau.", "sharing": "egal", "agents": [str(vera_id)]}
    assert auth.post("/plans/nouveau", form).status_code == 302
    vera = Tablet(app.test_client(), "vera")
    [call] = vera.pull()["calls"]
    outcome = item("plan.appel", {"plan": call["data"]["plan_id"], "tache": call["id"],
                                  "etape": "premier_appel", "issue": "joint_besoin",
                                  "besoins": ["eau"], "precision": f"{NAME} a soif"},
                   id=call["data"]["step_ids"]["premier_appel"])
    assert vera.push(outcome)[0]["status"] == "created"
    assert auth.client.get(f"/personnes/{hortense['id']}").status_code == 200
    with app.app_context():
        alert = db.session.scalar(select(Alert.id).where(Alert.record_id == visited["id"]))
    return {**ids, "person": hortense["id"], "double": double["id"], "met": met["id"],
            "met_double": met_double["id"], "received": received["id"],
            "visited": visited["id"], "entry": entry["id"], "refused": refused["id"],
            "call": call["id"], "outcome": outcome["id"], "plan": call["data"]["plan_id"],
            "alert": alert}


def test_the_export_holds_every_kind_of_data_about_the_person(app, auth, held):
    answer = auth.client.get(f"/personnes/{held['person']}/donnees?format=json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert "attachment" in answer.headers["Content-Disposition"]
    found = answer.json
    assert set(found) >= {"personne", "fiches_fusionnées", "fiches", "registre", "appels",
                          "alertes", "affectations", "fusions", "conflits", "quarantaine",
                          "journal"}
    assert found["personne"]["id"] == held["person"]
    assert found["personne"]["données"]["nom"] == NAME
    assert [rev["revision"] for rev in found["personne"]["révisions"]] == [1]
    assert [f["id"] for f in found["fiches_fusionnées"]] == [held["double"]]
    assert {f["id"] for f in found["fiches"]} == {held["met"], held["met_double"],
                                                  held["received"], held["visited"]}
    assert [f["id"] for f in found["registre"]] == [held["entry"]]
    [call] = found["appels"]
    assert call["id"] == held["call"] and [o["id"] for o in call["issues"]] == [held["outcome"]]
    assert [a["id"] for a in found["alertes"]] == [held["alert"]]
    assert [a["id"] for a in found["affectations"]] == [held["assignment"]]
    assert [m["id"] for m in found["fusions"]] == [held["merge"]]
    assert [c["fiche"] for c in found["conflits"]] == [held["person"]]
    assert [q["fiche"] for q in found["quarantaine"]] == [held["refused"]]
    actions = {(e["action"], e["cible"]) for e in found["journal"]}
    assert ("person.read", held["person"]) in actions
    assert ("person.merge", held["person"]) in actions
    assert any(action == "planning.assign" for action, _ in actions)
    # The page to print says the same in words.
    page = unescape(auth.client.get(f"/personnes/{held['person']}/donnees").text)
    for words in (f"Données détenues sur Hortense {NAME}", "Fiches qui la nomment (4)",
                  "Registre des personnes isolées (1)", "Appels des plans d'alerte (1)",
                  "Dossier APA de", "Gaston, son fils", "1 version(s) antérieure(s)",
                  "Journal d'audit"):
        assert words in page, words
    with app.app_context():
        exports = db.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "person.export", AuditEvent.target == held["person"])).all()
        assert [e["format"] for e in exports] == ["json", "page"]


def test_the_file_offers_the_export_and_the_erasure_to_the_office(auth, held):
    page = auth.client.get(f"/personnes/{held['person']}").text
    assert "Exporter ses données" in page and "Effacer ou anonymiser" in page


@pytest.mark.parametrize("role", [*FIELD_ROLES, "coordinateur", "admin"])
def test_only_the_office_exports_and_erases(app, auth, held, role):
    auth.logout()
    auth.login(role)
    base = f"/personnes/{held['person']}"
    expected = 200 if role in ("coordinateur", "admin") else 403
    assert auth.client.get(f"{base}/donnees").status_code == expected
    assert auth.client.get(f"{base}/donnees?format=json").status_code == expected
    assert auth.client.get(f"{base}/effacer").status_code == expected
    if expected == 403:
        answer = auth.post(f"{base}/effacer", {"maniere": "effacer", "motif": "effacement"})
        assert answer.status_code == 403
        with app.app_context():
            assert db.session.get(Record, held["person"]).data["nom"] == NAME
            assert db.session.scalar(select(AuditEvent.id).where(
                AuditEvent.action == "person.export")) is None


def test_erasure_is_refused_while_a_plan_calls_the_person(app, auth, held):
    page = unescape(auth.client.get(f"/personnes/{held['person']}/effacer").text)
    assert "Impossible pour le moment." in page and "Un plan d'alerte est en cours" in page
    assert "art. L116-3" in page and "Confirmer" not in page
    answer = auth.post(f"/personnes/{held['person']}/effacer",
                       {"maniere": "effacer", "motif": "effacement"})
    assert answer.status_code == 409 and "Un plan d'alerte est en cours" in unescape(answer.text)
    assert auth.post(f"/plans/{held['plan']}/clore", {"confirme": "oui"}).status_code == 302
    # The visit's fall is still open: that too waits.
    page = unescape(auth.client.get(f"/personnes/{held['person']}/effacer").text)
    assert "Une alerte la concernant est encore ouverte" in page
    with app.app_context():
        assert db.session.get(Record, held["person"]).data["nom"] == NAME
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "person.erase")) is None


def _settle(auth, held) -> None:
    assert auth.post(f"/plans/{held['plan']}/clore", {"confirme": "oui"}).status_code == 302
    assert auth.post(f"/alertes/{held['alert']}/clore",
                     {"outcome": f"Vue par le médecin, {NAME} va bien"}).status_code == 302


def _figures(app) -> dict:
    with app.app_context():
        facts.catch_up(db.session, PARIS)
        found = indicators.compute_all(db.session, NOVEMBER, PARIS)
        db.session.rollback()
        return found


def test_erasure_leaves_no_name_nor_phone_in_the_database_file(app, auth, held):
    _settle(auth, held)
    before = _figures(app)
    form = auth.client.get(f"/personnes/{held['person']}/effacer").text
    assert "Confirmer" in form
    missing = auth.post(f"/personnes/{held['person']}/effacer", {"maniere": "effacer"})
    assert missing.status_code == 400 and "Choisissez le motif de la demande." in missing.text
    answer = auth.post(f"/personnes/{held['person']}/effacer",
                       {"maniere": "effacer", "motif": "effacement"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/personnes")
    assert "Personne effacée" in auth.client.get("/personnes").text
    assert auth.client.get(f"/personnes/{held['person']}").status_code == 404
    with app.app_context():
        erased = db.session.get(Record, held["person"])
        assert erased.deleted and erased.data == {"niveau": "alias",
                                                  "alias_prenom": "Personne effacée",
                                                  "sexe": "femme", "tranche_age": "plus_75"}
        assert db.session.get(Record, held["entry"]).deleted
        assert "detail_alerte" not in db.session.get(Record, held["visited"]).data
        assert "precision" not in db.session.get(Record, held["outcome"]).data
        assert db.session.get(Record, held["met"]).data["besoins"] == ["sante"]
        assert not db.session.get(VisitAssignment, held["assignment"]).active
        alert = db.session.get(Alert, held["alert"])
        assert alert.detail is None and alert.outcome is None and alert.kind == "chute"
        assert db.session.get(CallTask, held["call"]).need_detail is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erase"))
        assert event.target == held["person"] and event.details["reason"] == "effacement"
        assert event.user_id == auth.user("coordinateur")
        assert db.session.scalar(select(AlertPlan.closed_at)) is not None
        path = db.engine.url.database
    assert _figures(app) == before
    assert_not_on_disk(path, [NAME.encode(), PHONE.encode(), b"Hortense", b"Aubepines",
                              b"Gaston"])


def test_anonymising_on_request_keeps_the_file_for_the_figures(app, auth, held):
    _settle(auth, held)
    before = _figures(app)
    answer = auth.post(f"/personnes/{held['person']}/effacer",
                       {"maniere": "anonymiser", "motif": "opposition"})
    assert answer.status_code == 302
    page = auth.client.get(answer.headers["Location"]).text
    assert "Personne anonymisée" in page and NAME not in page and PHONE not in page
    assert _figures(app) == before
    with app.app_context():
        kept = db.session.get(Record, held["person"])
        assert not kept.deleted and kept.data["alias_prenom"] == "Personne anonymisée"
        assert db.session.get(Record, held["double"]).data["alias_prenom"] == \
            "Personne anonymisée"
        # Without a name or an address there is nobody to visit: the visits end.
        assert not db.session.get(VisitAssignment, held["assignment"]).active


def test_anonymised_files_are_not_offered_as_duplicates(app, auth, held):
    _settle(auth, held)
    other = Tablet(app.test_client(), "coordinateur")
    twin = person(alias_prenom="Yvette", nom="Ribouldingue", telephone="06 99 88 77 66")
    assert other.push(twin)[0]["status"] == "created"
    for ident in (held["person"], twin["id"]):
        answer = auth.post(f"/personnes/{ident}/effacer",
                           {"maniere": "anonymiser", "motif": "fin_de_suivi"})
        assert answer.status_code == 302
    page = auth.client.get("/personnes").text
    assert page.count(">Personne anonymisée</a>") == 2 and "Doublons possibles" not in page
