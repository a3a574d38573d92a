"""Forms on the tablet, in a real Chromium: drawn from the definitions the pull brought, and
stored records changed with the revision they were read at."""

import json
import shutil

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.catalog import reference_values
from outreach.core.db import db
from outreach.core.forms import FORMS_DIR, FormRegistry, load_definitions
from sync.push import Actor, apply_batch
from sync.schema import record_conflict
from tests.conftest import add_user, stored_records, wait_until
from tests.test_offline import FORM, fill_tournee, log_in, ready_offline

pytestmark = pytest.mark.browser
HOLDS_VERSION_2 = """import('/static/js/store.js')
  .then((store) => store.formVersions('maraude.tournee'))
  .then((versions) => versions.some((definition) => definition.version === 2))"""


def deploy_tournee_version_2(app, folder):
    """Put a version 2 of the tournée form in place, as a deploy with a new definition does."""
    shutil.copytree(FORMS_DIR, folder)
    definition = json.loads((folder / "maraude.tournee.v1.json").read_text())
    definition["version"] = 2
    definition["fields"].insert(4, {
        "key": "benevoles", "label": "Nombre de bénévoles", "type": "counter",
        "required": True, "min": 1, "max": 20,
    })
    (folder / "maraude.tournee.v2.json").write_text(json.dumps(definition, ensure_ascii=False))
    with app.app_context():
        app.extensions["outreach.forms"] = FormRegistry(load_definitions(folder), reference_values)



def test_a_form_changed_while_away_opens_offline_in_its_newest_version(
    app, live_server, page, tmp_path
):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, FORM)

    # The office changes the form; the tablet's next sync brings the new version, not the page.
    deploy_tournee_version_2(app, tmp_path / "formulaires")
    page.evaluate("window.outreach.sync()")
    wait_until(page, HOLDS_VERSION_2)

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Tournée de maraude")).to_be_visible()
    new_field = page.get_by_label("Nombre de bénévoles")
    expect(new_field).to_be_visible()
    # The new field is checked like the others, in French, beside it.
    page.get_by_label("Date", exact=True).fill("2026-11-20")
    page.get_by_label("Heure de départ").fill("20:30")
    page.get_by_label("Secteur").fill("Gare et quais")
    page.get_by_label("Équipe").fill("Léa, Sami")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreur-benevoles")).to_have_text("Ce champ est obligatoire.")
    new_field.fill("3")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    page.context.set_offline(False)
    page.evaluate("window.outreach.sync()")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [record] = stored_records(app, "maraude.tournee")
    assert record.form_version == 2
    assert record.data["benevoles"] == 3


def test_a_stored_record_is_changed_and_a_change_made_meanwhile_becomes_a_conflict(
    app, live_server, page
):
    lea = add_user(app, "lea", "maraude")
    coordinator = add_user(app, "claire", "coordinateur")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    fill_tournee(page, "Gare et quais")
    page.evaluate("window.outreach.sync()")  # waits for the sync the save started
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [record] = stored_records(app, "maraude.tournee")

    # Changed from "Vos dernières fiches": the same record, one revision further.
    page.goto(live_server.url)
    page.get_by_role("link", name="Modifier").first.click()
    expect(page.get_by_text("Modification de la fiche du")).to_be_visible()
    expect(page.get_by_label("Secteur")).to_have_value("Gare et quais")
    page.get_by_label("Secteur").fill("Centre-ville")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    page.evaluate("window.outreach.sync()")  # waits for the sync the save started
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [changed] = stored_records(app, "maraude.tournee")
    assert (changed.id, changed.revision, changed.data["secteur"]) == (record.id, 2, "Centre-ville")
    assert changed.recorded_by == lea

    # Meanwhile the coordinateur corrects it at the office; the tablet, offline, changes it again
    # from the page it holds: the server keeps both and a coordinateur decides.
    with app.app_context():
        office = Actor(id=coordinator, role="coordinateur", office=True)
        item = {"id": record.id, "form": record.form, "form_version": 1,
                "parent_id": None, "recorded_at": changed.recorded_at.isoformat(),
                "base_revision": 2, "data": {**changed.data, "secteur": "Nord"}}
        from outreach.core.catalog import engine_forms

        [result] = apply_batch(db.session, office, None, [item], engine_forms()).results
        assert result["status"] == "updated"
    page.context.set_offline(True)
    page.get_by_label("Secteur").fill("Sud")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    page.context.set_offline(False)
    page.evaluate("window.outreach.sync()")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [kept] = stored_records(app, "maraude.tournee")
    assert (kept.revision, kept.data["secteur"]) == (3, "Nord")
    with app.app_context():
        conflict = db.session.execute(select(record_conflict)).mappings().one()
    assert conflict["data"]["secteur"] == "Sud"
    page.goto(f"{live_server.url}/a-corriger")
    expect(page.get_by_text("Une version plus récente existe")).to_be_visible()


def test_a_rencontre_rapide_is_saved_offline_in_a_few_taps_under_its_tournee(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}{FORM}")
    ready_offline(page, "/saisie/maraude.rencontre/rapide")
    fill_tournee(page, "Gare et quais")
    page.evaluate("window.outreach.sync()")  # waits for the sync the save started
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    [tournee] = stored_records(app, "maraude.tournee")

    # In the cold, with no network: the count, what was given, one save, and the encounter is kept.
    # (Issue 15: each prestation tapped used to save an encounter of its own.)
    page.context.set_offline(True)
    page.get_by_role("link", name="Rencontre rapide").click()
    expect(page.get_by_role("heading", name="Rencontre rapide")).to_be_visible()
    expect(page.get_by_label("Lieu")).to_have_value("Gare et quais")
    page.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Boisson chaude").click()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_have_text(
        "Fiche enregistrée : 2 personnes, boisson chaude.")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")
    # The next one starts at one person again, with nothing chosen.
    page.get_by_role("button", name="Duvet").click()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_have_text(
        "Fiche enregistrée : 1 personne, duvet / couverture.")

    page.context.set_offline(False)
    expect(page.get_by_role("button", name="Annuler")).to_be_hidden()  # the last one goes
    page.evaluate("window.outreach.sync()")
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")
    quick = sorted(stored_records(app, "maraude.rencontre"),
                   key=lambda r: r.data["nombre_personnes"])
    assert [(r.parent_id, r.data["nombre_personnes"], r.data["prestations"], r.data["niveau"],
             r.data["lieu"]["label"]) for r in quick] == [
        (tournee.id, 1, ["duvet"], "anonyme", "Gare et quais"),
        (tournee.id, 2, ["boisson_chaude"], "anonyme", "Gare et quais"),
    ]


def test_a_rencontre_rapide_without_a_place_asks_for_it_and_keeps_nothing(app, live_server, page):
    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}/saisie/maraude.rencontre/rapide")
    page.get_by_role("button", name="Repas").click()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Indiquez le lieu")
    expect(page.get_by_label("Lieu")).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("Aucune fiche en attente")


def test_the_team_s_known_people_are_there_offline_with_their_last_encounter(
    app, live_server, page
):
    add_user(app, "lea", "maraude")
    add_user(app, "sami", "maraude")
    from tests.sync_helpers import Tablet, item, rencontre

    momo = item("personne", {"niveau": "alias", "alias_prenom": "Momo",
                             "notes": "Accompagné d'un chien."})
    Tablet(app.test_client(), "sami").push(momo, item(data=rencontre(
        niveau="alias", personne=momo["id"], besoins=["hebergement"], prestations=["duvet"])))
    log_in(page, live_server.url, "lea")
    known = page.locator("#personnes-connues")
    expect(known.get_by_role("heading", name="Momo")).to_be_visible()
    ready_offline(page, "/")
    page.context.set_offline(True)
    page.reload()
    expect(known).to_contain_text("Accompagné d'un chien.")
    expect(known).to_contain_text("Parvis de la gare")
    expect(known).to_contain_text("Besoins : Hébergement / mise à l'abri.")
    expect(known).to_contain_text("Remis : Duvet / couverture.")
