"""Several app servers on one database, and power cuts (issue 18, items 3 and 5).

Real `outreach run` processes (waitress) on the test run's engine: a SQLite file (WAL) or, with
OUTREACH_TEST_DATABASE=postgresql, a PostgreSQL database. Clients push overlapping batches to
both servers, alternately and at once; a server is killed with SIGKILL in the middle of pushes
and started again. Every record is stored exactly once, every alert raised once, no answer is
a 5xx, and SQLite's integrity check holds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select, text

from outreach.alerts.models import Alert
from outreach.core.db import db
from outreach.core.models import Record
from outreach.figures.models import ActivityFact
from tests.conftest import PASSWORD, add_user, on_postgresql
from tests.sync_helpers import item, rencontre
from tests.test_sync_concurrency import run_together

TIMEOUT = 30
RECORDS = 240
BATCH = 40
CUT_RECORDS = 1200
CUTS = 3


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `outreach run` on the shared database, on its own port and instance folder."""

    def __init__(self, app, folder, port: int | None = None, **settings: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(exist_ok=True)
        self.env = {**os.environ, "OUTREACH_INSTANCE_PATH": str(folder),
                    "OUTREACH_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                    "OUTREACH_SECRET_KEY": "la-même-clé-sur-chaque-serveur", **settings}
        self.process = None
        self.start()

    def start(self) -> float:
        """Start it; answer how long it took to answer (seconds)."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "outreach", "run", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                requests.get(f"{self.url}/connexion", timeout=2)
                return time.monotonic() - started
            except requests.ConnectionError:
                assert self.process.poll() is None, "the server stopped at start"
                assert time.monotonic() - started < 60, "the server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def servers(app, tmp_path, count: int, **settings: str):
    running = [Server(app, tmp_path / f"serveur-{n}", **settings) for n in range(count)]
    try:
        yield running
    finally:
        for server in running:
            server.stop()


def session_on(url: str, login: str) -> requests.Session:
    client = requests.Session()
    answer = client.post(f"{url}/api/v1/session", json={"login": login, "password": PASSWORD},
                         headers={"X-Outreach-Device": str(uuid.uuid4())}, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRFToken"] = answer.json()["csrf_token"]
    return client


def the_night(count: int) -> list[dict]:
    """A maraude night: one rencontre in four an urgent situation (each raises an alert)."""
    records = []
    for number in range(count):
        data = rencontre()
        if number % 4 == 0:
            data.update(situation_urgente=True, detail_urgence="Très froid, le 115 prévenu.")
        records.append(item(data=data))
    return records


def stored_once(app, records: list[dict], counted: bool = True) -> None:
    """Every record in exactly once, every urgent one with exactly one alert, and (`counted`)
    each counted once in the figures' summary tables."""
    ids = {record["id"] for record in records}
    urgent = {record["id"] for record in records if record["data"].get("situation_urgente")}
    with app.app_context():
        rows = Counter(db.session.scalars(select(Record.id).where(Record.id.in_(ids))))
        alerts = Counter(db.session.scalars(select(Alert.record_id).where(
            Alert.record_id.in_(ids))))
        facts = Counter(db.session.scalars(select(ActivityFact.record_id).where(
            ActivityFact.record_id.in_(ids))))
    assert set(rows) == ids and set(rows.values()) == {1}
    assert set(alerts) == urgent and set(alerts.values()) == {1}
    if counted:
        assert set(facts) == ids and set(facts.values()) == {1}


def test_two_servers_one_database_every_record_and_alert_once(app, tmp_path):
    add_user(app, "lea", "maraude")
    add_user(app, "claire", "coordinateur")
    night = the_night(RECORDS)
    batches = [night[start:start + BATCH] for start in range(0, RECORDS, BATCH)]
    with servers(app, tmp_path, 2) as (first, second):
        answers: list[int] = []

        def tablet(index: int) -> None:
            # Four clients of Lea's (a tablet retrying, its copy on another): every batch is sent
            # by each of them (they overlap entirely), to either server. A record is its
            # author's: another person's push of the same id would be refused, rightly.
            login = "lea"
            rng = random.Random(index)
            clients = [session_on(server.url, login) for server in (first, second)]
            for batch in rng.sample(batches, len(batches)):
                server = rng.randrange(2)
                answer = clients[server].post(f"{(first, second)[server].url}/api/v1/sync/push",
                                              json={"device_id": str(uuid.uuid4()),
                                                    "records": batch}, timeout=TIMEOUT)
                answers.append(answer.status_code)
                assert answer.status_code == 200, answer.text
                assert {r["status"] for r in answer.json()["results"]} <= {"created", "unchanged"}

        assert run_together(tablet, 4) == []
        assert set(answers) == {200}
        # The figures' summary tables catch up when the dashboard is read: from both servers at
        # once, they count each record once.
        office = [session_on(server.url, "claire") for server in (first, second)]
        shown = []
        assert run_together(lambda n: shown.append(office[n % 2].get(
            f"{(first, second)[n % 2].url}/tableau-de-bord", timeout=TIMEOUT).status_code), 4) == []
        assert shown == [200] * 4
        stored_once(app, night)


def test_login_throttling_is_counted_across_both_servers(app, tmp_path):
    add_user(app, "lea", "maraude")
    with servers(app, tmp_path, 2, OUTREACH_LOGIN_ATTEMPTS_PER_MINUTE="4") as (first, second):
        statuses = []
        for attempt in range(6):
            server = (first, second)[attempt % 2]
            statuses.append(requests.post(f"{server.url}/api/v1/session", timeout=TIMEOUT,
                                          json={"login": "lea", "password": "pas le bon"}
                                          ).status_code)
        # Four failures in all, two on each: the fifth is refused, whichever server it reaches.
        assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429], statuses


def test_a_session_opened_on_one_server_works_on_the_other_and_ends_on_both(app, tmp_path):
    add_user(app, "lea", "maraude")
    with servers(app, tmp_path, 2) as (first, second):
        client = session_on(first.url, "lea")
        assert client.get(f"{second.url}/api/v1/session", timeout=TIMEOUT).status_code == 200
        assert client.delete(f"{second.url}/api/v1/session", timeout=TIMEOUT).status_code == 200
        assert client.get(f"{first.url}/api/v1/session", timeout=TIMEOUT).status_code == 401


def test_a_form_changed_on_one_server_is_served_by_the_other_at_once(app, tmp_path):
    add_user(app, "root", "admin")
    add_user(app, "lea", "maraude")
    with servers(app, tmp_path, 2) as (first, second):
        lea = session_on(second.url, "lea")
        assert "Repas servis" not in lea.get(f"{second.url}/saisie/maraude.tournee").text
        admin = session_on(first.url, "root")
        answer = admin.post(f"{first.url}/admin/formulaires/maraude.tournee/champs", data={
            "label": "Repas servis", "type": "counter", "help": "", "required": "1"},
            allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code == 302, answer.text[:300]
        assert "Repas servis" in lea.get(f"{second.url}/saisie/maraude.tournee",
                                         timeout=TIMEOUT).text


def test_power_cuts_in_the_middle_of_pushes_lose_and_double_nothing(app, tmp_path):
    add_user(app, "lea", "maraude")
    night = the_night(CUT_RECORDS)
    batches = [night[start:start + BATCH] for start in range(0, CUT_RECORDS, BATCH)]
    with servers(app, tmp_path, 1) as (server,):
        in_flight = []  # pushes sent and not yet answered, as the cuts see them
        cut_short = []  # pushes a cut interrupted
        refused: list[str] = []
        pushing = threading.Event()
        finished = threading.Event()

        def tablet(index: int) -> None:
            # As a tablet does: a batch whose answer did not come is sent again, unchanged.
            rng = random.Random(index)
            client = None
            for batch in rng.sample(batches, len(batches)):
                while True:
                    try:
                        client = client or session_on(server.url, "lea")
                        in_flight.append(index)
                        pushing.set()
                        try:
                            answer = client.post(f"{server.url}/api/v1/sync/push",
                                                 timeout=TIMEOUT, json={
                                                     "device_id": str(uuid.uuid4()),
                                                     "records": batch})
                        finally:
                            in_flight.remove(index)
                    except (requests.ConnectionError, requests.Timeout,
                            requests.exceptions.ChunkedEncodingError):
                        cut_short.append(index)
                        time.sleep(0.05)
                        continue
                    except AssertionError:  # the login itself met a cut
                        time.sleep(0.05)
                        continue
                    if answer.status_code >= 500:
                        refused.append(answer.text[:200])
                    if answer.status_code == 200:
                        break
                    time.sleep(0.05)

        def cuts() -> None:
            pushing.wait(TIMEOUT)
            for _cut in range(CUTS):
                deadline = time.monotonic() + TIMEOUT
                while not in_flight and time.monotonic() < deadline:
                    time.sleep(0.001)
                server.kill()
                restarted = server.start()
                assert restarted < 20, f"{restarted:.1f} s to answer again"
                time.sleep(random.uniform(0.05, 0.3))
            finished.set()

        assert run_together(lambda n: tablet(n) if n < 3 else cuts(), 4) == []
        assert finished.is_set()
        assert cut_short, "no cut fell in the middle of a push"
        assert refused == []
        stored_once(app, night, counted=False)
    if not on_postgresql:
        with app.app_context():
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


@pytest.mark.skipif(on_postgresql, reason="SQLite's own journal mode")
def test_the_sqlite_file_the_servers_share_is_in_wal_mode(app, tmp_path):
    with servers(app, tmp_path, 1):
        with app.app_context():
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


