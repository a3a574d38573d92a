"""Rounds a tired agent cannot get wrong, in a real Chromium at a tablet's and a phone's size
(issue 15, findings 2, 3, 4 and 9): a senior not seen stays due, a planned permanence is held
once, a closed tournée leaves "En cours", and the planning fits a tablet in landscape."""

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.clock import today as ccas_today
from outreach.core.db import db
from outreach.core.models import ReferenceItem
from outreach.permanences.views import plan, record_id
from outreach.visits import planning
from outreach.visits.models import VisitAssignment
from tests.conftest import add_user, stored_records, wait_until
from tests.sync_helpers import Tablet, item
from tests.test_offline import log_in, ready_offline
from tests.test_visits_browser import VISIT_FORM, senior

pytestmark = pytest.mark.browser
SENT = "window.outreach.sync().then((result) => result.sent === 0)"




# --- Finding 2: a visite where the senior was not seen -------------------------------------------


def test_a_senior_not_seen_stays_en_retard_and_shows_absente_offline_and_in_the_planning(
    app, live_server, screen, browser
):
    page = screen
    vera = add_user(app, "vera", "visiteur")
    claire = add_user(app, "claire", "coordinateur")
    jeanne = senior(app, claire, "Jeanne", "Martin", adresse="12 rue des Lilas")
    with app.app_context():
        planning.assign(db.session, jeanne, vera, "hebdomadaire", "domicile",
                        date.today() - timedelta(days=10), claire)
        db.session.commit()
        due = db.session.scalar(select(VisitAssignment.next_due))

    log_in(page, live_server.url, "vera")
    visits = page.locator("#mes-visites")
    expect(visits).to_contain_text("En retard")
    ready_offline(page, VISIT_FORM)
    ready_offline(page, "/")

    # No network, at the door: nobody answers; no alert chosen.
    page.context.set_offline(True)
    visits.get_by_role("link", name="Saisir la visite").click()
    page.get_by_label("Date", exact=True).fill(date.today().isoformat())
    page.get_by_role("radio", name="À domicile", exact=True).check()
    page.get_by_role("radio", name="Absente / pas de réponse").check()
    page.get_by_role("radio", name="Aucune", exact=True).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    page.goto(live_server.url + "/")
    late = visits.locator("h3", has_text="En retard")
    expect(late).to_be_visible()
    card = visits.locator("li", has_text="Jeanne Martin")
    expect(card).to_contain_text("En retard")
    expect(card).to_contain_text("Absente / pas de réponse lors de la visite du")

    # Sent: the server keeps her due, and the next pull says the same.
    page.context.set_offline(False)
    wait_until(page, SENT)
    with app.app_context():
        assert db.session.scalar(select(VisitAssignment.next_due)) == due
    page.reload()
    wait_until(page, SENT)
    expect(card).to_contain_text("Absente / pas de réponse lors de la visite du")
    expect(card).to_contain_text("En retard")

    # The office's planning: this week says "absente", the senior is late.
    office = browser.new_context(locale="fr-FR", viewport={"width": 1180, "height": 820}).new_page()
    log_in(office, live_server.url, "claire")
    office.goto(f"{live_server.url}/planning")
    row = office.get_by_role("row", name="Jeanne Martin")
    expect(row.locator("td.this-week")).to_have_text("absente")
    expect(row).to_contain_text("(en retard)")
    expect(office.locator("ul.figures")).to_contain_text("0 visite faite cette semaine")
    office.context.close()


# --- Finding 3: a planned permanence is held once ----------------------------------------------


def test_a_saved_permanence_offers_reprendre_and_is_one_session_on_the_server(
    app, live_server, screen
):
    page = screen
    sophie = add_user(app, "sophie", "travailleur_social")
    claire = add_user(app, "claire", "coordinateur")
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls"))
        db.session.flush()
        planned, errors = plan(db.session, "tilleuls", date.today(), "09:30", "12:00", sophie,
                               None, claire, date.today())
        assert not errors
        db.session.commit()
        session_id = record_id(planned.id)

    log_in(page, live_server.url, "sophie")
    sessions = page.locator("#mes-permanences")
    expect(sessions.get_by_role("link", name="Ouvrir la permanence")).to_be_visible()
    ready_offline(page, "/saisie/permanence.session")
    ready_offline(page, "/")

    # Offline: open it, save it; the card now offers "Reprendre", not a second session.
    page.context.set_offline(True)
    sessions.get_by_role("link", name="Ouvrir la permanence").click()
    page.get_by_label("Intervenants").fill("Sophie")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    page.goto(live_server.url + "/")
    expect(sessions.get_by_role("link", name="Reprendre")).to_be_visible()
    expect(sessions.get_by_role("link", name="Ouvrir la permanence")).to_have_count(0)

    # Opened again for the same site and day (from "Remplir une fiche"): the same session.
    page.goto(f"{live_server.url}/saisie/permanence.session?site=tilleuls"
              f"&date={date.today().isoformat()}&heure_debut=09:30")
    page.get_by_label("Intervenants").fill("Sophie et Marc")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-feedback")).to_contain_text("Fiche enregistrée.")
    expect(page.get_by_role("status")).to_contain_text("1 fiche en attente")

    page.context.set_offline(False)
    wait_until(page, SENT)
    [held] = stored_records(app, "permanence.session")
    assert (held.id, held.data["intervenants"]) == (session_id, "Sophie et Marc")

    # Online after the sync (the outbox empty): the server says it is held; offline too.
    page.goto(live_server.url + "/")
    wait_until(page, SENT)
    page.reload()
    expect(sessions.get_by_role("link", name="Reprendre")).to_be_visible()
    expect(sessions.get_by_role("link", name="Ouvrir la permanence")).to_have_count(0)
    ready_offline(page, "/saisie/permanence.accueil")
    page.context.set_offline(True)
    page.reload()
    sessions.get_by_role("link", name="Reprendre").click()
    expect(page.locator("form[data-form=\"permanence.accueil\"]")).to_be_visible()
    assert f"parent={session_id}" in page.url
    assert len(stored_records(app, "permanence.session")) == 1


# --- Finding 4: a closed tournée leaves "En cours" ---------------------------------------------


def test_a_closed_tournee_leaves_en_cours_offline_and_after_the_sync(app, live_server, screen):
    page = screen
    add_user(app, "lea", "maraude")
    with app.app_context():
        day = ccas_today().isoformat()
    tournee = item("maraude.tournee", {"date": day, "heure_depart": "20:30", "secteur": "Canal",
                                       "equipe": "Léa, Sami"},
                   recorded_at=datetime.now(UTC).isoformat())
    Tablet(app.test_client(), "lea").push(tournee)
    page_of_round = f"/tournees/{tournee['id']}"

    log_in(page, live_server.url, "lea")
    in_progress = page.get_by_role("heading", name="En cours")
    expect(in_progress).to_be_visible()
    ready_offline(page, page_of_round)
    ready_offline(page, "/")

    # Offline, in the car park: closed; its page and the home (kept copies) say so.
    page.context.set_offline(True)
    page.goto(live_server.url + page_of_round)
    page.get_by_label("Heure de retour").fill("23:10")
    page.get_by_role("button", name="Clore la tournée").click()
    expect(page.locator("#close-feedback")).to_have_text("Tournée close : 0 personnes rencontrées.")
    expect(page.get_by_role("button", name="Clore la tournée")).to_be_hidden()
    page.reload()
    expect(page.locator("#close-feedback")).to_contain_text("Tournée close (retour 23:10)")
    expect(page.get_by_role("button", name="Clore la tournée")).to_be_hidden()
    expect(page.get_by_role("link", name="Nouvelle rencontre")).to_be_hidden()
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Bonjour")).to_be_visible()
    expect(in_progress).to_be_hidden()
    expect(page.get_by_role("link", name="Nouvelle rencontre")).to_have_count(0)

    # Synced and reloaded: gone from the server's "En cours"; its page closed; offline still.
    page.context.set_offline(False)
    wait_until(page, SENT)
    [closed] = stored_records(app, "maraude.tournee")
    assert closed.data["heure_retour"] == "23:10"
    page.reload()
    expect(page.get_by_role("heading", name="Bonjour")).to_be_visible()
    expect(in_progress).to_have_count(0)
    page.goto(live_server.url + page_of_round)
    expect(page.get_by_text("Tournée close (retour 23:10)")).to_be_visible()
    expect(page.get_by_role("button", name="Clore la tournée")).to_have_count(0)
    page.goto(live_server.url + "/")
    ready_offline(page, "/")
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Bonjour")).to_be_visible()
    expect(in_progress).to_have_count(0)
    expect(page.get_by_role("link", name="Nouvelle rencontre")).to_have_count(0)


# --- Finding 9: the planning on a tablet in landscape --------------------------------------------


def test_the_planning_shows_this_week_and_changer_on_a_tablet_in_landscape(
    app, live_server, browser
):
    claire = add_user(app, "claire", "coordinateur")
    vera = add_user(app, "vera", "visiteur")
    add_user(app, "victor", "visiteur")
    seniors = [senior(app, claire, name, "Dupont-Lefebvre")
               for name in ("Jeanne", "Robert", "Marcelle")]
    with app.app_context():
        for n, person in enumerate(seniors):
            planning.assign(db.session, person, vera, "quinzaine", "telephone",
                            date.today() - timedelta(days=7 * n), claire)
        db.session.commit()
    context = browser.new_context(locale="fr-FR", viewport={"width": 1180, "height": 820})
    page = context.new_page()
    log_in(page, live_server.url, "claire")
    page.goto(f"{live_server.url}/planning")
    row = page.get_by_role("row", name="Jeanne Dupont-Lefebvre")
    expect(row).to_be_visible()

    # The page itself does not scroll sideways: the weeks scroll in their own area.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1180, width
    area = page.get_by_role("region", name="Semaines de Vera")
    assert page.evaluate("(node) => node.scrollWidth > node.clientWidth", area.element_handle())

    def box(locator):
        found = locator.bounding_box()
        assert found, locator
        return found

    this_week = box(page.locator("thead th.this-week"))
    name = box(row.get_by_role("rowheader"))
    changer = box(page.get_by_role("columnheader", name="Changer"))
    view = box(area)
    # This week's column in view, between the senior's name and "Changer", neither hidden.
    assert name["x"] >= view["x"] - 1 and name["width"] > 0
    assert this_week["x"] >= name["x"] + name["width"] - 1, (this_week, name)
    assert this_week["x"] + this_week["width"] <= changer["x"] + 1, (this_week, changer)
    assert changer["x"] + changer["width"] <= 1180
    expect(row.locator("td.this-week")).to_have_text("prévue")
    # "Changer" opens that senior's forms, in view too.
    row.locator("summary", has_text="Changer").click()
    expect(row.get_by_label("Nouveau visiteur")).to_be_visible()
    move = box(row.get_by_role("button", name="Réaffecter"))
    assert move["x"] >= name["x"] + name["width"] and move["x"] + move["width"] <= 1180
    context.close()
