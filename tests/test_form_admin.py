"""/admin/formulaires and /admin/listes: forms and choice lists a CCAS changes itself.

Each saved change is a new version, in the database; tablets get it at their next pull; records
made with an older version are still accepted and read with that version's labels.
"""

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.forms import editing
from outreach.core.forms.editing import EditRefused
from outreach.core.models import AuditEvent, FormVersion, Record, ReferenceItem
from tests.conftest import add_user, make_app
from tests.sync_helpers import Tablet, item, rencontre

TOURNEE = {"date": "2026-11-20", "heure_depart": "20:30", "secteur": "Gare", "equipe": "Léa"}


def versions(app, key):
    with app.app_context():
        return [(row.version, row.note) for row in db.session.scalars(
            select(FormVersion).where(FormVersion.key == key).order_by(FormVersion.version))]


def current_raw(app, key):
    from outreach.core import catalog

    with app.test_request_context():
        return catalog.registry().current(key).raw


@pytest.fixture
def admin(auth):
    auth.login("admin")
    return auth


# --- The changes themselves ---------------------------------------------------------------

BASE = {"key": "essai", "version": 3, "title": "Essai", "fields": [
    {"key": "total", "label": "Total", "type": "counter", "required": True},
    {"key": "dont", "label": "Dont femmes", "type": "counter", "part_of": "total"},
    {"key": "aide", "label": "Aide", "type": "multi",
     "choices": [{"value": "repas", "label": "Repas"}, {"value": "douche", "label": "Douche"}]},
]}


def test_a_new_field_gets_a_key_from_its_label_never_one_used_before():
    history = [BASE, {**BASE, "version": 1, "fields": [
        *BASE["fields"], {"key": "repas_servis", "label": "Ancien", "type": "text"}]}]
    following = editing.add_field(BASE, history, "  Repas   servis ", "counter", "", True)
    added = following["fields"][-1]
    assert following["version"] == 4 and BASE["version"] == 3
    assert added == {"key": "repas_servis_2", "label": "Repas servis", "type": "counter",
                     "required": True, "min": 0}


@pytest.mark.parametrize(("change", "message"), [
    (lambda: editing.add_field(BASE, [BASE], "total", "text", "", False), "s'appelle déjà"),
    (lambda: editing.add_field(BASE, [BASE], "Lieu", "place", "", False), "type du champ"),
    (lambda: editing.add_field(BASE, [BASE], "Aides", "multi", "", False, ["", " "]),
     "au moins un choix"),
    (lambda: editing.retire_field(BASE, "total"), "« Dont femmes » dépend de « Total »"),
    (lambda: editing.change_field(BASE, "dont", "Total", "", False), "s'appelle déjà"),
    (lambda: editing.change_field(BASE, "total", "Total", "", True), "Rien n'a changé"),
    (lambda: editing.reorder(BASE, ["total", "aide"]), "tous les champs"),
    (lambda: editing.add_choice(BASE, [BASE], "aide", "repas"), "existe déjà"),
    (lambda: editing.add_choice(BASE, [BASE], "total", "Repas"), "pas de choix à lui"),
    (lambda: editing.retire_choice({**BASE, "fields": [{**BASE["fields"][2], "choices": [
        {"value": "repas", "label": "Repas"}]}]}, "aide", "repas"), "au moins un choix"),
], ids=["same-label", "type-not-offered", "no-choice", "a-field-depends-on-it",
        "relabel-to-taken", "nothing-changed", "order-incomplete", "choice-twice",
        "not-a-choice-field", "last-choice"])
def test_a_change_that_cannot_be_made_says_why(change, message):
    with pytest.raises(EditRefused) as refused:
        change()
    assert message in str(refused.value)


def test_what_the_application_reads_is_renamed_never_retired():
    visite = {"key": "visite.visite", "version": 1, "title": "Visite", "fields": [
        {"key": "alerte", "label": "Alerte", "type": "choice", "choices": [
            {"value": "aucune", "label": "Aucune"},
            {"value": "absence_reponse", "label": "Absence de réponse"},
            {"value": "chute", "label": "Chute"}]},
        {"key": "humeur", "label": "Humeur", "type": "text"},
    ]}
    with pytest.raises(EditRefused, match="renommer, pas le retirer"):
        editing.retire_field(visite, "alerte")
    with pytest.raises(EditRefused, match="renommer, pas le retirer"):
        editing.retire_choice(visite, "alerte", "absence_reponse")
    assert [c["value"] for c in editing.retire_choice(visite, "alerte", "chute")["fields"][0][
        "choices"]] == ["aucune", "absence_reponse"]
    renamed = editing.rename_choice(visite, "alerte", "absence_reponse", "Pas de réponse")
    assert renamed["fields"][0]["choices"][1] == {"value": "absence_reponse",
                                                  "label": "Pas de réponse"}
    assert [f["key"] for f in editing.retire_field(visite, "humeur")["fields"]] == ["alerte"]


def test_a_field_never_changes_type_across_versions():
    later = {**BASE, "version": 4, "fields": [
        {**BASE["fields"][0], "type": "text"}, *BASE["fields"][1:]]}
    with pytest.raises(EditRefused) as refused:
        editing.check_history([later, BASE])
    assert "« Total » : il était « Compteur" in str(refused.value)
    assert "retirez-le et ajoutez-en un autre" in str(refused.value)
    editing.check_history([BASE, editing.retire_field(BASE, "dont")])


# --- In the browser's words: /admin/formulaires ---------------------------------------------

def test_an_added_field_makes_version_2_that_tablets_pull_and_version_1_is_still_accepted(
    app, admin
):
    page = admin.client.get("/admin/formulaires")
    assert page.status_code == 200 and "Tournée de maraude" in page.text
    answer = admin.post("/admin/formulaires/maraude.tournee/champs", {
        "label": "Repas servis", "type": "counter", "help": "Repas chauds, pas les boissons.",
        "required": "1"})
    assert answer.status_code == 302
    assert versions(app, "maraude.tournee") == [(2, "champ « Repas servis » ajouté.")]
    shown = admin.client.get("/admin/formulaires/maraude.tournee").text
    assert "version 2" in shown and "Repas servis" in shown and "par Admin" in shown

    form = admin.client.get("/saisie/maraude.tournee").text
    assert '<label for="f-repas_servis">Repas servis' in form

    add_user(app, "lea", "maraude")
    tablet = Tablet(app.test_client(), "lea")
    pulled = {(f["key"], f["version"]) for f in tablet.pull()["forms"]}
    assert {("maraude.tournee", 1), ("maraude.tournee", 2)} <= pulled
    old, new, missing = (item("maraude.tournee", TOURNEE),
                         item("maraude.tournee", {**TOURNEE, "repas_servis": 14},
                              form_version=2),
                         item("maraude.tournee", TOURNEE, form_version=2))
    results = tablet.push(old, new, missing)
    assert [r["status"] for r in results] == ["created", "created", "rejected"]
    assert results[2]["errors"] == {"repas_servis": ["Ce champ est obligatoire."]}
    with app.app_context():
        stored = {r.id: r.form_version for r in db.session.scalars(select(Record))}
        assert stored == {old["id"]: 1, new["id"]: 2}
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "form.version"))
        assert audit.target == "form:maraude.tournee" and audit.details["version"] == 2


def test_another_app_server_on_the_same_database_serves_the_new_version_without_restart(
    app, admin, tmp_path, migrated_database
):
    other = make_app(tmp_path, migrated_database,
                     SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    other_admin = type(admin)(other, other.test_client())
    other_admin.login("admin")
    assert "Repas servis" not in other_admin.client.get("/saisie/maraude.tournee").text
    admin.post("/admin/formulaires/maraude.tournee/champs",
               {"label": "Repas servis", "type": "counter"})
    assert "Repas servis" in other_admin.client.get("/saisie/maraude.tournee").text


def test_a_record_is_read_with_its_own_version_s_labels(app, admin):
    add_user(app, "lea", "maraude")
    tablet = Tablet(app.test_client(), "lea")
    made = item(data=rencontre(prestations=["duvet"]))
    tablet.push(made)
    admin.post("/admin/formulaires/maraude.rencontre/champs/prestations/choix/duvet",
               {"label": "Sac de couchage"})
    admin.post("/admin/formulaires/maraude.rencontre/champs/prestations/choix/duvet/retirer")
    assert [v for v, _ in versions(app, "maraude.rencontre")] == [2, 3]
    labels = {c["value"]: c["label"]
              for c in editing_field(current_raw(app, "maraude.rencontre"), "prestations")}
    assert "duvet" not in labels
    shown = admin.client.get(f"/fiches/{made['id']}").text
    assert "Duvet / couverture" in shown
    later = item(data=rencontre(prestations=["duvet"]), form_version=3)
    [result] = tablet.push(later)
    assert result["errors"] == {"prestations": ["Choix inconnu : duvet."]}


def test_the_figures_name_a_choice_by_its_newest_label_even_once_retired(app, admin):
    from outreach.core import catalog

    admin.post("/admin/formulaires/maraude.rencontre/champs/prestations/choix/duvet",
               {"label": "Sac de couchage"})
    admin.post("/admin/formulaires/maraude.rencontre/champs/prestations/choix/duvet/retirer")
    with app.test_request_context():
        labels = catalog.labels_of_every_version("maraude.rencontre")["prestations"]
    assert labels["duvet"] == "Sac de couchage"
    assert labels["repas"] == "Repas / colis alimentaire"


def editing_field(raw, key):
    return next(spec for spec in raw["fields"] if spec["key"] == key)["choices"]


def test_fields_are_reordered_retired_and_put_back_with_their_data(app, admin):
    raw = current_raw(app, "maraude.tournee")
    order = [spec["key"] for spec in raw["fields"]]
    positions = {f"position-{key}": str(len(order) - index) for index, key in enumerate(order)}
    assert admin.post("/admin/formulaires/maraude.tournee/ordre", positions).status_code == 302
    assert [s["key"] for s in current_raw(app, "maraude.tournee")["fields"]] == order[::-1]

    admin.post("/admin/formulaires/maraude.tournee/champs/meteo/retirer")
    assert "meteo" not in [s["key"] for s in current_raw(app, "maraude.tournee")["fields"]]
    page = admin.client.get("/admin/formulaires/maraude.tournee").text
    assert "Champs retirés" in page and "Météo" in page
    admin.post("/admin/formulaires/maraude.tournee/champs/meteo/remettre")
    restored = editing_field(current_raw(app, "maraude.tournee"), "meteo")
    assert restored == editing_field(raw, "meteo")
    assert [v for v, _ in versions(app, "maraude.tournee")] == [2, 3, 4]


@pytest.mark.parametrize(("url", "data", "message"), [
    ("/admin/formulaires/visite.visite/champs/alerte/retirer", {},
     "sert à l&#39;application"),
    ("/admin/formulaires/maraude.tournee/champs", {"label": "Date", "type": "text"},
     "s&#39;appelle déjà « Date »"),
    ("/admin/formulaires/maraude.tournee/champs", {"label": "Repas", "type": "place"},
     "Choisissez le type du champ"),
    ("/admin/formulaires/maraude.tournee/ordre", {"position-date": "un"},
     "Donnez un numéro à chaque champ"),
    ("/admin/formulaires/maraude.rencontre/champs/niveau/choix/alias/retirer", {},
     "sert à l&#39;application"),
    ("/admin/formulaires/maraude.tournee/champs/secteur", {"label": ""}, "Donnez un libellé"),
], ids=["protected-field", "same-label", "bad-type", "bad-order", "protected-choice",
        "empty-label"])
def test_a_refused_change_is_said_beside_it_and_makes_no_version(app, admin, url, data, message):
    answer = admin.post(url, data)
    assert answer.status_code == 400
    assert message in answer.text and 'role="alert"' in answer.text
    with app.app_context():
        assert db.session.scalar(select(FormVersion)) is None


def test_unknown_forms_fields_and_choices_are_404(admin):
    assert admin.client.get("/admin/formulaires/inconnu").status_code == 404
    assert admin.client.get("/admin/formulaires/maraude.tournee/champs/rien").status_code == 404
    answer = admin.post("/admin/formulaires/maraude.rencontre/champs/prestations/choix/rien",
                        {"label": "X"})
    assert answer.status_code == 404


# --- /admin/listes ------------------------------------------------------------------------

def test_a_site_is_added_renamed_and_retired_and_old_records_keep_its_name(app, admin):
    assert admin.post("/admin/listes/sites", {"label": "Salle des fêtes",
                                              "details": "Place de l'église"}).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(ReferenceItem).where(ReferenceItem.list_key == "sites"))
        assert (entry.value, entry.details) == ("salle_des_fetes", "Place de l'église")
    add_user(app, "sophie", "travailleur_social")
    tablet = Tablet(app.test_client(), "sophie")
    assert tablet.pull()["reference"]["sites"] == [{"value": "salle_des_fetes",
                                                    "label": "Salle des fêtes"}]
    session = item("permanence.session", {"site": "salle_des_fetes", "date": "2026-11-20",
                                          "heure_debut": "14:00", "intervenants": "Sophie"})
    tablet.push(session)

    admin.post("/admin/listes/sites/salle_des_fetes", {"label": "Salle polyvalente"})
    admin.post("/admin/listes/sites/salle_des_fetes/retirer")
    admin.client.get("/admin/listes")  # the page that shows the messages of the changes
    assert tablet.pull()["reference"].get("sites", []) == []
    assert "Salle polyvalente" not in admin.client.get("/saisie/permanence.session").text
    assert "Salle polyvalente" in admin.client.get(f"/fiches/{session['id']}").text
    # A record made on a tablet before the site was retired is still taken.
    [late] = tablet.push(item("permanence.session", {**session["data"], "date": "2026-11-21"}))
    assert late["status"] == "created"
    admin.post("/admin/listes/sites/salle_des_fetes/remettre")
    assert "Salle polyvalente" in admin.client.get("/saisie/permanence.session").text


@pytest.mark.parametrize(("url", "data", "message"), [
    ("/admin/listes/lieux", {"label": " "}, "Donnez un nom."),
    ("/admin/listes/lieux", {"label": "parvis de la GARE"}, "est déjà dans la liste"),
    ("/admin/listes/lieux/parvis_de_la_gare", {"label": ""}, "Donnez un nom."),
], ids=["empty", "twice", "rename-empty"])
def test_a_bad_entry_is_refused_in_french(app, admin, url, data, message):
    admin.post("/admin/listes/lieux", {"label": "Parvis de la gare"})
    answer = admin.post(url, data)
    assert answer.status_code == 400 and message in answer.text
    with app.app_context():
        assert [e.label for e in db.session.scalars(select(ReferenceItem))] == [
            "Parvis de la gare"]


def test_unknown_lists_and_entries_are_404(admin):
    assert admin.post("/admin/listes/inconnue", {"label": "X"}).status_code == 404
    assert admin.post("/admin/listes/sites/rien/retirer").status_code == 404


def test_a_lieu_named_on_a_tablet_is_offered_to_every_team_after_it_syncs(app, auth):
    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    lea, sami = Tablet(app.test_client(), "lea"), Tablet(app.test_client(), "sami")
    named = item("maraude.lieu", {"nom": "Parking du Leclerc", "secteur": "Nord",
                                  "reperes": "Derrière la station de lavage."})
    assert lea.push(named)[0]["status"] == "created"
    # Named again by another team before the first sync reached them: one entry.
    sami.push(item("maraude.lieu", {"nom": "parking du leclerc"}))
    assert sami.pull()["reference"]["lieux"] == [{"value": "parking_du_leclerc",
                                                  "label": "Parking du Leclerc"}]
    with app.app_context():
        [entry] = db.session.scalars(select(ReferenceItem))
        assert entry.details == "Nord — Derrière la station de lavage."
    auth.login("maraude")
    form = auth.client.get("/saisie/maraude.rencontre").text
    assert '<option value="Parking du Leclerc">' in form


ROUTES = [
    ("get", "/admin/formulaires"), ("get", "/admin/formulaires/maraude.tournee"),
    ("get", "/admin/formulaires/maraude.tournee/champs/secteur"),
    ("post", "/admin/formulaires/maraude.tournee/champs"),
    ("post", "/admin/formulaires/maraude.tournee/ordre"),
    ("post", "/admin/formulaires/maraude.tournee/champs/meteo/retirer"),
    ("post", "/admin/formulaires/maraude.tournee/champs/meteo/remettre"),
    ("post", "/admin/formulaires/maraude.tournee/champs/secteur"),
    ("post", "/admin/formulaires/maraude.tournee/champs/meteo/choix"),
    ("post", "/admin/formulaires/maraude.tournee/champs/meteo/choix/pluie"),
    ("post", "/admin/formulaires/maraude.tournee/champs/meteo/choix/pluie/retirer"),
    ("get", "/admin/listes"), ("post", "/admin/listes/sites"),
    ("post", "/admin/listes/sites/x"), ("post", "/admin/listes/sites/x/retirer"),
    ("post", "/admin/listes/sites/x/remettre"),
]


@pytest.mark.parametrize("role", ["maraude", "visiteur", "travailleur_social", "coordinateur"])
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_only_the_admin_changes_forms_and_lists(app, auth, role, method, url):
    auth.login(role)
    answer = auth.post(url, {"label": "X"}) if method == "post" else auth.client.get(url)
    assert answer.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(FormVersion)) is None
        assert db.session.scalar(select(ReferenceItem)) is None


@pytest.mark.parametrize(("method", "url"), ROUTES[:2] + ROUTES[11:12])
def test_nobody_logged_in_is_led_to_the_login_page(client, method, url):
    answer = getattr(client, method)(url)
    assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]


def test_an_alert_kind_the_admin_adds_to_the_visite_is_named_in_the_inbox(app, admin):
    from datetime import date

    from tests.sync_helpers import personne

    admin.post("/admin/formulaires/visite.visite/champs/alerte/choix",
               {"label": "Logement insalubre"})
    add_user(app, "vera", "visiteur")
    tablet = Tablet(app.test_client(), "vera")
    senior = item("personne", personne())
    visite = item("visite.visite", {
        "personne": senior["id"], "date": date.today().isoformat(), "mode": "domicile",
        "personne_vue": "oui", "alerte": "logement_insalubre",
        "detail_alerte": "Moisissures dans la chambre."}, form_version=2)
    assert [r["status"] for r in tablet.push(senior, visite)] == ["created", "created"]
    inbox = admin.client.get("/alertes").text
    assert "Logement insalubre" in inbox and "logement_insalubre" not in inbox
    [alert] = tablet.pull()["alerts"]
    assert alert["data"]["kind_label"] == "Logement insalubre"
