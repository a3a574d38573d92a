"""Concurrency (issue 5): overlapping batches pushed at the same moment give one row per record.

Through real HTTP (several sessions on the live server) and at the engine level (two SQLAlchemy
sessions, each its own connection to the same SQLite file): no duplicate, nothing lost, no error,
every result `created` or `unchanged`, each record created exactly once.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.core.catalog import EngineForms
from outreach.core.db import db
from sync.push import Actor, apply_batch
from sync.schema import quarantine, record, record_conflict, sync_log
from tests.conftest import PASSWORD, add_user
from tests.sync_helpers import item, rencontre

TIMEOUT = 30
THREADS = 4
RECORDS = 200
BATCH = 50
ROUNDS = 4


def count(app, table) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(table))


def run_together(target, count: int) -> list[BaseException]:
    """Run `target(index)` in `count` threads; return what they raised (bounded in time)."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # reported to the test, never lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a pushing thread hung"
    return errors


def log_in(url: str, login: str) -> requests.Session:
    """Open one API session (its own cookie and CSRF token), as one tablet would."""
    session = requests.Session()
    answer = session.post(f"{url}/api/v1/session", json={"login": login, "password": PASSWORD},
                          timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    session.headers["X-CSRFToken"] = answer.json()["csrf_token"]
    return session


def overlapping_batches(records: list[dict]) -> list[list[list[dict]]]:
    """Give each thread 100 of the 200 records, so that every record goes to exactly two threads.

    Thread t takes records [50t, 50t + 100) around the circle, shuffled its own way, in batches
    of 50: the threads' batches overlap without being the same batch in the same order.
    """
    share = RECORDS * 2 // THREADS
    plans = []
    for thread in range(THREADS):
        mine = [records[(thread * BATCH + k) % RECORDS] for k in range(share)]
        random.Random(thread).shuffle(mine)
        plans.append([mine[start:start + BATCH] for start in range(0, share, BATCH)])
    return plans


def test_overlapping_batches_pushed_at_once_over_http(app, live_server):
    add_user(app, "agent", "maraude")
    records = [item(data=rencontre(nombre_personnes=1 + n % 50)) for n in range(RECORDS)]
    plans = overlapping_batches(records)
    seen = Counter(r["id"] for plan in plans for batch in plan for r in batch)
    assert set(seen.values()) == {2}, "each record is in the batches of two threads"

    # The same account on four sessions: a record is its author's, whoever of them replays it.
    sessions = [log_in(live_server.url, "agent") for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS, timeout=TIMEOUT)
    answers: list[list[tuple[list[str], int, dict | str]]] = [[] for _ in range(THREADS)]

    def push(index: int) -> None:
        session, device_id = sessions[index], str(uuid.uuid4())
        barrier.wait()
        for batch in plans[index] * 2:  # each batch pushed twice: the second time is a replay
            answer = session.post(f"{live_server.url}/api/v1/sync/push",
                                  json={"device_id": device_id, "records": batch},
                                  timeout=TIMEOUT)
            body = answer.json() if answer.headers.get("Content-Type", "").startswith(
                "application/json") else answer.text
            answers[index].append(([r["id"] for r in batch], answer.status_code, body))

    assert run_together(push, THREADS) == []

    created: Counter[str] = Counter()
    for thread_answers in answers:
        assert len(thread_answers) == 2 * len(plans[0])
        for sent_ids, status_code, body in thread_answers:
            assert status_code == 200, body
            results = body["results"]
            assert [r["id"] for r in results] == sent_ids, "one result per record, in order"
            for result in results:
                assert result["status"] in ("created", "unchanged"), result
                assert result["revision"] == 1 and result["errors"] == {}, result
                if result["status"] == "created":
                    created[result["id"]] += 1
    assert created == Counter({r["id"]: 1 for r in records}), "each record created exactly once"

    with app.app_context():
        stored = {row.id: row for row in db.session.execute(select(record))}
    assert len(stored) == RECORDS and set(stored) == {r["id"] for r in records}
    assert all(row.revision == 1 for row in stored.values())
    assert {i: row.data for i, row in stored.items()} == {r["id"]: r["data"] for r in records}
    assert count(app, record_conflict) == 0 and count(app, quarantine) == 0
    assert count(app, sync_log) == THREADS * 2 * len(plans[0])


def test_two_connections_applying_the_same_batch_at_once(app):
    user_id = add_user(app, "agent", "maraude")
    actor = Actor(id=user_id, role="maraude")
    forms = EngineForms(app.extensions["outreach.forms"])
    sent: list[dict] = []

    for _ in range(ROUNDS):
        batch = [item(data=rencontre(nombre_personnes=1 + n % 50)) for n in range(100)]
        sent += batch
        barrier = threading.Barrier(2, timeout=TIMEOUT)
        results: list[list[dict] | None] = [None, None]
        connections: set[int] = set()

        def apply(index: int, batch=batch, barrier=barrier, results=results,
                  connections=connections) -> None:
            # Each thread its own app context and its own Session, hence its own connection.
            with app.app_context(), Session(db.engine) as session:
                # Held through the barrier: both connections are open when the race starts.
                connections.add(id(session.connection().connection.dbapi_connection))
                barrier.wait()
                results[index] = apply_batch(session, actor, str(uuid.uuid4()), batch,
                                             forms).results

        assert run_together(apply, 2) == []
        assert len(connections) == 2, "two separate connections"
        ids = [r["id"] for r in batch]
        for found in results:
            assert found is not None and [r["id"] for r in found] == ids
            assert all(r["revision"] == 1 and r["errors"] == {} for r in found)
        statuses = Counter((r["id"], r["status"]) for found in results for r in found)
        assert statuses == Counter({(i, s): 1 for i in ids for s in ("created", "unchanged")})

    with app.app_context():
        stored = db.session.scalars(select(record.c.id)).all()
    assert sorted(stored) == sorted(r["id"] for r in sent), "one row per id, none lost"
    assert count(app, record_conflict) == 0 and count(app, quarantine) == 0
