"""The audit log a DPO can use: each read path writes its row (who, what, target, when, from
which tablet and session); /admin/journal filters it by person, agent, action and dates, pages
it, exports it (itself audited), and is the admin's alone."""

import csv
import hashlib
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.alerts.models import Alert
from outreach.core import audit
from outreach.core.db import db
from outreach.core.models import AuditEvent, LoginSession, Record
from sync.schema import quarantine, record_conflict, sync_log
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, rencontre
from tests.test_plans import open_plan
from tests.test_plans import registration as plan_registration

SENIOR = {"niveau": "identifie", "alias_prenom": "Jeanne", "nom": "Martin",
          "date_naissance": "1938-04-02", "adresse": "12 rue des Lilas",
          "telephone": "0555000001", "consentement": True, "date_consentement": "2026-01-05"}
TOURNEE = {"date": "2026-11-20", "heure_depart": "20:30", "secteur": "Gare", "equipe": "Léa"}
DEVICE = str(uuid.uuid4())


def key_hash(client) -> str:
    """Return the hash of the session key this client's cookie carries."""
    with client.session_transaction() as cookie:
        return hashlib.sha256(cookie["sid"].encode()).hexdigest()


def visite(person: str, **data) -> dict:
    return item("visite.visite", {"personne": person, "date": "2026-11-20", "mode": "domicile",
                                  "personne_vue": "oui", "alerte": "aucune", **data})


@pytest.fixture
def world(app, auth):
    """A senior with a visite (and its alert), a register entry, a tournée, a rejected record,
    a conflict and an open plan; the admin logged in on a page."""
    vera = add_user(app, "vera", "visiteur")
    add_user(app, "claire", "coordinateur")
    auth.login("admin")
    desk = Tablet(app.test_client(), "admin")
    person = item("personne", SENIOR, form_version=2)
    seen = visite(person["id"], alerte="chute", detail_alerte="Chute au salon.")
    entry = plan_registration("Durand", "Nord", personne=person["id"])
    tournee = item("maraude.tournee", TOURNEE)
    other = visite(person["id"])
    results = desk.push(person, seen, entry, tournee, other,
                        item(data=rencontre(), parent_id=tournee["id"]))
    assert {r["status"] for r in results} == {"created"}, results
    assert desk.push(item(data=rencontre(nombre_personnes="beaucoup")))[0]["status"] == "rejected"
    changed = {**other, "data": {**other["data"], "date": "2026-11-21"}}
    assert desk.push(changed)[0]["status"] == "conflict"
    assert open_plan(auth, [vera]).status_code == 302
    with app.app_context():
        ids = {
            "person": person["id"], "visit": seen["id"], "entry": entry["id"],
            "tournee": tournee["id"],
            "quarantine": db.session.scalar(select(quarantine.c.id)),
            "conflict": db.session.scalar(select(record_conflict.c.id)),
            "plan": db.session.scalar(select(func.min(AuditEvent.target)).where(
                AuditEvent.action == "plan.open")).removeprefix("plan:"),
        }
    return ids


# (what is read, how, the action written, its target)
READS = [
    ("person file", "GET", "/personnes/{person}", "person.read", "{person}"),
    ("people search", "GET", "/personnes?q=jea", "person.search", None),
    ("record", "GET", "/fiches/{visit}", "record.read", "{visit}"),
    ("record edit page", "GET", "/modifier/{visit}", "record.read", "{visit}"),
    ("register entry edit page", "GET", "/modifier/{entry}", "record.read", "{entry}"),
    ("records list", "GET", "/fiches", "records.list", None),
    ("records API", "GET", "/api/v1/records?form=visite.visite", "records.read",
     "visite.visite"),
    ("register entry", "GET", "/registre/{entry}", "register.read", "record:{entry}"),
    ("acknowledgement", "GET", "/registre/{entry}/accuse", "register.acknowledgement",
     "record:{entry}"),
    ("register", "GET", "/registre", "register.list", "registre.inscription"),
    ("tournée", "GET", "/tournees/{tournee}", "record.read", "{tournee}"),
    ("rejected record", "GET", "/quarantaine/{quarantine}", "record.read", None),
    ("conflict", "GET", "/conflits/{conflict}", "record.read", "{visit_in_conflict}"),
    ("figures export", "GET",
     "/tableau-de-bord/export?formulaire=visite.visite&du=2026-01-01&au=2026-12-31",
     "figures.export", "visite.visite"),
    ("préfet export", "POST", "/plans/{plan}/prefet", "register.prefect_export",
     "plan:{plan}"),
    ("plan board", "GET", "/plans/{plan}", "plan.board", "plan:{plan}"),
    ("alert inbox", "GET", "/alertes", "alert.list", None),
    ("journal export", "GET", "/admin/journal/export", "journal.export", None),
]


@pytest.mark.parametrize(("path", "method", "url", "action", "target"),
                         READS, ids=[r[0] for r in READS])
def test_each_read_writes_its_row_with_who_and_from_which_tablet(app, auth, world, path,
                                                                 method, url, action, target):
    with app.app_context():
        conflicting = db.session.scalar(select(record_conflict.c.record_id))
    names = {**world, "visit_in_conflict": conflicting}
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEvent.id)))
    kwargs = {"headers": {"X-Outreach-Device": DEVICE}}
    if method == "POST":
        answer = auth.client.post(url.format(**names), data={
            "format": "csv", "motif": "Demande préfecture", "csrf_token": auth.csrf_token},
            **kwargs)
    else:
        answer = auth.client.get(url.format(**names), **kwargs)
    assert answer.status_code == 200, answer.text[:300]
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                           AuditEvent.action == action)).all()
        session_id = db.session.scalar(select(LoginSession.id).where(
            LoginSession.token_hash == key_hash(auth.client)))
    assert len(rows) == 1, [r.action for r in rows]
    [row] = rows
    if target is not None:
        assert row.target == target.format(**names)
    assert row.user_id == auth.user("admin")
    assert (row.device_id, row.session_id) == (DEVICE, session_id)
    assert (datetime.now(UTC) - row.at).total_seconds() < 60


def test_a_page_without_the_header_names_the_tablet_of_its_session(app, auth, world):
    auth.client.get("/api/v1/session", headers={"X-Outreach-Device": DEVICE})
    auth.client.get(f"/personnes/{world['person']}")
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.read")
                                 .order_by(AuditEvent.id.desc())).first()
    assert row.device_id == DEVICE and row.session_id is not None


def test_a_sync_writes_its_row_and_the_sync_log_keeps_the_tablet_and_what_waits(app):
    add_user(app, "lea", "maraude")
    tablet = Tablet(app.test_client(), "lea", device_id=DEVICE)
    answer = tablet.client.post("/api/v1/sync/push", json={
        "device_id": DEVICE, "records": [item(), item("personne")]},
        headers={"X-CSRFToken": tablet.token, "X-Outreach-Device": DEVICE,
                 "X-Outreach-Waiting": "7"})
    assert answer.status_code == 200
    pulled = tablet.client.get("/api/v1/sync/pull", headers={
        "X-Outreach-Device": DEVICE, "X-Outreach-Waiting": "5"})
    assert pulled.status_code == 200
    quiet = tablet.client.get("/api/v1/sync/pull", query_string={
        "cursor": pulled.json["cursor"]}, headers={"X-Outreach-Device": DEVICE,
                                                   "X-Outreach-Waiting": "n'importe"})
    assert quiet.status_code == 200
    with app.app_context():
        logged = db.session.execute(select(sync_log.c.kind, sync_log.c.device_id,
                                           sync_log.c.waiting).order_by(sync_log.c.id)).all()
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("sync.%")).order_by(AuditEvent.id)).all()
    assert [tuple(row) for row in logged] == [("push", DEVICE, 7), ("pull", DEVICE, 5),
                                              ("pull", DEVICE, None)]
    # The pull that handed nothing out is in the sync log, not in the journal.
    assert [(e.action, e.device_id) for e in events] == [("sync.push", DEVICE),
                                                          ("sync.pull", DEVICE)]
    assert events[0].details == {"created": 2} and events[1].details["people"] == 1
    assert all(e.session_id is not None and e.target is None for e in events)


def test_every_action_written_has_its_french_label():
    """The journal names each action in French: none written by the code is missing."""
    root = Path(audit.__file__).parent
    written = set()
    for source in root.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        written |= set(re.findall(r'audit\.log\(\s*"([a-z_.]+)"', text))
        written |= set(re.findall(r'AuditEvent\(action="([a-z_.]+)"', text))
        written |= set(re.findall(r'_audited\(\s*"([a-z_.]+)"', text))
    assert written and written <= set(audit.ACTIONS), written - set(audit.ACTIONS)


# --- /admin/journal --------------------------------------------------------------------------


def test_only_the_admin_opens_the_journal(app, auth):
    for role in ("coordinateur", "visiteur", "maraude", "travailleur_social"):
        auth.login(role)
        assert auth.client.get("/admin/journal").status_code == 403
        assert auth.client.get("/admin/journal/export").status_code == 403
        auth.logout()
    auth.login("admin")
    page = auth.client.get("/admin/journal")
    assert page.status_code == 200 and "<h1>Journal des accès</h1>" in page.text
    assert 'href="/admin/journal">Journal</a>' in page.text


def _count(text: str) -> int:
    return int(re.search(r"<p>(\d+) ligne", text).group(1))


def test_the_journal_filters_by_person_agent_action_and_dates(app, auth, world):
    person, client = world["person"], auth.client
    for url in (f"/personnes/{person}", f"/fiches/{world['visit']}",
                f"/registre/{world['entry']}", f"/fiches/{world['tournee']}"):
        assert client.get(url).status_code == 200
    claire = app.test_client()
    Tablet(claire, "claire")
    claire.get(f"/personnes/{person}")
    with app.app_context():
        # A row of last year, to filter by dates.
        db.session.add(AuditEvent(action="person.read", target=person,
                                  at=datetime(2025, 3, 4, 10, tzinfo=UTC), details={}))
        db.session.commit()

    about = client.get("/admin/journal", query_string={"personne": person})
    # Their file twice and last year's, the visite naming them, the register entry naming them;
    # not the tournée.
    assert _count(about.text) == 5
    assert "Lecture du dossier d&#39;une personne" in about.text
    assert "Lecture d&#39;une inscription au registre" in about.text
    assert "Claire (claire)" in about.text and "Serveur (commande)" in about.text
    claire_id = auth.user("claire")
    by_agent = client.get("/admin/journal", query_string={"personne": person,
                                                          "agent": claire_id})
    assert _count(by_agent.text) == 1
    by_action = client.get("/admin/journal", query_string={"action": "register.read"})
    assert _count(by_action.text) == 1
    days = client.get("/admin/journal", query_string={"personne": person, "du": "01/01/2025",
                                                      "au": "2025-12-31"})
    assert _count(days.text) == 1 and "04/03/2025" in days.text
    bad = client.get("/admin/journal", query_string={"du": "hier", "action": "inconnue"})
    assert bad.status_code == 400 and "Date attendue au format JJ/MM/AAAA." in bad.text
    assert "Action inconnue." in bad.text


def test_the_journal_is_paged_newest_first(app, auth):
    auth.login("admin")
    with app.app_context():
        db.session.add_all(AuditEvent(action="record.read", target=f"r{n:03}",
                                      at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
                                      details={}) for n in range(150))
        db.session.commit()
    first = auth.client.get("/admin/journal", query_string={"action": "record.read"}).text
    assert _count(first) == 150 and "Page 1 sur 2" in first
    assert first.count("<code>r1") == 50 and "<code>r149</code>" in first
    assert first.index("<code>r149</code>") < first.index("<code>r148</code>")
    second = auth.client.get("/admin/journal", query_string={"action": "record.read",
                                                             "page": 2}).text
    assert second.count("<code>r0") == 50 and "Page 2 sur 2" in second


def test_the_export_holds_the_filtered_rows_and_is_itself_journaled(app, auth, world):
    person = world["person"]
    auth.client.get(f"/personnes/{person}", headers={"X-Outreach-Device": DEVICE})
    answer = auth.client.get("/admin/journal/export", query_string={"personne": person})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="journal-' in answer.headers["Content-Disposition"]
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeffDate;Heure;Agent;Action;Code de l'action;Cible;Tablette;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    body = rows[1:]
    assert len(body) == 1
    [line] = body
    assert line[2] == "Admin (admin)" and line[3] == "Lecture du dossier d'une personne"
    assert line[4:7] == ["person.read", person, DEVICE]
    # No personal data: the senior's name, address or phone is in no cell.
    for word in ("Martin", "Lilas", "0555000001", "Jeanne"):
        assert word not in text
    with app.app_context():
        exported = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "journal.export")).one()
        assert exported.details == {"rows": 1, "personne": person}
        assert exported.user_id == auth.user("admin")


def test_a_record_naming_the_person_is_found_whatever_its_form(app, auth, world):
    """A register entry read through /modifier is about the person it names."""
    auth.client.get(f"/modifier/{world['entry']}")
    with app.app_context():
        found = db.session.scalars(select(AuditEvent.target).where(
            audit.about_person(world["person"]), AuditEvent.action == "record.read")).all()
        record = db.session.get(Record, world["entry"])
    assert found == [world["entry"]] and record.data["personne"] == world["person"]


# (what is decided, the form posted, the action written)
DECISIONS = [
    ("alert taken", "/alertes/{alert}/prendre", {}, "alert.take"),
    ("rejected record discarded", "/quarantaine/{quarantine}/abandon",
     {"raison": "Doublon d'une fiche déjà reçue."}, "quarantine.discard"),
    ("conflict resolved", "/conflits/{conflict}", {"version": "actuelle", "revision": "1"},
     "conflict.resolve"),
    ("plan closed", "/plans/{plan}/clore", {"confirme": "oui"}, "plan.close"),
]


@pytest.mark.parametrize(("decision", "url", "form", "action"), DECISIONS,
                         ids=[d[0] for d in DECISIONS])
def test_each_decision_writes_its_row(app, auth, world, decision, url, form, action):
    with app.app_context():
        names = {**world, "alert": db.session.scalar(select(Alert.id))}
    answer = auth.post(url.format(**names), form, headers={"X-Outreach-Device": DEVICE})
    assert answer.status_code == 302, answer.text[:300]
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).one()
        session_id = db.session.scalar(select(LoginSession.id).where(
            LoginSession.token_hash == key_hash(auth.client)))
    assert (row.user_id, row.device_id, row.session_id) == (auth.user("admin"), DEVICE,
                                                            session_id)


@pytest.mark.browser
def test_the_tablet_names_itself_and_what_waits_on_every_sync(app, live_server, page):
    """The tablet's JS sends X-Outreach-Device and X-Outreach-Waiting (a real Chromium)."""

    from tests.conftest import wait_until
    from tests.test_offline import fill_tournee, log_in

    add_user(app, "lea", "maraude")
    log_in(page, live_server.url, "lea")
    page.goto(f"{live_server.url}/saisie/maraude.tournee")
    fill_tournee(page, "Gare")
    wait_until(page, "window.outreach.sync().then(() => import('/static/js/store.js'))"
                     ".then((store) => store.countWaiting()).then((count) => count === 0)")
    device = page.evaluate("localStorage.getItem('outreach-device')")
    with app.app_context():
        logged = db.session.execute(select(sync_log.c.kind, sync_log.c.device_id,
                                           sync_log.c.waiting).order_by(sync_log.c.id)).all()
        pushed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sync.push")
                                    ).all()
        tied = db.session.scalar(select(LoginSession.device_id))
    assert ("push", device, 1) in [tuple(row) for row in logged]
    assert ("pull", device, 0) in [tuple(row) for row in logged]
    assert pushed and all(e.device_id == device for e in pushed)
    assert tied == device
