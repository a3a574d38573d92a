"""/alertes: the coordinateur's inbox — new, taken in charge, closed — and what the field learns."""

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from outreach.alerts.models import Alert
from outreach.alerts.views import age, alerts_for_pull
from outreach.core.db import db
from outreach.core.models import AuditEvent
from outreach.visits import planning
from tests.conftest import add_user, csrf_from
from tests.sync_helpers import Tablet, item, personne, rencontre

PERSON = "6f1c2a34-8d7e-4b5a-9c01-23456789abcd"
ROLES = ("maraude", "visiteur", "travailleur_social", "coordinateur", "admin")
OFFICE = ("coordinateur", "admin")
# What the browser posts for a visite where the senior had fallen (tests/test_entry.py POSTED).
FALL_POSTED = {
    "personne": PERSON, "date": "2026-01-16", "mode": "domicile", "personne_vue": "oui",
    "alerte": "chute", "detail_alerte": "Chute dans la salle de bains.",
    "prochaine_visite": "2026-01-23",
}


def fall(**data):
    return item("visite.visite", {"personne": PERSON, "date": "2026-11-20", "mode": "domicile",
                                  "personne_vue": "oui", "alerte": "chute",
                                  "detail_alerte": "Chute au salon.", **data})


@pytest.fixture
def raised(app):
    """An alert raised by Vera's visite to Jeanne Martin, the way it arrives: through a sync."""
    vera = add_user(app, "vera", "visiteur")
    tablet = Tablet(app.test_client(), "vera")
    tablet.push(item("personne", personne(niveau="identifie", alias_prenom="Jeanne",
                                          nom="Martin", consentement=True,
                                          date_consentement="2026-11-01"), id=PERSON))
    record = fall()
    tablet.push(record)
    with app.app_context():
        alert = db.session.scalars(select(Alert)).one()
        return {"id": alert.id, "record": record, "tablet": tablet, "vera": vera}


def inbox(client) -> str:
    """Return the inbox page as text ("à l'instant" rather than "à l&#39;instant")."""
    return html.unescape(client.get("/alertes").text)


def stored(app, alert_id):
    with app.app_context():
        found = db.session.get(Alert, alert_id)
        db.session.expunge(found)
        return found


def all_alerts(app):
    with app.app_context():
        found = list(db.session.scalars(select(Alert)))
        db.session.expunge_all()
        return found


def raised_hours_ago(app, alert_id, hours):
    with app.app_context():
        moment = datetime.now(UTC) - timedelta(hours=hours, minutes=5)
        db.session.execute(update(Alert).where(Alert.id == alert_id).values(raised_at=moment))
        db.session.commit()


# --- Alerts appear in the inbox ------------------------------------------------------------


def test_the_inbox_shows_a_new_alert_with_its_age_and_who_raised_it(app, raised, auth, client):
    raised_hours_ago(app, raised["id"], 3)
    auth.login("coordinateur")
    page = inbox(client)
    assert "Nouvelles (1)" in page and "Chute — Jeanne Martin" in page
    assert "Chute au salon." in page
    assert "Signalée il y a 3 h" in page and "par Vera" in page
    assert f'href="/fiches/{raised["record"]["id"]}">Visite de convivialité</a>' in page


def test_an_absence_alert_card_carries_what_is_needed_to_act(app, auth, client):
    # Jeanne's file has her address and phone; the person to alert is in her register entry.
    ids = {login: add_user(app, login, role) for login, role in (
        ("vera", "visiteur"), ("paul", "visiteur"), ("coordinateur", "coordinateur"))}
    Tablet(app.test_client(), "coordinateur").push(
        item("personne", personne(niveau="identifie", alias_prenom="Jeanne", nom="Martin",
                                  consentement=True, date_consentement="2026-11-01",
                                  adresse="12 rue des Lilas", telephone="05 55 00 00 01"),
             id=PERSON, form_version=2),
        item("registre.inscription", {
            "nom": "Martin", "prenoms": "Jeanne", "date_naissance": "1940-03-02",
            "categorie": "65_ans_plus", "adresse": "12 rue des Lilas",
            "telephone": "05 55 00 00 01", "contact_urgence": "Paul Martin (fils)",
            "telephone_urgence": "06 12 34 56 78",
            "date_demande": "2026-05-10", "demandeur": "personne", "personne": PERSON},
            form_version=2))
    with app.app_context():
        for visiteur in ("vera", "paul"):  # a senior may have two visiteurs
            planning.assign(db.session, PERSON, ids[visiteur], "hebdomadaire", "domicile",
                            date(2026, 11, 1), ids["coordinateur"])
        db.session.commit()
    [before] = Tablet(app.test_client(), "paul").push(fall(
        date="2026-11-13", alerte="aucune", detail_alerte=None,
        notes="Fatiguée, boit peu : à surveiller."))
    [absent] = Tablet(app.test_client(), "vera").push(fall(
        personne_vue="absente", alerte="absence_reponse", notes="Volets fermés.",
        detail_alerte="Pas de réponse à la porte ni au téléphone."))
    assert before["status"] == absent["status"] == "created"
    auth.login("coordinateur")
    page = inbox(client)
    card = page[page.index("Absence de réponse — Jeanne Martin"):page.index("Clore l'alerte")]
    assert "Adresse</dt><dd>12 rue des Lilas</dd>" in card
    assert '<a href="tel:0555000001" aria-label="Appeler Jeanne Martin : 05 55 00 00 01">' in card
    assert "Paul Martin (fils) — <a href=\"tel:0612345678\"" in card
    # The last visit before the one that raised the alert: when, by whom, what was noted.
    assert ("Dernière visite</dt><dd>le 13/11/2026 par Paul (personne vue : Oui) — "
            "« Fatiguée, boit peu : à surveiller. »") in card
    # Once closed, the card keeps its history, not the contacts.
    auth.post(f"/alertes/{all_alerts(app)[0].id}/clore", {"outcome": "Jointe chez sa fille."})
    assert "tel:0555000001" not in inbox(client)


def test_a_fall_entered_online_raises_one_alert(app, auth, client):
    auth.login("visiteur")
    assert auth.post("/saisie/visite.visite", FALL_POSTED).status_code == 302
    [alert] = all_alerts(app)
    assert (alert.kind, alert.detail) == ("chute", "Chute dans la salle de bains.")
    auth.logout()
    auth.login("coordinateur")
    page = inbox(client)
    assert "Nouvelles (1)" in page and "Signalée à l'instant" in page
    assert "Chute dans la salle de bains." in page and "par Visiteur" in page


def test_a_visite_sent_again_raises_no_second_alert(app, raised, auth, client):
    # The tablet lost the server's answer and sends the same visite again.
    [result] = raised["tablet"].push(raised["record"])
    assert result["status"] == "unchanged"
    assert len(all_alerts(app)) == 1
    auth.login("coordinateur")
    assert "Nouvelles (1)" in inbox(client)


def test_an_urgent_rencontre_raises_one_alert_in_the_inbox(app, auth, client):
    add_user(app, "malik", "maraude")
    tablet = Tablet(app.test_client(), "malik")
    tablet.push(item(data=rencontre(situation_urgente=True, detail_urgence="115 appelé.")))
    tablet.push(item(data=rencontre()))  # a quiet encounter raises nothing
    [alert] = all_alerts(app)
    assert alert.kind == "situation_urgente"
    auth.login("admin")
    page = inbox(client)
    assert "Situation urgente" in page and "115 appelé." in page and "par Malik" in page


def test_the_newest_alert_comes_first(app, raised, auth, client):
    raised["tablet"].push(fall(alerte="degradation", detail_alerte="A maigri."))
    [degradation] = [a for a in all_alerts(app) if a.kind == "degradation"]
    raised_hours_ago(app, raised["id"], 50)
    raised_hours_ago(app, degradation.id, 1)
    auth.login("coordinateur")
    page = inbox(client)
    assert "Nouvelles (2)" in page
    assert page.index("Dégradation — Jeanne Martin") < page.index("Chute — Jeanne Martin")
    assert "Signalée il y a 1 h" in page and "Signalée il y a 2 jours" in page


# --- Taking in charge, closing --------------------------------------------------------------


def test_taking_then_closing_an_alert(app, raised, auth, client):
    auth.login("coordinateur")
    page = html.unescape(
        auth.post(f"/alertes/{raised['id']}/prendre", follow_redirects=True).text)
    assert "Alerte prise en charge." in page and "Prises en charge (1)" in page
    assert "Prise en charge par Coordinateur à l'instant." in page
    taken = stored(app, raised["id"])
    assert taken.status == "prise_en_charge" and taken.taken_by == auth.user("coordinateur")
    assert taken.revision == 2

    page = html.unescape(auth.post(f"/alertes/{raised['id']}/clore",
                                   {"outcome": "Fille prévenue, téléassistance installée."},
                                   follow_redirects=True).text)
    assert "Alerte close." in page and "Closes (les dernières) (1)" in page
    assert ("Close par Coordinateur à l'instant. Ce qui a été fait : Fille prévenue, "
            "téléassistance installée.") in page
    closed = stored(app, raised["id"])
    assert closed.status == "close" and closed.closed_by == auth.user("coordinateur")
    assert closed.revision == 3 and closed.change_seq > taken.change_seq
    with app.app_context():
        audited = list(db.session.execute(select(AuditEvent.action, AuditEvent.target)))
    assert {("alert.take", raised["id"]), ("alert.close", raised["id"])} <= set(audited)


def test_closing_a_new_alert_takes_it_in_charge_too(app, raised, auth, client):
    auth.login("admin")
    auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "Rien de grave, appel passé."})
    closed = stored(app, raised["id"])
    assert closed.status == "close" and closed.revision == 2
    assert closed.taken_by == closed.closed_by == auth.user("admin")
    assert closed.taken_at == closed.closed_at


@pytest.mark.parametrize(("outcome", "message"), [
    ("", "Dites ce qui a été fait."),
    ("   ", "Dites ce qui a été fait."),
    ("x" * 2001, "2000 caractères au plus (2001 saisis)."),
])
def test_closing_without_saying_what_was_done_changes_nothing(app, raised, auth, client,
                                                               outcome, message):
    before = stored(app, raised["id"])
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/clore", {"outcome": outcome})
    assert response.status_code == 400
    # The error sits beside the field, in the whole inbox.
    assert (f'<p class="error" id="erreur-issue-{raised["id"]}">{message}</p>'
            in response.text)
    assert 'aria-invalid="true"' in response.text and "Nouvelles (1)" in response.text
    after = stored(app, raised["id"])
    assert (after.status, after.revision, after.change_seq) == (
        "nouvelle", before.revision, before.change_seq)


def test_an_alert_taken_by_someone_else_is_not_taken_twice(app, raised, auth, client):
    auth.login("admin")
    auth.post(f"/alertes/{raised['id']}/prendre")
    taken = stored(app, raised["id"])
    auth.logout()
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/prendre", follow_redirects=True)
    assert "Cette alerte a déjà été prise en charge par Admin." in response.text
    again = stored(app, raised["id"])
    assert (again.taken_by, again.revision, again.change_seq) == (
        auth.user("admin"), taken.revision, taken.change_seq)


@pytest.mark.parametrize("action", ["prendre", "clore"])
def test_a_closed_alert_is_neither_taken_nor_closed_again(app, raised, auth, client, action):
    auth.login("admin")
    auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "Fille prévenue."})
    closed = stored(app, raised["id"])
    auth.logout()
    auth.login("coordinateur")
    response = auth.post(f"/alertes/{raised['id']}/{action}", {"outcome": "Autre chose."},
                         follow_redirects=True)
    assert "Cette alerte a déjà été close par Admin." in response.text
    again = stored(app, raised["id"])
    assert (again.status, again.outcome, again.revision, again.change_seq) == (
        "close", "Fille prévenue.", closed.revision, closed.change_seq)


def test_a_click_on_a_stale_page_changes_nothing(app, raised, auth, client, monkeypatch):
    """Two coordinateurs click at once: the second, who still saw it new, is told who was first."""
    import outreach.alerts.views as alerts

    auth.login("coordinateur")
    admin = auth.user("admin")
    found = alerts._alert

    def taken_meanwhile(alert_id):
        alert = found(alert_id)
        with app.app_context():
            db.session.execute(update(Alert).where(Alert.id == alert_id)
                               .values(status="prise_en_charge", taken_by=admin))
            db.session.commit()
        return alert

    monkeypatch.setattr(alerts, "_alert", taken_meanwhile)
    response = auth.post(f"/alertes/{raised['id']}/prendre", follow_redirects=True)
    assert "Cette alerte a déjà été prise en charge par Admin." in response.text
    assert stored(app, raised["id"]).taken_by == admin


def test_an_unknown_alert_is_not_found(app, raised, auth, client):
    auth.login("coordinateur")
    response = auth.post("/alertes/inconnue/prendre")
    assert response.status_code == 404 and "Alerte introuvable." in response.text


def test_a_change_without_the_security_token_is_refused(app, raised, auth, client):
    auth.login("coordinateur")
    response = client.post(f"/alertes/{raised['id']}/prendre")
    assert response.status_code == 400 and "Jeton de sécurité" in response.text
    assert stored(app, raised["id"]).status == "nouvelle"


# --- Who may see and change them ------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_has_the_inbox(app, raised, auth, client, role):
    auth.login(role)
    allowed = role in OFFICE
    assert client.get("/alertes").status_code == (200 if allowed else 403)
    summary = client.get("/api/v1/alerts/summary")
    assert summary.status_code == (200 if allowed else 403) and summary.is_json
    took = auth.post(f"/alertes/{raised['id']}/prendre")
    assert took.status_code == (302 if allowed else 403)
    closed = auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "Appel passé."})
    assert closed.status_code == (302 if allowed else 403)
    assert stored(app, raised["id"]).status == ("close" if allowed else "nouvelle")


def test_no_session_no_alerts(app, raised, client):
    assert client.get("/alertes").headers["Location"].startswith("/connexion")
    answer = client.get("/api/v1/alerts/summary")
    assert answer.status_code == 401 and answer.json["error"]
    # A page form posted without a session leads to the login page and changes nothing.
    token = csrf_from(client.get("/connexion").text)
    for action in ("prendre", "clore"):
        response = client.post(f"/alertes/{raised['id']}/{action}",
                               data={"csrf_token": token, "outcome": "Appel passé."})
        assert response.headers["Location"].startswith("/connexion")
    assert stored(app, raised["id"]).status == "nouvelle"


# --- The inbox learns of new alerts without reloading ---------------------------------------


def test_the_summary_counts_the_new_alerts_for_polling(app, raised, auth, client):
    auth.login("coordinateur")
    summary = client.get("/api/v1/alerts/summary").json
    received = stored(app, raised["id"]).received_at
    assert summary == {"new": 1, "ids": [raised["id"]],
                       "latest_received_at": received.isoformat()}
    raised["tablet"].push(fall(alerte="degradation"))
    summary = client.get("/api/v1/alerts/summary").json
    assert summary["new"] == 2 and summary["ids"][1] == raised["id"]
    for alert_id in summary["ids"]:
        auth.post(f"/alertes/{alert_id}/prendre")
    assert client.get("/api/v1/alerts/summary").json["new"] == 0


def test_the_inbox_page_polls_for_new_alerts(app, raised, auth, client):
    auth.login("coordinateur")
    page = client.get("/alertes").text
    assert '<div id="new-alerts" aria-live="polite"></div>' in page
    assert f'data-shown="[&#34;{raised["id"]}&#34;]"' in page
    assert 'type="module" src="/static/js/alerts-inbox.js"' in page
    assert "alerts-inbox.js" not in client.get("/").text
    script = client.get("/static/js/alerts-inbox.js").text
    assert "/api/v1/alerts/summary" in script and "visibilitychange" in script


def test_the_office_has_the_alerts_link_and_the_field_does_not(app, auth, client):
    auth.login("coordinateur")
    assert '<a href="/alertes">Alertes</a>' in client.get("/").text
    auth.logout()
    auth.login("visiteur")
    assert '<a href="/alertes">' not in client.get("/").text


# --- What the person who raised it learns at their next pull --------------------------------


def test_the_person_who_raised_it_learns_what_became_of_it(app, raised, auth, client):
    first = raised["tablet"].pull()
    [mine] = first["alerts"]
    assert (mine["id"], mine["data"]["status"], mine["data"]["kind_label"]) == (
        raised["id"], "nouvelle", "Chute")
    auth.login("coordinateur")
    auth.post(f"/alertes/{raised['id']}/prendre")
    [changed] = raised["tablet"].pull(first["cursor"])["alerts"]
    assert changed["data"]["status"] == "prise_en_charge"
    assert changed["data"]["taken_by_name"] == "Coordinateur"


def test_alerts_for_pull_gives_this_persons_alerts_changed_in_the_range(app, raised, auth):
    add_user(app, "malik", "maraude")
    Tablet(app.test_client(), "malik").push(item(data=rencontre(situation_urgente=True,
                                                                   detail_urgence="Froid.")))
    with app.app_context():
        rows = alerts_for_pull(db.session, raised["vera"], 0, 10**9)
    [(seq, mine)] = rows  # Malik's alert is not Vera's
    assert mine == {"id": raised["id"], "revision": 1, "data": {
        "kind": "chute", "kind_label": "Chute", "status": "nouvelle", "status_label": "Nouvelle",
        "record_id": raised["record"]["id"], "form": "visite.visite", "person_id": PERSON,
        "raised_at": "2026-11-20T21:30:00+00:00", "taken_by_name": None, "taken_at": None,
        "closed_at": None, "outcome": None}}
    with app.app_context():
        assert alerts_for_pull(db.session, raised["vera"], seq, 10**9) == []
        assert alerts_for_pull(db.session, raised["vera"], 0, seq - 1) == []
        assert alerts_for_pull(db.session, raised["vera"], seq - 1, seq) == rows

    auth.login("coordinateur")
    auth.post(f"/alertes/{raised['id']}/prendre")
    auth.post(f"/alertes/{raised['id']}/clore", {"outcome": "Fille prévenue."})
    with app.app_context():
        [(again, closed)] = alerts_for_pull(db.session, raised["vera"], seq, 10**9)
    assert again > seq and closed["revision"] == 3
    assert (closed["data"]["status_label"], closed["data"]["outcome"]) == ("Close",
                                                                          "Fille prévenue.")
    assert closed["data"]["taken_by_name"] == "Coordinateur" and closed["data"]["closed_at"]


def test_ages_read_as_people_say_them():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert age(now - timedelta(seconds=20), now) == "à l'instant"
    assert age(now - timedelta(minutes=5), now) == "il y a 5 min"
    assert age(now - timedelta(hours=3), now) == "il y a 3 h"
    assert age(now - timedelta(days=1, hours=2), now) == "il y a 1 jour"
    assert age(now - timedelta(days=2), now) == "il y a 2 jours"
    assert age(now + timedelta(minutes=3), now) == "à l'instant"  # a tablet's clock ahead
