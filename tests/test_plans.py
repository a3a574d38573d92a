"""Alert plans (issue 8): opening a plan gives out calls, tablets record outcomes, the board
follows, the préfet gets the register only while a plan is open — and who may do what."""

import csv
import html
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from outreach.alerts.models import Alert
from outreach.core.db import db
from outreach.core.models import AuditEvent
from outreach.register import alert_plans
from outreach.register.models import AlertPlan, CallTask
from sync.schema import record, record_conflict
from tests.conftest import add_user, csrf_from
from tests.sync_helpers import Tablet, item

REGISTRATION = {"nom": "Durand", "prenoms": "Marie", "date_naissance": "1941-06-02",
                "categorie": "65_ans_plus", "adresse": "3 rue des Lilas",
                "telephone": "05 55 12 34 56", "contact_urgence": "Claire, sa fille",
                "telephone_urgence": "06 12 34 56 78", "date_demande": "2026-05-10",
                "demandeur": "personne"}
PEOPLE = [("Durand", "Nord"), ("Martin", "Nord"), ("Petit", "Nord"), ("Roux", "Sud"),
          ("Blanc", "Sud"), ("Garnier", None)]


def registration(nom: str, secteur: str | None, **changes) -> dict:
    data = {**REGISTRATION, "nom": nom, **changes}
    if secteur:
        data["secteur"] = secteur
    return item("registre.inscription", data, form_version=2)


@pytest.fixture
def office(app, auth):
    """Six people on the register (one withdrawn more), two agents, the coordinateur logged in."""
    ids = {"ana": add_user(app, "ana", "visiteur"), "bob": add_user(app, "bob", "maraude")}
    auth.login("coordinateur")
    desk = Tablet(app.test_client(), "coordinateur")
    desk.push(*(registration(nom, secteur) for nom, secteur in PEOPLE),
              registration("Retiré", "Nord", date_retrait="2026-09-01"))
    return ids


def open_plan(auth, agents, **changes):
    form = {"kind": "canicule", "level": "Niveau 3 — alerte canicule", "starts_on": "2026-07-01",
            "message": "Buvez de l'eau, fermez les volets.", "sharing": "secteur",
            "agents": [str(a) for a in agents], "csrf_token": auth.csrf_token, **changes}
    return auth.client.post("/plans/nouveau", data=form)


def the_plan(app) -> AlertPlan:
    with app.app_context():
        plan = db.session.scalar(select(AlertPlan))
        db.session.expunge_all()
        return plan


def calls_of(tablet: Tablet) -> dict[str, dict]:
    """Pull until done; return the calls kind by person name (tombstones as None by id)."""
    got, cursor = {}, None
    while True:
        page = tablet.pull(cursor)
        for call in page["calls"]:
            got[call["id"]] = None if call.get("deleted") else call
        cursor = page["cursor"]
        if not page["more"]:
            return {c["data"]["name"]: c for c in got.values() if c} | {
                k: None for k, v in got.items() if v is None}


def outcome(call: dict, step: str, issue: str, **data) -> dict:
    return item("plan.appel", {"plan": call["data"]["plan_id"], "tache": call["id"],
                               "etape": step, "issue": issue, **data},
                id=call["data"]["step_ids"][step])


def test_share_keeps_a_secteur_with_one_agent_and_spreads_the_rest():
    secteurs = ["Nord", "Nord", "nord ", "Sud", "Sud", None, None, "Est"]
    given = alert_plans.share(secteurs, [1, 2], by_secteur=True)
    assert given[0] == given[1] == given[2]          # Nord (3) to one agent, case and space aside
    assert given[3] == given[4] != given[0]          # Sud (2) to the other
    assert sorted(given).count(1) in (4, 4) and sorted(given).count(2) == 4
    assert alert_plans.share(secteurs, [1, 2, 3], by_secteur=False) == [1, 2, 3, 1, 2, 3, 1, 2]


def test_a_plan_opened_with_no_agent_is_refused_beside_the_field(app, auth, office):
    answer = open_plan(auth, [])
    assert answer.status_code == 400
    assert "Choisissez au moins un agent pour passer les appels." in answer.text
    assert 'aria-describedby="erreur-agents"' in answer.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AlertPlan)) == 0
        assert db.session.scalar(select(func.count()).select_from(CallTask)) == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"level": " "}, "Indiquez le niveau"),
    ({"message": ""}, "Écrivez le message à lire à chaque appel."),
    ({"starts_on": "1er juillet"}, "Date de début attendue (AAAA-MM-JJ)."),
    ({"sharing": "au hasard"}, "Choisissez comment répartir les appels."),
])
def test_a_bad_plan_request_says_what_to_fix_and_saves_nothing(app, auth, office, changes,
                                                               message):
    answer = open_plan(auth, office.values(), **changes)
    assert answer.status_code == 400 and message in answer.text
    assert the_plan(app) is None


def test_an_empty_register_opens_no_plan(app, auth):
    agent = add_user(app, "ana", "visiteur")
    auth.login("coordinateur")
    answer = open_plan(auth, [agent])
    assert answer.status_code == 400 and "le registre est vide" in answer.text


def test_opening_gives_one_call_per_registered_person_shared_by_secteur(app, auth, office):
    assert open_plan(auth, office.values()).status_code == 302
    plan = the_plan(app)
    with app.app_context():
        tasks = db.session.scalars(select(CallTask)).all()
        by_secteur = {}
        for task in tasks:
            by_secteur.setdefault(task.secteur, set()).add(task.agent_id)
    assert len(tasks) == 6                                   # the withdrawn person is not called
    assert len(by_secteur["Nord"]) == len(by_secteur["Sud"]) == 1
    assert by_secteur["Nord"] != by_secteur["Sud"]
    # One plan at a time: the tablets show its calls.
    again = open_plan(auth, office.values())
    assert again.status_code == 400 and "est encore ouvert" in again.text
    board = auth.client.get(f"/plans/{plan.id}").text
    assert "<strong>6</strong> personnes à appeler" in board
    assert "<strong>6</strong> pas encore appelées" in board


def test_each_agent_pulls_only_their_calls_with_what_a_call_needs(app, auth, office):
    open_plan(auth, office.values())
    ana, bob = Tablet(app.test_client(), "ana"), Tablet(app.test_client(), "bob")
    ana_calls, bob_calls = calls_of(ana), calls_of(bob)
    assert len(ana_calls) + len(bob_calls) == 6
    assert not set(ana_calls) & set(bob_calls)
    durand = (ana_calls | bob_calls)["DURAND Marie"]["data"]
    assert durand["phone"] == "05 55 12 34 56" and durand["address"] == "3 rue des Lilas"
    assert durand["contact"] == "Claire, sa fille" and durand["contact_phone"] == "06 12 34 56 78"
    assert durand["message"] == "Buvez de l'eau, fermez les volets."
    assert durand["status"] == "a_appeler" and set(durand["step_ids"]) == set(alert_plans.STEPS)
    assert durand["category"] == "Personne âgée de 65 ans et plus"
    # A field agent never reads the register itself.
    assert ana.client.get("/registre").status_code == 403


def _agent_with_calls(app, office):
    for login in ("ana", "bob"):
        tablet = Tablet(app.test_client(), login)
        calls = calls_of(tablet)
        if calls:
            return tablet, calls
    raise AssertionError("no agent got calls")


def test_two_unanswered_calls_lead_to_the_person_to_alert_then_to_an_alert(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    name, call = next(iter(calls.items()))
    assert tablet.push(outcome(call, "premier_appel", "pas_de_reponse"))[0]["status"] == "created"
    assert calls_of(tablet)[name]["data"]["status"] == "a_rappeler"
    tablet.push(outcome(call, "second_appel", "pas_de_reponse"))
    assert calls_of(tablet)[name]["data"]["status"] == "personne_a_prevenir"
    board = auth.client.get(f"/plans/{call['data']['plan_id']}").text
    assert "Pas joints après deux appels (1)" in board and name in board
    tablet.push(outcome(call, "personne_a_prevenir", "pas_de_reponse"))
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        assert alert.kind == "injoignable" and alert.form == "plan.appel"
        assert "Visite à domicile à faire : 3 rue des Lilas" in alert.detail
    inbox = auth.client.get("/alertes").text
    assert "Injoignable pendant un plan d&#39;alerte" in inbox
    # The same call sent again (a lost answer, a second tablet) is one record, one alert.
    assert tablet.push(outcome(call, "personne_a_prevenir", "pas_de_reponse"))[0]["status"] \
        == "unchanged"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_need_found_waits_on_the_board_until_its_follow_up(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    name, call = next(iter(calls.items()))
    tablet.push(outcome(call, "premier_appel", "joint_besoin", besoins=["eau"],
                        precision="Pack d'eau demain"))
    plan_id = call["data"]["plan_id"]
    board = auth.client.get(f"/plans/{plan_id}").text
    assert "Besoins signalés (1, dont 1 à traiter)" in board and "Pack d&#39;eau demain" in board
    assert "<strong>1</strong> jointe" in board
    empty = auth.client.post(f"/plans/{plan_id}/appels/{call['id']}/suite",
                             data={"note": " ", "csrf_token": auth.csrf_token})
    assert empty.status_code == 302
    auth.client.post(f"/plans/{plan_id}/appels/{call['id']}/suite",
                     data={"note": "Eau portée par Léa à 16 h", "csrf_token": auth.csrf_token})
    board = auth.client.get(f"/plans/{plan_id}?partiel=1").text
    assert "Eau portée par Léa à 16 h" in board and "<strong>0</strong> besoins à traiter" in board
    # A need without saying which is refused beside the field, alone.
    _, second = list(calls.items())[1]
    [refused] = tablet.push(outcome(second, "premier_appel", "joint_besoin"))
    assert refused["status"] == "rejected" and "besoins" in refused["errors"]


def test_calls_that_do_not_match_a_task_are_refused(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    call = next(iter(calls.values()))
    wrong_id = outcome(call, "premier_appel", "joint_va_bien")
    wrong_id["id"] = call["data"]["step_ids"]["second_appel"]
    unknown = outcome(call, "premier_appel", "joint_va_bien")
    unknown["data"]["tache"] = "00000000-0000-4000-8000-000000000000"
    results = tablet.push(wrong_id, unknown)
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "Identifiant d'appel inattendu" in results[0]["errors"]["id"][0]
    assert "aucun appel d'un plan" in results[1]["errors"]["tache"][0]
    # Someone the call was never given to may not record it.
    add_user(app, "zoe", "visiteur")
    [refused] = Tablet(app.test_client(), "zoe").push(outcome(call, "premier_appel",
                                                                "joint_va_bien"))
    assert refused["status"] == "rejected"
    assert refused["errors"]["tache"] == ["Cet appel n'a pas été confié à votre compte."]


def test_a_call_given_to_another_agent_moves_and_two_outcomes_make_a_conflict(app, auth, office):
    open_plan(auth, office.values())
    ana, bob = Tablet(app.test_client(), "ana"), Tablet(app.test_client(), "bob")
    ana_calls = calls_of(ana)
    calls_of(bob)
    name, call = next(iter(ana_calls.items()))
    plan_id = call["data"]["plan_id"]
    given = auth.client.post(f"/plans/{plan_id}/appels/{call['id']}/agent",
                             data={"agent": office["bob"], "csrf_token": auth.csrf_token})
    assert given.status_code == 302
    assert calls_of(ana)[call["id"]] is None                 # gone from Ana's tablet
    assert calls_of(bob)[name]["id"] == call["id"]           # on Bob's
    # Ana called before her tablet learned it; Bob calls too and hears otherwise.
    assert ana.push(outcome(call, "premier_appel", "joint_va_bien"))[0]["status"] == "created"
    [second] = bob.push(outcome(call, "premier_appel", "pas_de_reponse"))
    assert second["status"] == "conflict"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(record_conflict)) == 1
        assert db.session.scalar(select(func.count()).select_from(record).where(
            record.c.form == "plan.appel")) == 1
    board = auth.client.get(f"/plans/{plan_id}").text
    assert "noté autrement par deux agents" in board and "/conflits" in board
    # The coordinateur hears from both and keeps Bob's: the call follows, the board is clear.
    with app.app_context():
        conflict = db.session.scalar(select(record_conflict.c.id))
    page = auth.client.get(f"/conflits/{conflict}")
    assert page.status_code == 200
    kept = auth.client.post(f"/conflits/{conflict}", data={
        "version": "nouvelle", "revision": "1", "csrf_token": auth.csrf_token})
    assert kept.status_code == 302
    assert calls_of(bob)[name]["data"]["status"] == "a_rappeler"
    board = auth.client.get(f"/plans/{plan_id}").text
    assert "noté autrement" not in board and "<strong>0</strong> jointe" in board


def test_closing_asks_first_saying_who_was_not_reached_and_refuses_unconfirmed(app, auth,
                                                                               office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    call = next(iter(calls.values()))
    tablet.push(outcome(call, "premier_appel", "joint_va_bien"))
    plan_id = call["data"]["plan_id"]
    board = html.unescape(auth.client.get(f"/plans/{plan_id}").text)
    assert 'class="button danger"' in board and f"/plans/{plan_id}/clore" in board
    asked = html.unescape(auth.client.get(f"/plans/{plan_id}/clore").text)
    assert "5 personnes sur 6 n'ont pas été jointes" in asked
    assert 'name="confirme" value="oui"' in asked and "Clore le plan quand même" in asked
    assert the_plan(app).closed_at is None
    # A close without its confirmation (a page kept from before, a stray request) is refused.
    refused = auth.post(f"/plans/{plan_id}/clore")
    assert refused.status_code == 400 and "Le plan n'est pas clos" in html.unescape(refused.text)
    assert the_plan(app).closed_at is None and calls_of(tablet)
    closed = auth.post(f"/plans/{plan_id}/clore", {"confirme": "oui"})
    assert closed.status_code == 302 and the_plan(app).closed_at is not None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "plan.close")) == 1


def test_closing_keeps_the_figures_and_takes_the_calls_off_the_tablets(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    call = next(iter(calls.values()))
    tablet.push(outcome(call, "premier_appel", "joint_va_bien"))
    plan_id = call["data"]["plan_id"]
    auth.client.post(f"/plans/{plan_id}/clore", data={"csrf_token": auth.csrf_token,
                                                       "confirme": "oui"})
    plan = the_plan(app)
    assert plan.closed_at is not None and plan.figures["all"]["reached"] == 1
    assert plan.figures["all"]["total"] == 6 and plan.figures["all"]["calls"] == 1
    assert all(value is None for value in calls_of(tablet).values())
    # A registration added later changes nothing in the closed plan's figures.
    Tablet(app.test_client(), "coordinateur").push(registration("Nouveau", "Sud"))
    board = auth.client.get(f"/plans/{plan_id}").text
    assert "<strong>6</strong> personnes à appeler" in board and "Plan clos le" in board
    assert "jointe sur 6" in auth.client.get("/plans").text
    # A new plan may now be opened.
    assert open_plan(auth, office.values()).status_code == 302


def test_a_corrected_phone_reaches_the_tablet_during_the_plan(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    name = next(iter(calls))
    with app.app_context():
        entry = db.session.scalar(select(record.c.id).where(
            record.c.form == "registre.inscription", record.c.data["nom"].as_string()
            == name.split()[0].title()))
    page = auth.client.get(f"/registre/{entry}")
    assert page.status_code == 200
    desk = Tablet(app.test_client(), "coordinateur")
    changed = registration(name.split()[0].title(), None, telephone="05 55 99 99 99")
    changed["id"], changed["base_revision"] = entry, 1
    assert desk.push(changed)[0]["status"] == "updated"
    assert calls_of(tablet)[name]["data"]["phone"] == "05 55 99 99 99"


def test_the_prefect_gets_the_register_only_while_a_plan_is_open_and_it_is_logged(app, auth,
                                                                                  office):
    open_plan(auth, office.values())
    plan = the_plan(app)
    url = f"/plans/{plan.id}/prefet"
    page = auth.client.get(url)
    assert page.status_code == 200 and "Motif de la transmission" in page.text
    refused = auth.client.post(url, data={"format": "csv", "motif": "",
                                          "csrf_token": auth.csrf_token})
    assert refused.status_code == 400 and "Indiquez le motif" in refused.text
    answer = auth.client.post(url, data={"format": "csv", "motif": "Demande préfecture du 01/07",
                                         "csrf_token": auth.csrf_token})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeffNom;Prénoms;Date de naissance;Qualité")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 1 + 6                                   # no withdrawn person
    assert rows[1][:4] == ["BLANC", "Marie", "02/06/1941", "Personne âgée de 65 ans et plus"]
    printed = auth.client.post(url, data={"format": "page", "motif": "Relance préfecture",
                                          "csrf_token": auth.csrf_token})
    assert "Document confidentiel : 6 personnes" in printed.text
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "register.prefect_export").order_by(AuditEvent.id)).all()
        assert [e.details["motif"] for e in events] == ["Demande préfecture du 01/07",
                                                        "Relance préfecture"]
        assert all(e.user_id == auth.user("coordinateur") for e in events)
    assert "Demande préfecture du 01/07" in auth.client.get(url).text
    auth.client.post(f"/plans/{plan.id}/clore", data={"csrf_token": auth.csrf_token,
                                                      "confirme": "oui"})
    closed = auth.client.post(url, data={"format": "csv", "motif": "Après coup",
                                         "csrf_token": auth.csrf_token})
    assert closed.status_code == 409 and "Ce plan est clos" in closed.text


def test_seniors_of_the_visit_planning_can_be_called_too(app, auth, office):
    senior = item("personne", {"niveau": "alias", "alias_prenom": "Lucienne",
                               "telephone": "05 55 00 11 22"})
    assert Tablet(app.test_client(), "coordinateur").push(senior)[0]["status"] == "created"
    form = auth.client.get("/planning/affecter")
    assigned = auth.client.post("/planning/affecter", data={
        "personne": senior["id"], "visiteur": office["ana"], "rythme": "hebdomadaire",
        "mode": "telephone", "debut": "2026-07-01", "csrf_token": csrf_from(form.text)})
    assert assigned.status_code == 302
    open_plan(auth, office.values(), with_visited="1")
    with app.app_context():
        tasks = db.session.scalars(select(CallTask)).all()
    assert len(tasks) == 7 and any(t.person_id == senior["id"] for t in tasks)
    called = {**calls_of(Tablet(app.test_client(), "ana")),
              **calls_of(Tablet(app.test_client(), "bob"))}
    assert called["Lucienne"]["data"]["phone"] == "05 55 00 11 22"


PLAN_ROUTES = [("get", "/plans"), ("get", "/plans/nouveau"), ("post", "/plans/nouveau"),
               ("get", "/plans/{plan}"), ("get", "/plans/{plan}?partiel=1"),
               ("get", "/plans/{plan}/clore"), ("post", "/plans/{plan}/clore"),
               ("post", "/plans/{plan}/nouvelle-serie"),
               ("post", "/plans/{plan}/appels/{task}/agent"),
               ("post", "/plans/{plan}/appels/{task}/suite"), ("get", "/plans/{plan}/prefet"),
               ("post", "/plans/{plan}/prefet")]


@pytest.mark.parametrize("role", ["visiteur", "maraude", "travailleur_social"])
@pytest.mark.parametrize(("method", "path"), PLAN_ROUTES)
def test_only_the_office_reaches_the_plans(app, auth, office, role, method, path):
    open_plan(auth, office.values())
    with app.app_context():
        task = db.session.scalar(select(CallTask.id))
    url = path.format(plan=the_plan(app).id, task=task)
    auth.logout()
    auth.login(role)
    answer = getattr(auth.client, method)(url, data={"csrf_token": auth.csrf_token})
    assert answer.status_code == 403
    assert the_plan(app).closed_at is None


@pytest.mark.parametrize(("method", "path"), PLAN_ROUTES + [("get", "/appels")])
def test_the_plans_need_a_login(client, method, path):
    answer = getattr(client, method)(path.format(plan="x", task="y"))
    assert answer.status_code == 302 and "/connexion" in answer.location


@pytest.mark.parametrize("role", ["visiteur", "maraude", "travailleur_social", "coordinateur",
                                  "admin"])
def test_my_calls_opens_for_every_role_and_is_kept_offline(auth, client, role):
    auth.login(role)
    page = client.get("/appels")
    assert page.status_code == 200 and "Mes appels" in page.text
    assert "/appels" in client.get("/").text                 # among the pages kept offline


def test_an_admin_also_follows_plans_and_unknown_ones_are_404(auth, client):
    auth.login("admin")
    assert client.get("/plans").status_code == 200
    assert client.get("/plans/inconnu").status_code == 404


def test_a_person_who_leaves_the_register_during_the_plan_is_not_called(app, auth, office):
    open_plan(auth, office.values())
    tablet, calls = _agent_with_calls(app, office)
    name, call = next(iter(calls.items()))
    with app.app_context():
        entry = db.session.get(CallTask, call["id"]).entry_id
    auth.post(f"/registre/{entry}/retirer", {"date_retrait": "2026-07-02", "revision": "1"})
    assert calls_of(tablet)[call["id"]] is None                 # off the tablet
    board = auth.client.get(f"/plans/{call['data']['plan_id']}").text
    assert "<strong>5</strong> personnes à appeler" in board
    assert "Retiré du registre pendant le plan" in board
    assert "<strong>1</strong> retirée du registre pendant le plan" in board
    # Called anyway from a tablet that had not heard: the outcome is kept, no second call asked.
    assert tablet.push(outcome(call, "premier_appel", "pas_de_reponse"))[0]["status"] == \
        "created"
    with app.app_context():
        assert db.session.get(CallTask, call["id"]).status == "retire"
    assert name not in calls_of(tablet)


def test_a_new_series_calls_everyone_again_with_the_same_agents(app, auth, office):
    open_plan(auth, office.values())
    ana, bob = Tablet(app.test_client(), "ana"), Tablet(app.test_client(), "bob")
    first_ana, first_bob = calls_of(ana), calls_of(bob)
    name, call = next(iter(first_ana.items()))
    ana.push(outcome(call, "premier_appel", "joint_besoin", besoins=["eau"]))
    plan_id = call["data"]["plan_id"]
    # A registration made since the first series is called in the second.
    Tablet(app.test_client(), "coordinateur").push(registration("Nouveau", None))
    assert auth.post(f"/plans/{plan_id}/nouvelle-serie").status_code == 302
    second_ana, second_bob = calls_of(ana), calls_of(bob)
    assert all(second_ana.get(c["id"], "gone") is None for c in first_ana.values())
    assert set(first_ana) <= set(second_ana) and set(first_bob) <= set(second_bob)
    assert second_ana[name]["data"]["status"] == "a_appeler"
    assert second_ana[name]["id"] != call["id"]
    assert "série 2" in second_ana[name]["data"]["plan_title"]
    assert "NOUVEAU Marie" in {**second_ana, **second_bob}
    board = auth.client.get(f"/plans/{plan_id}").text
    assert "— série 2</h1>" in board and "<strong>7</strong> personnes à appeler" in board
    assert "Série 1</th><td>6</td><td>1</td>" in board
    # The need found in the first series still waits on the board.
    assert "Besoins signalés (1, dont 1 à traiter)" in board and "Série 1</span>" in board
    # A late outcome of the first series (an offline tablet) is still stored.
    other = next(c for n, c in first_ana.items() if n != name)
    assert ana.push(outcome(other, "premier_appel", "joint_va_bien"))[0]["status"] == "created"
    # Reached in both series: one person reached in the year's figures, three calls.
    ana.push(outcome(second_ana[name], "premier_appel", "joint_va_bien"))
    from zoneinfo import ZoneInfo

    from outreach.figures import facts, indicators

    with app.app_context():
        facts.catch_up(db.session, ZoneInfo("Europe/Paris"))
        got = indicators.compute_all(db.session, indicators.Period(date(2026, 11, 1),
                                                                   date(2026, 11, 30)),
                                     ZoneInfo("Europe/Paris"))
    assert (got["plans.appels"], got["plans.joints"]) == (3, 2)
    assert got["plans.besoins"] == {"eau": 1}
    auth.post(f"/plans/{plan_id}/clore", {"confirme": "oui"})
    plan = the_plan(app)
    assert [row["series"] for row in plan.figures["series"]] == [1]
    assert plan.figures["all"]["total"] == 7
