"""The Python sync client (issue 5): outbox, push with retries, à corriger, session, pull, faults.

Everything goes through real HTTP to the live server. The fault test puts a proxy in between that
loses requests before the server sees them and responses after the server committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from outreach.core.db import db
from outreach.core.models import Record
from sync import sequence
from sync.client import LoginRequired, OutreachClient, SyncFailed
from sync.protocol import STATUSES
from sync.schema import record
from tests.conftest import PASSWORD, add_user
from tests.fault_proxy import FaultProxy
from tests.sync_helpers import personne, rencontre

ROOT = Path(__file__).resolve().parent.parent
FAST = {"max_attempts": 12, "backoff_base": 0.005, "backoff_cap": 0.05, "timeout": 10}
NOTHING = dict.fromkeys(STATUSES, 0)


def count_statuses(app) -> Counter:
    """Count the HTTP statuses the app answers from now on, 5xx included, by wrapping it."""
    seen: Counter[int] = Counter()
    lock = threading.Lock()
    inner = app.wsgi_app

    def counting(environ, start_response):
        def start(status, headers, exc_info=None):
            with lock:
                seen[int(status.split()[0])] += 1
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = counting
    return seen


def stored(app) -> dict[str, dict]:
    """Return the records the server holds, by id."""
    with app.app_context():
        return {row.id: {"form": row.form, "data": row.data, "revision": row.revision,
                         "recorded_by": row.recorded_by}
                for row in db.session.scalars(select(Record).order_by(Record.change_seq))}


def field_client(server_url: str, folder: Path, login: str, **options) -> OutreachClient:
    """Return a client with its own outbox, logged in as `login`."""
    client = OutreachClient(server_url, folder / f"{login}.db", **{**FAST, **options})
    client.login(login, PASSWORD)
    return client


def test_push_sends_the_outbox_in_order_and_empties_it(app, live_server, tmp_path):
    statuses = count_statuses(app)
    author = add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent", batch_size=3)
    ids = [client.record("maraude.rencontre", rencontre(nombre_personnes=n)) for n in range(1, 8)]
    assert client.pending() == 7

    assert client.push() == {**NOTHING, "created": 7}
    assert client.pending() == 0 and client.to_fix() == []
    held = stored(app)
    assert list(held) == ids, "stored once each, in the order recorded"
    assert all(row["recorded_by"] == author for row in held.values())
    assert [row["data"]["nombre_personnes"] for row in held.values()] == list(range(1, 8))
    assert statuses[200] >= 3 + 1  # three batches of at most 3, after a fresh token

    answered = sum(statuses.values())
    assert client.push() == NOTHING, "nothing to send"
    assert sum(statuses.values()) == answered, "an empty outbox does not call the server"
    reopened = OutreachClient(live_server.url, tmp_path / "agent.db")
    assert reopened.device_id == client.device_id, "the device id is made once and kept"


def test_rejected_record_goes_to_fix_and_the_rest_of_its_batch_is_stored(app, live_server,
                                                                          tmp_path):
    add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent")
    first = client.record("maraude.rencontre", rencontre())
    bad = client.record("maraude.rencontre", rencontre(nombre_personnes=0))
    last = client.record("maraude.rencontre", rencontre(nombre_personnes=3))

    assert client.push() == {**NOTHING, "created": 2, "rejected": 1}
    assert client.pending() == 0
    assert set(stored(app)) == {first, last}
    (to_fix,) = client.to_fix()
    assert to_fix["id"] == bad and to_fix["status"] == "rejected"
    assert to_fix["data"]["nombre_personnes"] == 0
    assert to_fix["errors"] == {"nombre_personnes": ["Au moins 1."]}

    client.fix(bad, rencontre(nombre_personnes=1))
    assert client.pending() == 1 and client.to_fix() == []
    assert client.push() == {**NOTHING, "created": 1}
    assert stored(app)[bad]["data"]["nombre_personnes"] == 1


def test_expired_session_keeps_the_outbox_until_login(app, live_server, tmp_path):
    add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent")
    ids = {client.record("maraude.rencontre", rencontre()) for _ in range(2)}
    # The session ends on the server, as when it expires: the client still holds its cookie jar.
    answer = client.http.delete(f"{live_server.url}/api/v1/session",
                                headers={"X-CSRFToken": client.csrf_token})
    assert answer.status_code == 200

    with pytest.raises(LoginRequired, match="Session expirée : reconnectez-vous."):
        client.push()
    assert client.pending() == 2 and stored(app) == {}

    client.login("agent", PASSWORD)
    assert client.push() == {**NOTHING, "created": 2}
    assert set(stored(app)) == ids


def test_stale_csrf_token_is_refreshed_once(app, live_server, tmp_path, monkeypatch):
    statuses = count_statuses(app)
    add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent")
    client.record("maraude.rencontre", rencontre())
    real_refresh = client.refresh_token
    calls = []

    def stale_first(*args):
        calls.append(1)
        if len(calls) == 1:  # the refresh before the replay hands out a token that is no good
            client.csrf_token = "périmé"
            return client.csrf_token
        return real_refresh()

    monkeypatch.setattr(client, "refresh_token", stale_first)
    assert client.push() == {**NOTHING, "created": 1}
    assert len(calls) == 2 and statuses[400] == 1


def test_answers_that_do_not_match_the_batch_are_retried(app, live_server, tmp_path,
                                                         monkeypatch):
    add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent")
    good = client.record("maraude.rencontre", rencontre())
    bad = client.record("maraude.rencontre", rencontre(nombre_personnes=0))
    real_request = client.http.request
    pushes = []

    def unreliable(method, url, **kwargs):
        """Answer 503, then a result short, then the results in reverse order."""
        if not url.endswith("/api/v1/sync/push"):
            return real_request(method, url, **kwargs)
        pushes.append(1)
        if len(pushes) == 1:
            busy = requests.Response()
            busy.status_code, busy._content = 503, b'{"error": "Serveur occup\\u00e9."}'
            return busy
        answer = real_request(method, url, **kwargs)
        results = answer.json()["results"]
        results = results[:-1] if len(pushes) == 2 else results[::-1]
        answer._content = json.dumps({"results": results}).encode()
        return answer

    monkeypatch.setattr(client.http, "request", unreliable)
    counts = client.push()
    assert len(pushes) == 3
    # The second answer was cut short, so the third one finds the good record already stored.
    assert counts == {**NOTHING, "unchanged": 1, "rejected": 1}
    assert client.pending() == 0 and set(stored(app)) == {good}
    assert [row["id"] for row in client.to_fix()] == [bad], "results matched by id, not position"


def test_server_down_raises_sync_failed_and_keeps_the_outbox(app, live_server, tmp_path):
    add_user(app, "agent", "maraude")
    client = field_client(live_server.url, tmp_path, "agent", max_attempts=3)
    client.record("maraude.rencontre", rencontre())
    client.record("maraude.rencontre", rencontre())
    live_server.stop()

    with pytest.raises(SyncFailed, match="3 tentatives"):
        client.push()
    assert client.pending() == 2 and client.to_fix() == []


def test_an_outbox_waits_for_its_author(app, live_server, tmp_path):
    add_user(app, "agent", "maraude")
    add_user(app, "collegue", "maraude")
    client = field_client(live_server.url, tmp_path, "agent")
    client.record("maraude.rencontre", rencontre())

    with pytest.raises(SyncFailed, match="agent"):
        client.login("collegue", PASSWORD)
    assert client.pending() == 1
    client.login("agent", PASSWORD)
    assert client.push()["created"] == 1
    assert client.login("collegue", PASSWORD)["login"] == "collegue"


CLIENTS = 3
RECORDS_EACH = 150
ROUNDS = 30
DEADLINE = 45.0


def test_lossy_network_every_record_stored_exactly_once(app, live_server, tmp_path):
    statuses = count_statuses(app)
    for n in range(CLIENTS):
        add_user(app, f"agent{n}", "maraude")
    proxy = FaultProxy(live_server.port, drop_request=0.2, drop_response=0.2, seed=7)
    started = time.monotonic()
    # (ids recorded, results, left in the outbox, left to fix), read in the client's own thread.
    outcomes: dict[int, tuple[list[str], Counter, int, int]] = {}
    errors: list[BaseException] = []

    def field_day(n: int) -> None:
        client = OutreachClient(proxy.url, tmp_path / f"agent{n}.db", batch_size=10, **FAST)
        ids = [client.record("maraude.rencontre", rencontre(nombre_personnes=1 + k % 50))
               for k in range(RECORDS_EACH)]
        counts: Counter[str] = Counter()
        for _ in range(ROUNDS):  # a field laptop tries again later, as many times as it takes
            if not client.pending() or time.monotonic() - started > DEADLINE:
                break
            try:
                if client.csrf_token is None:
                    client.login(f"agent{n}", PASSWORD)
                counts.update(client.push())
            except SyncFailed:
                continue
        outcomes[n] = (ids, counts, client.pending(), len(client.to_fix()))

    def guarded(n: int) -> None:
        try:
            field_day(n)
        except BaseException as error:  # reported to the test, never lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(n,), daemon=True) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE + 10)
    finally:
        proxy.stop()
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert errors == []

    sent = [record_id for ids, *_ in outcomes.values() for record_id in ids]
    totals = sum((counts for _, counts, *_ in outcomes.values()), Counter())
    print(f"\nlossy network: {len(sent)} records by {CLIENTS} clients in "
          f"{time.monotonic() - started:.1f} s; proxy forwarded {proxy.forwarded}, dropped "
          f"{proxy.requests_dropped} requests and {proxy.responses_dropped} responses; "
          f"results {dict(totals)}; server statuses {dict(statuses)}")
    left = [(pending, to_fix) for *_, pending, to_fix in outcomes.values()]
    assert left == [(0, 0)] * CLIENTS, "every outbox emptied, nothing to fix"
    held = stored(app)
    assert len(sent) == len(set(sent)) == CLIENTS * RECORDS_EACH
    assert len(held) == len(sent) and set(held) == set(sent), "none lost, none doubled"
    assert totals["created"] + totals["unchanged"] == len(sent)
    assert totals["rejected"] == totals["conflict"] == totals["updated"] == 0
    assert not [status for status in statuses if status >= 500], statuses
    assert proxy.requests_dropped > 0 and proxy.responses_dropped > 0
    print(f"lossy network: {len(set(sent) - set(held))} lost, "
          f"{len(held) - len(set(sent))} doubled, 0 × 5xx")


def test_pull_keeps_this_persons_people_incrementally(app, live_server, tmp_path):
    add_user(app, "marie", "visiteur")
    add_user(app, "paul", "visiteur")
    marie = field_client(live_server.url, tmp_path, "marie")
    ids = [marie.record("personne", personne(alias_prenom=f"Personne {n}")) for n in range(3)]
    assert marie.push()["created"] == 3

    first = marie.pull()
    assert first["people"] == 3 and first["forms"] >= 1
    assert {person["id"] for person in marie.people()} == set(ids)
    forms = {row["key"] for row in marie.db["forms"].rows}
    assert {"personne", "visite.visite"} <= forms and "maraude.rencontre" not in forms

    assert marie.pull() == {"forms": 0, "reference": 0, "people": 0, "deleted": 0}

    marie.record("personne", personne(alias_prenom="Renommée"), record_id=ids[0],
                 base_revision=1)
    assert marie.push()["updated"] == 1
    assert marie.pull()["people"] == 1
    changed = {person["id"]: person for person in marie.people()}[ids[0]]
    assert changed["revision"] == 2 and changed["data"]["alias_prenom"] == "Renommée"

    with app.app_context():  # a merge or removal on the server leaves a tombstone
        seq = sequence.reserve(db.session, 1)
        db.session.execute(update(record).where(record.c.id == ids[1])
                           .values(deleted=True, change_seq=seq))
        db.session.commit()
    assert marie.pull()["deleted"] == 1
    assert {person["id"] for person in marie.people()} == {ids[0], ids[2]}

    paul = field_client(live_server.url, tmp_path, "paul")
    assert paul.pull()["people"] == 0 and paul.people() == []


def cli(*args: str, outbox: Path, server: str) -> subprocess.CompletedProcess:
    """Run the client's command line."""
    env = {**os.environ, "OUTREACH_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sync.client", "--server", server, "--outbox", str(outbox), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )


def test_command_line_help():
    done = subprocess.run([sys.executable, "-m", "sync.client", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "push" in done.stdout and "pull" in done.stdout and "outbox" in done.stdout


def test_command_line_login_record_push(app, live_server, tmp_path):
    add_user(app, "agent", "maraude")
    where = {"outbox": tmp_path / "cli.db", "server": live_server.url}

    made = cli("record", "maraude.rencontre", json.dumps(rencontre()), **where)
    assert made.returncode == 0, made.stderr
    refused = cli("push", **where)
    assert refused.returncode == 1 and "reconnectez-vous" in refused.stderr, "no session yet"
    assert cli("login", "agent", **where).returncode == 0
    assert json.loads(cli("status", **where).stdout)["pending"] == 1
    pushed = cli("push", **where)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["created"] == 1
    assert json.loads(cli("status", **where).stdout)["pending"] == 0
    assert set(stored(app)) == {json.loads(made.stdout)["id"]}
