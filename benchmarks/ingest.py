"""Ingest: 10,000 rencontres pushed through real HTTP to `outreach run`, then replayed.

Compared in the same run with the same rows inserted by a bare SQLite executemany (the floor).
Goal (issue 5): end to end ≤ 25× the bare insert; the replay no slower than the first push.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
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
    """Insert the same rows with sqlite3's executemany, one commit per batch (WAL, like the app)."""
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "bare.db")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(
            "CREATE TABLE record (id TEXT PRIMARY KEY, form TEXT, form_version INTEGER, "
            "recorded_at TEXT, parent_id TEXT, data TEXT)")
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            connection.executemany(
                "INSERT INTO record VALUES (?, ?, ?, ?, ?, ?)",
                [(r["id"], r["form"], r["form_version"], r["recorded_at"], r["parent_id"],
                  json.dumps(r["data"])) for r in records[start:start + batch]])
            connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    records = rencontres(args.records)
    with running_server([("banc", "maraude")]) as (url, _instance):
        session = login(url, "banc")
        push_seconds, pushed = push_all(session, url, records, args.batch)
        replay_seconds, replayed = push_all(session, url, records, args.batch)
    bare_seconds = bare_insert(records, args.batch)
    print(json.dumps({
        "benchmark": "ingest",
        "records": args.records,
        "batch": args.batch,
        "push_seconds": round(push_seconds, 3),
        "push_records_per_second": round(args.records / push_seconds),
        "replay_seconds": round(replay_seconds, 3),
        "replay_records_per_second": round(args.records / replay_seconds),
        "bare_insert_seconds": round(bare_seconds, 4),
        "bare_records_per_second": round(args.records / bare_seconds),
        "push_vs_bare": round(push_seconds / bare_seconds, 1),
        "replay_vs_push": round(replay_seconds / push_seconds, 2),
        "goal": "push_vs_bare <= 25, replay_vs_push <= 1",
        "statuses_push": pushed,
        "statuses_replay": replayed,
    }, indent=2))


if __name__ == "__main__":
    main()
