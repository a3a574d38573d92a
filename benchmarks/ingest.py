"""Ingest: 10,000 rencontres pushed through real HTTP to `outreach run`, then replayed.

Two mixes, each on a fresh server: a calm one (no urgent situation) and a hard one (half of the
rencontres urgent, each raising an alert). Each is compared in the same run with its own floor
(DESIGN §9): the same rows already encoded, inserted by a bare SQLite executemany with a commit
per batch of 500, WAL and synchronous=NORMAL as the server, best of three; the push is the best
of three too (`--repeat`), each on a fresh server. `--engine
postgresql` (or `both`) does the same on a throwaway PostgreSQL cluster (Debian's package, as the
tests start it, here with fsync and synchronous commits on), against psycopg's executemany in one
transaction per batch.
Goal (issue 18): end to end ≤ 25× the floor for both mixes; the replay no slower than the push.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import login, rencontres, running_server


def push_all(session, url: str, records: list[dict], batch: int) -> tuple[float, dict]:
    device = str(uuid.uuid4())
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        answer = session.post(f"{url}/api/v1/sync/push", timeout=120,
                              json={"device_id": device, "records": records[start:start + batch]})
        answer.raise_for_status()
        for result in answer.json()["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return time.perf_counter() - started, statuses


def bare_insert(records: list[dict], batch: int) -> float:
    """Insert the same rows, already encoded, with sqlite3's executemany: the best of three."""
    rows = [(r["id"], r["form"], r["form_version"], r["recorded_at"], r["parent_id"],
             json.dumps(r["data"])) for r in records]
    best = float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            connection = sqlite3.connect(Path(folder) / "bare.db")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE record (id TEXT PRIMARY KEY, form TEXT, form_version INTEGER, "
                "recorded_at TEXT, parent_id TEXT, data TEXT)")
            started = time.perf_counter()
            for start in range(0, len(rows), batch):
                connection.executemany("INSERT INTO record VALUES (?, ?, ?, ?, ?, ?)",
                                       rows[start:start + batch])
                connection.commit()
            best = min(best, time.perf_counter() - started)
            connection.close()
    return best


def bare_insert_postgresql(cluster, records: list[dict], batch: int) -> float:
    """Insert the same rows, already encoded, with psycopg's executemany: the best of three."""
    import psycopg  # the [postgresql] extra: only for this engine
    rows = [(r["id"], r["form"], r["form_version"], r["recorded_at"], r["parent_id"],
             json.dumps(r["data"])) for r in records]
    best = float("inf")
    for _ in range(3):
        name = cluster.create()
        with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                             dbname=name) as connection:
            connection.execute(
                "CREATE TABLE record (id TEXT PRIMARY KEY, form TEXT, form_version INTEGER, "
                "recorded_at TEXT, parent_id TEXT, data JSONB)")
            connection.commit()
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for start in range(0, len(rows), batch):
                    cursor.executemany("INSERT INTO record VALUES (%s, %s, %s, %s, %s, %s)",
                                       rows[start:start + batch])
                    connection.commit()
            best = min(best, time.perf_counter() - started)
        cluster.drop(name)
    return best


def measure(records: list[dict], batch: int, cluster=None, repeat: int = 3) -> dict:
    """Push then replay the records, each time on a fresh server; say the best of `repeat`
    against the floor's best of three."""
    if cluster is None:
        bare_seconds = bare_insert(records, batch)
    else:
        bare_seconds = bare_insert_postgresql(cluster, records, batch)
    push_seconds = replay_seconds = float("inf")
    for _ in range(repeat):
        database = cluster.url(cluster.create()) if cluster else None
        with running_server([("banc", "maraude")], database) as (url, _instance):
            session = login(url, "banc")
            seconds, pushed = push_all(session, url, records, batch)
            push_seconds = min(push_seconds, seconds)
            seconds, replayed = push_all(session, url, records, batch)
            replay_seconds = min(replay_seconds, seconds)
    return {
        "urgent": sum(1 for r in records if r["data"]["situation_urgente"]),
        "bare_insert_seconds": round(bare_seconds, 4),
        "push_seconds": round(push_seconds, 3),
        "push_records_per_second": round(len(records) / push_seconds),
        "replay_seconds": round(replay_seconds, 3),
        "push_vs_bare": round(push_seconds / bare_seconds, 1),
        "replay_vs_push": round(replay_seconds / push_seconds, 2),
        "statuses_push": pushed,
        "statuses_replay": replayed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3,
                        help="pushes on fresh servers, the best kept (as the floor's)")
    args = parser.parse_args()
    mixes = {"calme": rencontres(args.records),
             "difficile": rencontres(args.records, urgent_every=2)}
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    figures = {}
    for engine in engines:
        cluster = None
        if engine == "postgresql":
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests import postgres  # the tests' throwaway cluster

            # A server as durable as a real one: the tests' cluster runs without fsync.
            postgres.FAST.update(fsync="on", synchronous_commit="on", full_page_writes="on")
            cluster = postgres.ThrowawayCluster()
        try:
            figures[engine] = {name: measure(records, args.batch, cluster, args.repeat)
                               for name, records in mixes.items()}
        finally:
            if cluster:
                cluster.stop()
    every = [mix for engine in figures.values() for mix in engine.values()]
    print(json.dumps({
        "benchmark": "ingest",
        "records": args.records,
        "batch": args.batch,
        # The worst of the mixes and engines, the figure the goal is held to.
        "push_vs_bare": max(mix["push_vs_bare"] for mix in every),
        "replay_vs_push": max(mix["replay_vs_push"] for mix in every),
        "engines": figures,
        "goal": "push_vs_bare <= 25 for both mixes, replay_vs_push <= 1",
    }, indent=2))


if __name__ == "__main__":
    main()
