"""Who sees whom (issue 14): every route and API call that returns people, for every role.

One invented service: two visiteurs, two maraude agents, two travailleurs sociaux and the
office, with a senior for each visiteur, a senior given from one visiteur to the other, a team's
known person, a file merged into an office file, people received at a permanence, a register
entry and an alert plan. Each role is checked for what it is shown and what it is refused; the
README's table "Who sees whom" is read back and must say the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.alerts.models import Alert
from outreach.core.catalog import add_reference_entry
from outreach.core.db import db
from outreach.people.merge import merge
from outreach.register.models import CallTask
from outreach.visits import planning
from outreach.visits.models import VisitAssignment
from sync.push import Actor
from sync.schema import quarantine
from tests.conftest import add_user, csrf_from
from tests.sync_helpers import Tablet, item

FIELD = ("visiteur", "maraude", "travailleur_social")
ROLES = (*FIELD, "coordinateur", "admin")
README = Path(__file__).resolve().parents[1] / "README.md"


def senior(prenom: str, nom: str, **data) -> dict:
    return item("personne", {"niveau": "identifie", "alias_prenom": prenom, "nom": nom,
                             "consentement": True, "date_consentement": "2026-01-05",
                             "adresse": f"{len(nom)} rue des Lilas", "telephone": "05 55 01 02 03",
                             **data}, form_version=2)


def alias(prenom: str) -> dict:
    return item("personne", {"niveau": "alias", "alias_prenom": prenom}, form_version=2)


def visite(person_id: str, **data) -> dict:
    return item("visite.visite", {"personne": person_id, "date": "2026-11-20", "mode": "domicile",
                                  "personne_vue": "oui", "alerte": "aucune", **data})


def accueil(person_id: str, parent_id: str | None = None) -> dict:
    return item("permanence.accueil", {"niveau": "alias", "personne": person_id,
                                       "nombre_personnes": 1, "motifs": ["logement"]},
                parent_id=parent_id)


class World:
    """The invented service, its people by name, and a logged-in client per account."""

    def __init__(self, app):
        self.app = app
        self.ids = {login: add_user(app, login, role) for login, role in (
            ("visiteur", "visiteur"), ("visiteur2", "visiteur"), ("maraude", "maraude"),
            ("maraude2", "maraude"), ("travailleur_social", "travailleur_social"),
            ("social2", "travailleur_social"), ("coordinateur", "coordinateur"),
            ("admin", "admin"))}
        self.tablets = {login: Tablet(app.test_client(), login) for login in self.ids}
        desk = self.tablets["coordinateur"]
        self.people = {
            "Roux": senior("Jeanne", "Roux"),          # the visiteur's senior
            "Lenoir": senior("Paul", "Lenoir"),        # the other visiteur's senior
            "Morel": senior("Odette", "Morel"),        # given from the visiteur to the other
            "Dubois": senior("Marcel", "Dubois"),      # an office file a team alias merged into
            "Nadia": alias("Nadia"),                   # received at the permanence
        }
        assert all(r["status"] == "created" for r in desk.push(*self.people.values()))
        made = {"Lucien": ("visiteur", alias("Lucien")), "Tonio": ("maraude2", alias("Tonio")),
                "Momo": ("maraude", alias("Momo")),
                "Leila": ("travailleur_social", alias("Leila")),
                "Karim": ("social2", alias("Karim"))}
        for name, (login, record) in made.items():
            self.people[name] = record
            assert self.tablets[login].push(record)[0]["status"] == "created"
        self.assign("Roux", "visiteur")
        self.assign("Lenoir", "visiteur2")
        morel = self.assign("Morel", "visiteur")
        self.morel_visit = visite(self.id("Morel"), notes="Visite faite avant le changement.")
        assert self.tablets["visiteur"].push(self.morel_visit)[0]["status"] == "created"
        self.roux_visit = visite(self.id("Roux"), notes="Jeanne va bien.")
        assert self.tablets["visiteur"].push(self.roux_visit)[0]["status"] == "created"
        with app.app_context():
            planning.reassign(db.session, db.session.get(VisitAssignment, morel),
                              self.ids["visiteur2"], self.ids["coordinateur"])
            merge(db.session, Actor(self.ids["coordinateur"], "coordinateur", True),
                  self.id("Dubois"), self.id("Momo"))
            site = add_reference_entry(db.session, "sites", "Centre social des Tilleuls").value
            db.session.commit()
        session = item("permanence.session", {"site": site, "date": "2026-11-20",
                                              "heure_debut": "09:00",
                                              "intervenants": "Travailleur social"})
        assert self.tablets["travailleur_social"].push(session)[0]["status"] == "created"
        # The office records an accueil of the permanence for the travailleur social.
        assert desk.push(accueil(self.id("Nadia"), session["id"]))[0]["status"] == "created"
        self.entry = item("registre.inscription", {
            "nom": "Roux", "prenoms": "Jeanne", "date_naissance": "1940-03-02",
            "categorie": "65_ans_plus", "adresse": "4 rue des Lilas", "telephone": "05 55 01 02 03",
            "contact_urgence": "Sa fille", "telephone_urgence": "06 11 22 33 44",
            "date_demande": "2026-05-10", "demandeur": "personne", "personne": self.id("Roux"),
            "notes": "Note du registre : à appeler le matin."}, form_version=2)
        assert desk.push(self.entry)[0]["status"] == "created"

    def id(self, name: str) -> str:
        return self.people[name]["id"]

    def assign(self, name: str, login: str) -> str:
        with self.app.app_context():
            row = planning.assign(db.session, self.id(name), self.ids[login], "hebdomadaire",
                                  "domicile", planning.date.today(), self.ids["coordinateur"])
            db.session.commit()
            return row.id

    def page(self, login: str, url: str):
        return self.tablets[login].client.get(url)

    def pulled_people(self, login: str) -> set[str]:
        tablet, cursor, found = self.tablets[login], None, {}
        while True:
            page = tablet.pull(cursor)
            for person in page["people"]:
                found[person["id"]] = not person.get("deleted")
            cursor = page["cursor"]
            if not page["more"]:
                return {ident for ident, present in found.items() if present}


@pytest.fixture
def world(app):
    return World(app)


# Whose files each role reaches (Momo was merged into Dubois: a tombstone for everyone).
SEES = {
    "visiteur": {"Roux", "Lucien"},
    "maraude": {"Tonio", "Dubois"},
    "travailleur_social": {"Nadia", "Leila"},
    "coordinateur": {"Roux", "Lenoir", "Morel", "Dubois", "Nadia", "Lucien", "Tonio", "Leila",
                     "Karim"},
    "admin": {"Roux", "Lenoir", "Morel", "Dubois", "Nadia", "Lucien", "Tonio", "Leila", "Karim"},
}
EVERYONE = SEES["coordinateur"]
# The form each role names people in, to read the person field's choices.
PERSON_FORM = {"visiteur": "visite.visite", "maraude": "maraude.rencontre",
               "travailleur_social": "permanence.accueil", "coordinateur": "visite.visite",
               "admin": "permanence.accueil"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_the_files_of_its_work_and_no_other(world, role):
    for name in EVERYONE:
        response = world.page(role, f"/personnes/{world.id(name)}")
        expected = 200 if name in SEES[role] else 403
        assert response.status_code == expected, (role, name)
    assert world.page(role, f"/personnes/{world.id('Momo')}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_each_role_finds_only_its_people_in_the_search_and_the_forms(world, role):
    listing = world.page(role, "/personnes").text
    form = world.page(role, f"/saisie/{PERSON_FORM[role]}").text
    for name in EVERYONE:
        label = world.people[name]["data"]["alias_prenom"]
        for text, where in ((listing, "/personnes"), (form, PERSON_FORM[role])):
            assert (label in text) == (name in SEES[role]), (role, name, where)


@pytest.mark.parametrize("role", FIELD)
def test_each_field_tablet_pulls_only_its_people(world, role):
    assert world.pulled_people(role) == {world.id(name) for name in SEES[role]}


def test_an_office_tablet_pulls_only_the_people_of_its_own_records(world):
    # The coordinateur made the files and the accueil: those, and no team's alias.
    pulled = world.pulled_people("coordinateur")
    assert pulled == {world.id(n) for n in ("Roux", "Lenoir", "Morel", "Dubois", "Nadia")}
    assert world.pulled_people("admin") == set()


# Finding 1: naming a person opens their file.
def test_a_visite_naming_another_visiteur_s_senior_is_kept_apart_and_opens_nothing(app, world):
    lenoir = world.id("Lenoir")
    visit = visite(lenoir, alerte="chute", detail_alerte="Au sol dans la cuisine.")
    [result] = world.tablets["visiteur"].push(visit)
    assert result["status"] == "rejected"
    assert "ne fait pas partie de votre travail" in result["errors"]["personne"][0]
    assert world.page("visiteur", f"/personnes/{lenoir}").status_code == 403
    assert lenoir not in world.pulled_people("visiteur")
    with app.app_context():
        kept = db.session.execute(select(quarantine).where(
            quarantine.c.record_id == visit["id"])).one()
        # The fall still reaches the office's inbox, though the record waits in quarantine.
        alert = db.session.scalar(select(Alert).where(Alert.record_id == visit["id"]))
    assert kept.status == "open" and alert.kind == "chute" and alert.person_id == lenoir
    assert "Au sol" in world.page("coordinateur", "/alertes").text
    assert "ne fait pas partie de votre travail" in world.page("visiteur", "/a-corriger").text


@pytest.mark.parametrize(("login", "record", "named"), [
    ("maraude", lambda w: item("maraude.rencontre", {
        "lieu": {"label": "Gare", "lat": None, "lon": None}, "niveau": "alias",
        "personne": w.id("Roux"), "nombre_personnes": 1}), "Roux"),
    ("travailleur_social", lambda w: accueil(w.id("Tonio")), "Tonio"),
    ("social2", lambda w: accueil(w.id("Nadia")), "Nadia"),
    ("visiteur2", lambda w: visite(w.id("Lucien")), "Lucien"),
    # Writing over an office file as if it were one's own.
    ("maraude2", lambda w: {**senior("Jeanne", "Roux"), "id": w.id("Roux"), "base_revision": 1},
     "Roux"),
])
def test_no_field_push_widens_access(world, login, record, named):
    [result] = world.tablets[login].push(record(world))
    assert result["status"] == "rejected", result
    assert world.id(named) not in world.pulled_people(login)
    assert world.page(login, f"/personnes/{world.id(named)}").status_code == 403


def test_an_unknown_person_may_be_named_their_file_may_come_later(world):
    later = alias("Sam")
    rencontre = item("maraude.rencontre", {"lieu": {"label": "Gare", "lat": None, "lon": None},
                                           "niveau": "alias", "personne": later["id"],
                                           "nombre_personnes": 1})
    assert world.tablets["maraude"].push(rencontre)[0]["status"] == "created"
    assert world.tablets["maraude"].push(later)[0]["status"] == "created"
    assert later["id"] in world.pulled_people("maraude2")


def test_a_record_naming_a_merged_file_is_tied_to_the_kept_one(app, world):
    rencontre = item("maraude.rencontre", {"lieu": {"label": "Gare", "lat": None, "lon": None},
                                           "niveau": "alias", "personne": world.id("Momo"),
                                           "nombre_personnes": 1})
    assert world.tablets["maraude"].push(rencontre)[0]["status"] == "created"
    with app.app_context():
        from outreach.core.models import Record

        assert db.session.get(Record, rencontre["id"]).data["personne"] == world.id("Dubois")


def test_a_file_reached_through_a_merge_shows_its_alias_level(world):
    page = world.page("maraude", f"/personnes/{world.id('Dubois')}").text
    assert "Marcel" in page
    assert "Dubois" not in page and "rue des Lilas" not in page and "05 55" not in page
    office = world.page("coordinateur", f"/personnes/{world.id('Dubois')}").text
    assert "Dubois" in office and "rue des Lilas" in office


# Finding 2: plan calls hand out person ids.
def test_a_plan_call_carries_what_to_call_not_a_file_to_open(app, world, auth):
    _open_plan(world, auth)
    with app.app_context():
        persons = {t.person_id for t in db.session.scalars(select(CallTask)) if t.person_id}
    assert world.id("Roux") in persons
    calls = [c for c in world.tablets["maraude"].pull()["calls"] if not c.get("deleted")]
    assert calls and all("person_id" not in c["data"] for c in calls)
    assert not any(ident in str(calls) for ident in persons)
    assert "ROUX Jeanne" in {c["data"]["name"] for c in calls}
    assert world.page("maraude", f"/personnes/{world.id('Roux')}").status_code == 403


# Finding 3: a reassigned senior stays with the old visiteur.
def test_a_reassigned_senior_leaves_the_old_visiteur_everywhere(world):
    morel = world.id("Morel")
    assert world.page("visiteur", f"/personnes/{morel}").status_code == 403
    assert morel not in world.pulled_people("visiteur")
    assert world.page("visiteur2", f"/personnes/{morel}").status_code == 200
    # The visite made while she was assigned is still the visiteur's, replayed or late.
    assert world.tablets["visiteur"].push(world.morel_visit)[0]["status"] == "unchanged"
    late = {**visite(morel), "recorded_at": world.morel_visit["recorded_at"]}
    assert world.tablets["visiteur"].push(late)[0]["status"] == "created"


def test_a_person_a_visiteur_made_leaves_them_once_the_office_assigns_another(world):
    lucien = world.id("Lucien")
    tablet = world.tablets["visiteur"]
    cursor = tablet.pull()["cursor"]
    assert world.page("visiteur", f"/modifier/{lucien}").status_code == 200
    world.assign("Lucien", "visiteur2")
    assert {"id": lucien, "deleted": True} in tablet.pull(cursor)["people"]
    assert world.page("visiteur", f"/personnes/{lucien}").status_code == 403
    assert world.page("visiteur", f"/modifier/{lucien}").status_code == 403
    assert world.page("visiteur2", f"/personnes/{lucien}").status_code == 200


# Finding 4: the register leaks into field files.
def test_the_register_stays_the_office_s(world):
    roux = world.id("Roux")
    field = world.page("visiteur", f"/personnes/{roux}").text
    assert "Jeanne va bien" in field
    assert "Note du registre" not in field and "Inscription" not in field
    assert "Note du registre" in world.page("coordinateur", f"/personnes/{roux}").text
    entry = item("registre.inscription", {**world.entry["data"], "notes": "Demande du voisin."},
                 form_version=2)
    assert world.tablets["visiteur"].push(entry)[0]["status"] == "created"
    assert world.page("visiteur", f"/modifier/{entry['id']}").status_code == 403
    assert world.page("visiteur", f"/registre/{entry['id']}").status_code == 403


# Role-level pages: the matrix of the README's table "Who sees whom".
PAGES = {
    "/personnes": "work",
    "/personnes/<id>": "work",
    "pull people": "pull",
    "/fiches": "office",
    "/api/v1/records": "office",
    "/registre": "office",
    "/alertes": "office",
    "/quarantaine": "office",
    "/conflits": "office",
    "/planning": "office",
    "/plans": "office",
    "/tableau-de-bord": "office",
    "/personnes/<id>/donnees": "office",
    "/personnes/<id>/effacer": "office",
    "/admin/utilisateurs": "admin",
    "/admin/journal": "admin",
    "/a-corriger": "own",
}


def _url(world, page: str) -> str:
    roux = world.id("Roux")
    return {"/personnes/<id>": f"/personnes/{roux}",
            "/personnes/<id>/donnees": f"/personnes/{roux}/donnees",
            "/personnes/<id>/effacer": f"/personnes/{roux}/effacer",
            "/fiches": f"/fiches/{world.roux_visit['id']}",
            "/registre": f"/registre/{world.entry['id']}"}.get(page, page)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [p for p, who in PAGES.items() if who in ("office", "admin")])
def test_office_pages_open_for_the_office_only(world, role, page):
    allowed = role == "admin" or (role == "coordinateur" and PAGES[page] == "office")
    response = world.page(role, _url(world, page))
    assert response.status_code == (200 if allowed else 403), (role, page)
    if not allowed and page.startswith("/api/"):
        assert response.is_json and response.json["error"]


@pytest.mark.parametrize("role", ROLES)
def test_to_fix_shows_only_one_s_own_refusals(world, role):
    refused = visite(world.id("Lenoir"), notes="Refus de test")
    world.tablets["visiteur"].push(refused)
    page = world.page(role, "/a-corriger")
    assert page.status_code == 200
    assert ("ne fait pas partie de votre travail" in page.text) == (role == "visiteur")


def _readme_table() -> dict[str, dict[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Who sees whom", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table[re.sub(r"`", "", cells[0])] = dict(zip(header[1:], cells[1:], strict=True))
    return table


# What each cell of the README says, per kind of page.
SAID = {
    "work": {"maraude": "the team's people", "visiteur": "assigned seniors, own files",
             "travailleur_social": "people received, own files", "coordinateur": "everyone",
             "admin": "everyone"},
    "office": {"maraude": "—", "visiteur": "—", "travailleur_social": "—",
               "coordinateur": "all", "admin": "all"},
    "admin": {"maraude": "—", "visiteur": "—", "travailleur_social": "—",
              "coordinateur": "—", "admin": "all"},
    "own": dict.fromkeys(ROLES, "own"),
}
SAID["pull"] = SAID["work"] | {"coordinateur": "their records' people",
                               "admin": "their records' people"}


def test_the_readme_table_says_what_the_matrix_checks():
    table = _readme_table()
    assert set(table) == set(PAGES)
    for page, kind in PAGES.items():
        assert table[page] == SAID[kind], page



def test_a_field_file_shows_only_the_alerts_of_that_agent_s_work(world):
    fall = visite(world.id("Dubois"), alerte="chute", detail_alerte="Chute dans l'escalier.")
    assert world.tablets["coordinateur"].push(fall)[0]["status"] == "created"
    url = f"/personnes/{world.id('Dubois')}"
    assert "Alertes (1)" in world.page("coordinateur", url).text
    field = world.page("maraude", url).text
    assert "Alertes" not in field and "Chute" not in field


def test_the_home_page_lists_no_register_entry_nor_a_file_given_to_another(world):
    entry = item("registre.inscription", {**world.entry["data"], "nom": "Vasseur"},
                 form_version=2)
    assert world.tablets["visiteur"].push(entry)[0]["status"] == "created"
    lucien = f"/modifier/{world.id('Lucien')}"
    assert lucien in world.page("visiteur", "/").text
    world.assign("Lucien", "visiteur2")
    home = world.page("visiteur", "/").text
    assert "Vasseur" not in home and entry["id"] not in home and lucien not in home
    assert entry["id"] in world.page("coordinateur", "/registre").text


# Found by an outside audit after the first fixes: merges must never widen access.
def _merge_into_lenoir(app, world, login: str) -> tuple[dict, str]:
    made = alias("Zorro")
    assert world.tablets[login].push(made)[0]["status"] == "created"
    with app.app_context():
        merge(db.session, Actor(world.ids["coordinateur"], "coordinateur", True),
              world.id("Lenoir"), made["id"])
        db.session.commit()
    return made, world.id("Lenoir")


@pytest.mark.parametrize("login", ["visiteur", "maraude", "travailleur_social"])
def test_a_file_reached_through_a_merge_travels_at_its_alias_level(app, world, login):
    _, lenoir = _merge_into_lenoir(app, world, login)
    [pulled] = [p for p in world.tablets[login].pull()["people"] if p["id"] == lenoir]
    assert pulled["data"] == {"niveau": "alias", "alias_prenom": "Paul"}
    page = world.page(login, f"/personnes/{lenoir}").text
    assert "Lenoir" not in page and "05 55" not in page


def test_an_anonymous_accueil_does_not_lift_a_merged_file_to_full_identity(app, world):
    anonymous = item("permanence.accueil", {"niveau": "anonyme", "nombre_personnes": 1,
                                            "motifs": ["logement"]})
    assert world.tablets["travailleur_social"].push(anonymous)[0]["status"] == "created"
    _, lenoir = _merge_into_lenoir(app, world, "travailleur_social")
    page = world.page("travailleur_social", f"/personnes/{lenoir}").text
    assert "Paul" in page and "Lenoir" not in page and "rue des Lilas" not in page


def test_naming_a_merged_file_does_not_make_it_one_s_own(app, world):
    made, lenoir = _merge_into_lenoir(app, world, "travailleur_social")
    social = world.tablets["travailleur_social"]
    [direct] = social.push(accueil(lenoir))
    assert direct["status"] == "rejected" and "personne" in direct["errors"]
    # The merged-away id one knew is moved to the kept file, which stays at its alias level.
    assert social.push(accueil(made["id"]))[0]["status"] == "created"
    assert "Lenoir" not in world.page("travailleur_social", f"/personnes/{lenoir}").text
    [pulled] = [p for p in social.pull()["people"] if p["id"] == lenoir]
    assert "nom" not in pulled["data"]
    with app.app_context():
        from outreach.people.merge import undo
        from outreach.people.models import PersonMerge

        done = db.session.scalar(select(PersonMerge).where(PersonMerge.kept_id == lenoir))
        undo(db.session, Actor(world.ids["coordinateur"], "coordinateur", True), done)
        db.session.commit()
    assert world.page("travailleur_social", f"/personnes/{lenoir}").status_code == 403


def test_a_merged_file_shows_only_one_s_own_records(app, world):
    _, lenoir = _merge_into_lenoir(app, world, "visiteur")
    other = visite(lenoir, notes="Notes du second visiteur.", alerte="chute")
    assert world.tablets["visiteur2"].push(other)[0]["status"] == "created"
    page = world.page("visiteur", f"/personnes/{lenoir}").text
    assert "Notes du second visiteur" not in page and "Alertes" not in page
    assert "Notes du second visiteur" in world.page("visiteur2", f"/personnes/{lenoir}").text


def _open_plan(world, auth) -> None:
    auth.login("coordinateur")
    form = auth.client.get("/plans/nouveau")
    answer = auth.client.post("/plans/nouveau", data={
        "kind": "canicule", "level": "Niveau 3", "starts_on": "2026-07-01",
        "message": "Buvez de l'eau.", "sharing": "egal", "agents": [str(world.ids["maraude"])],
        "with_visited": "1", "csrf_token": csrf_from(form.text)})
    assert answer.status_code == 302, answer.text


def test_a_plan_call_is_not_changed_through_the_record_page(world, auth):
    # An outside audit found /modifier/<call outcome> a 500 for every role.
    _open_plan(world, auth)
    call = next(c for c in world.tablets["maraude"].pull()["calls"] if not c.get("deleted"))
    step = call["data"]["step_ids"]["premier_appel"]
    made = item("plan.appel", {"plan": call["data"]["plan_id"], "tache": call["id"],
                               "etape": "premier_appel", "issue": "pas_de_reponse"}, id=step)
    assert world.tablets["maraude"].push(made)[0]["status"] == "created"
    for role in ROLES:
        assert world.page(role, f"/modifier/{step}").status_code == 404, role
