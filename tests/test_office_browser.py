"""The office's screens in real Chromium, on a tablet and on a phone (issue 15): the plan board
refreshes without a script error, "Clore le plan" stands apart and asks first, saying how many
people were not reached; and the field's "Mes alertes" names the person each alert is about."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.core.db import db
from outreach.register.models import AlertPlan
from tests.conftest import VIEWPORTS, AuthActions, add_user, wait_until
from tests.sync_helpers import Tablet, item
from tests.test_offline import log_in
from tests.test_plans import REGISTRATION, calls_of, open_plan, outcome

pytestmark = pytest.mark.browser
SYNCED = "window.outreach.sync().then((result) => result.sent === 0)"


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, browser):
    """A fresh context at the tablet's or the phone's size; the page's script errors collected."""
    context = browser.new_context(locale="fr-FR", viewport=VIEWPORTS[request.param])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A resource the browser asks for by itself (the favicon) is not the page's script.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None)
    page.errors = errors
    yield page
    context.close()


@pytest.fixture
def plan(app):
    """Three people on the register and a plan open, all calls given to Ana; return her tablet."""
    ana = add_user(app, "ana", "visiteur")
    add_user(app, "claire", "coordinateur")
    Tablet(app.test_client(), "claire").push(*(
        item("registre.inscription", {**REGISTRATION, "nom": nom}, form_version=2)
        for nom in ("Durand", "Martin", "Petit")))
    desk = AuthActions(app, app.test_client())
    desk.login("claire")
    assert open_plan(desk, [ana]).status_code == 302
    return Tablet(app.test_client(), "ana")


def the_plan(app) -> AlertPlan:
    with app.app_context():
        found = db.session.scalar(select(AlertPlan))
        db.session.expunge(found)
        return found


def test_the_board_refreshes_without_a_script_error_and_its_ids_are_unique(
        app, live_server, screen, plan):
    app.config["PLAN_BOARD_REFRESH_MS"] = 300
    page = screen
    log_in(page, live_server.url, "claire")
    page.goto(f"{live_server.url}/plans/{the_plan(app).id}")
    board = page.locator("#tableau")
    expect(board).to_contain_text("0 jointes sur 3")
    # A call comes in: the board shows it by itself, and the tablet's own sync runs meanwhile.
    call = next(iter(calls_of(plan).values()))
    plan.push(outcome(call, "premier_appel", "joint_va_bien"))
    expect(board).to_contain_text("1 jointe sur 3")
    wait_until(page, SYNCED)
    first = page.locator("[data-updated]").text_content()
    expect(page.locator("[data-updated]")).not_to_have_text(first)
    wait_until(page, SYNCED)
    expect(page.get_by_role("heading", name="Tous les appels")).to_be_visible()
    duplicates = page.evaluate("""() => {
        const ids = [...document.querySelectorAll("[id]")].map((node) => node.id);
        return ids.filter((id, at) => ids.indexOf(id) !== at);
    }""")
    assert duplicates == []
    assert page.errors == []


def test_closing_the_plan_stands_apart_and_asks_first(app, live_server, screen, plan):
    page = screen
    log_in(page, live_server.url, "claire")
    page.goto(f"{live_server.url}/plans/{the_plan(app).id}")
    series = page.get_by_role("button", name="Nouvelle série d'appels")
    closing = page.get_by_role("link", name="Clore le plan…")
    expect(page.get_by_role("heading", name="Fin de l'épisode")).to_be_visible()
    colour = "(node) => getComputedStyle(node).backgroundColor"
    assert closing.evaluate(colour) == "rgb(163, 18, 11)"
    assert series.evaluate(colour) != closing.evaluate(colour)
    assert closing.bounding_box()["y"] - (series.bounding_box()["y"]
                                          + series.bounding_box()["height"]) >= 60

    closing.click()
    expect(page.get_by_role("heading", name="Clore le plan ?")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "3 personnes sur 3 n'ont pas été jointes : 3 pas encore appelées")
    page.get_by_role("link", name="Revenir au tableau").click()
    expect(page.locator("#tableau")).to_contain_text("0 jointes sur 3")
    assert the_plan(app).closed_at is None

    page.get_by_role("link", name="Clore le plan…").click()
    page.get_by_role("button", name="Clore le plan quand même").click()
    expect(page.locator("main")).to_contain_text("Plan clos le")
    assert the_plan(app).closed_at is not None
    assert page.errors == []


def test_mes_alertes_names_the_person_each_alert_is_about(app, live_server, browser):
    add_user(app, "vera", "visiteur")
    vera = Tablet(app.test_client(), "vera")
    jeanne = item("personne", {"niveau": "alias", "alias_prenom": "Jeanne"}, form_version=2)
    fall = item("visite.visite", {"personne": jeanne["id"], "date": "2026-11-20",
                                  "mode": "domicile", "personne_vue": "oui", "alerte": "chute",
                                  "detail_alerte": "Chute au salon."})
    assert [r["status"] for r in vera.push(jeanne, fall)] == ["created", "created"]
    context = browser.new_context(locale="fr-FR", viewport=VIEWPORTS["telephone"])
    page = context.new_page()
    log_in(page, live_server.url, "vera")
    wait_until(page, SYNCED)
    expect(page.locator("#mes-alertes")).to_contain_text("Chute — Jeanne")
    expect(page.locator("#mes-alertes")).to_contain_text("Nouvelle : pas encore prise en charge")
    context.close()
