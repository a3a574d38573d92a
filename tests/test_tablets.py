"""Tablets the office sees (issue 17): each registers at login, /admin/tablettes lists them for
the admin (the coordinateur reads), "Déclarer perdue" cuts one off for good, and the escrow key
goes only to its person logging in from it."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.core.db import db
from outreach.core.models import AuditEvent, LoginSession, Tablet, TabletKey, User, utcnow
from sync.schema import sync_log
from tests.conftest import PASSWORD, add_user, csrf_from

COOKIE = "outreach_session"


def tablet_login(app, login, device, waiting=None):
    """Log in from a tablet the way its login page does: JSON, naming the tablet."""
    client = app.test_client()
    headers = {"X-Outreach-Device": device, "User-Agent": "Tablette/2.0 Chromium"}
    answer = client.post("/api/v1/session", json={"login": login, "password": PASSWORD},
                         headers=headers)
    client.device_headers = {**headers, **({"X-Outreach-Waiting": str(waiting)}
                                           if waiting is not None else {})}
    return client, answer


def page_client(app, login):
    client = app.test_client()
    page = client.get("/connexion")
    client.post("/connexion", data={"login": login, "password": PASSWORD,
                                    "csrf_token": csrf_from(page.text)})
    client.token = client.get("/api/v1/session").json["csrf_token"]
    return client


@pytest.fixture
def people(app):
    return {login: add_user(app, login, role) for login, role in [
        ("lea", "maraude"), ("vera", "visiteur"), ("tom", "travailleur_social"),
        ("coco", "coordinateur"), ("admin", "admin")]}


def test_a_login_from_a_tablet_registers_it_and_hands_that_person_their_escrow_key(app, people):
    device = str(uuid.uuid4())
    client, answer = tablet_login(app, "vera", device)
    assert answer.status_code == 200
    key = answer.json["tablet_key"]
    assert len(key) == 44  # 32 random bytes, base64
    again = tablet_login(app, "vera", device)[1].json["tablet_key"]
    other_person = tablet_login(app, "lea", device)[1].json["tablet_key"]
    other_tablet = tablet_login(app, "vera", str(uuid.uuid4()))[1].json["tablet_key"]
    assert again == key and len({key, other_person, other_tablet}) == 3
    # No tablet named, no key: a script logging in gets nothing to unwrap a tablet's data.
    bare = app.test_client().post("/api/v1/session", json={"login": "vera", "password": PASSWORD})
    assert bare.status_code == 200 and "tablet_key" not in bare.json
    # A session already open is not a login: GET /api/v1/session never carries the key.
    assert "tablet_key" not in client.get("/api/v1/session", headers=client.device_headers).json
    with app.app_context():
        tablet = db.session.get(Tablet, device)
        assert tablet.user_id == people["vera"] and tablet.user_agent == "Tablette/2.0 Chromium"
        assert tablet.last_sync_at is None
        assert db.session.scalar(select(func.count()).select_from(TabletKey)) == 3


def test_a_sync_says_when_it_succeeded_and_how_many_records_waited(app, people):
    device = str(uuid.uuid4())
    client, _ = tablet_login(app, "lea", device, waiting=3)
    answer = client.get(f"/api/v1/sync/pull?device_id={device}", headers=client.device_headers)
    assert answer.status_code == 200
    with app.app_context():
        tablet = db.session.get(Tablet, device)
        assert tablet.waiting == 3 and tablet.last_sync_at is not None


@pytest.mark.parametrize(("login", "shown"), [
    ("admin", True), ("coco", True), ("lea", False), ("vera", False), ("tom", False)])
def test_the_tablets_page_is_the_offices(app, people, login, shown):
    device = str(uuid.uuid4())
    tablet_login(app, "vera", device, waiting=2)[0].get("/api/v1/session", headers={
        "X-Outreach-Device": device, "X-Outreach-Waiting": "2"})
    page = page_client(app, login).get("/admin/tablettes")
    if not shown:
        assert page.status_code == 403 and device[:8] not in page.text
        return
    assert page.status_code == 200 and "Vera" in page.text and device[:8] in page.text
    # Only the admin acts; the coordinateur reads.
    assert ("Déclarer perdue" in page.text) == (login == "admin")


def test_nobody_logged_in_sees_no_tablets(app, people):
    answer = app.test_client().get("/admin/tablettes")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/connexion")


def test_the_long_silent_first_and_marked(app, people):
    quiet, busy, new = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    tablet_login(app, "vera", quiet)
    tablet_login(app, "lea", busy)
    tablet_login(app, "tom", new)  # never synced: silent since its first contact, just now
    with app.app_context():
        tablet = db.session.get(Tablet, quiet)
        tablet.last_seen_at = tablet.last_sync_at = utcnow() - timedelta(days=9)
        db.session.get(Tablet, busy).last_sync_at = utcnow()
        db.session.commit()
    text = page_client(app, "admin").get("/admin/tablettes").text
    assert text.index(quiet[:8]) < text.index(new[:8]) < text.index(busy[:8])
    assert text.count("Silencieuse") == 1 and text.index("Silencieuse") > text.index(quiet[:8])


def test_each_person_on_each_tablet_their_last_sync_and_what_waited(app, people):
    shared, own = str(uuid.uuid4()), str(uuid.uuid4())
    for login, device, waiting in (("vera", shared, 2), ("lea", shared, 0), ("vera", own, 5)):
        client, _ = tablet_login(app, login, device, waiting=waiting)
        pull = client.get(f"/api/v1/sync/pull?device_id={device}", headers=client.device_headers)
        assert pull.status_code == 200
    with app.app_context():
        # Vera's own tablet has not synced for ten days, with five records waiting then.
        db.session.execute(sync_log.update().where(sync_log.c.device_id == own).values(
            at=utcnow() - timedelta(days=10)))
        db.session.commit()
    for login in ("coco", "admin"):
        text = page_client(app, login).get("/admin/tablettes").text
        table = text[text.index('id="last-syncs"'):]
        rows = re.findall(r"<tr[^>]*>\s*<td>([^<]*)</td>\s*<td><code>([^<]*)</code></td>"
                          r"\s*<td>[^<]*(?:<strong[^>]*>Silencieuse</strong>)?</td>"
                          r"\s*<td>([^<]*)</td>", table)
        assert rows[0] == ("Vera", own[:8], "5"), "the long-silent first"
        assert sorted(rows[1:]) == [("Lea", shared[:8], "0"), ("Vera", shared[:8], "2")]
        assert "Silencieuse" in table
    assert page_client(app, "vera").get("/admin/tablettes").status_code == 403


def test_a_tablet_declared_lost_is_cut_off_for_good(app, people):
    device, other = str(uuid.uuid4()), str(uuid.uuid4())
    field, _ = tablet_login(app, "vera", device)
    field.get("/api/v1/session", headers={"X-Outreach-Device": device, "X-Outreach-Waiting": "4"})
    elsewhere, _ = tablet_login(app, "vera", other)
    thief = app.test_client()
    thief.set_cookie(COOKIE, field.get_cookie(COOKIE).value)
    admin = page_client(app, "admin")
    # A coordinateur reads the page but cannot cut a tablet off.
    coco = page_client(app, "coco")
    assert coco.post(f"/admin/tablettes/{device}/perdue",
                     data={"csrf_token": coco.token}).status_code == 403
    answer = admin.post(f"/admin/tablettes/{device}/perdue", data={"csrf_token": admin.token},
                        follow_redirects=True)
    assert answer.status_code == 200
    assert "4 fiches en attente à son dernier contact sont perdues" in answer.text
    assert "Perdue le" in answer.text and "4 fiches abandonnées" in answer.text
    lost = {"X-Outreach-Device": device}
    for call in (field.get("/api/v1/session", headers=lost),
                 field.get(f"/api/v1/sync/pull?device_id={device}", headers=lost),
                 field.post("/api/v1/sync/push", json={"device_id": device, "records": []},
                            headers=lost),
                 # Logging in again from it, with the right password, is refused too.
                 app.test_client().post("/api/v1/session", headers=lost,
                                        json={"login": "vera", "password": PASSWORD})):
        assert call.status_code == 403 and call.json["code"] == "tablette_perdue"
        assert "déclarée perdue" in call.json["error"]
    # The copied cookie, sent without the tablet's header, opens nothing either.
    assert thief.get("/api/v1/session").status_code == 401
    assert thief.get("/").status_code == 302
    # Vera's other tablet goes on.
    assert elsewhere.get("/api/v1/session", headers={"X-Outreach-Device": other}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TabletKey).where(
            TabletKey.device_id == device)) == 0
        assert db.session.scalar(select(func.count()).select_from(TabletKey).where(
            TabletKey.device_id == other)) == 1
        rows = db.session.scalars(select(LoginSession).where(LoginSession.device_id == device))
        assert {row.revoked_reason for row in rows} == {"lost_device"}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "tablet.lost"))
        assert event.target == f"device:{device}" and event.details["waiting"] == 4
        assert db.session.get(Tablet, device).lost_by == people["admin"]


def test_a_session_is_tied_to_its_tablet(app, people):
    device = str(uuid.uuid4())
    field, _ = tablet_login(app, "lea", device)
    assert field.get("/api/v1/session", headers={"X-Outreach-Device": device}).status_code == 200
    thief = app.test_client()
    thief.set_cookie(COOKIE, field.get_cookie(COOKIE).value)
    answer = thief.get("/api/v1/session", headers={"X-Outreach-Device": str(uuid.uuid4())})
    assert answer.status_code == 401


def test_declaring_an_unknown_tablet_lost_is_a_404(app, people):
    admin = page_client(app, "admin")
    answer = admin.post(f"/admin/tablettes/{uuid.uuid4()}/perdue",
                        data={"csrf_token": admin.token})
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 5


def test_the_home_page_carries_how_long_a_tablet_may_stay_away(app, people):
    home = page_client(app, "lea").get("/").text
    assert re.search(r'<p id="stale-sync" class="notice-box" role="alert" hidden '
                     r'data-after-days="1.0">', home)
    app.config["STALE_SYNC_DAYS"] = 2.5
    assert 'data-after-days="2.5"' in page_client(app, "vera").get("/").text
