"""Pull: a visiteur with 500 people and their visits; the first full pull and an empty one.

Goals (issue 5): first pull ≤ 200 KB gzip-compressed on the wire and ≤ 100 ms server time;
an incremental pull with nothing new ≤ 10 ms. Server time is measured in-process around
build_pull (the engine) and end to end over HTTP on 127.0.0.1; the floor, in the same run, is a
bare sqlite3 SELECT of the same people plus json.dumps. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from common import login, running_server

FIRST_NAMES = ["Jeanne", "Marcel", "Simone", "Roger", "Odette", "André", "Yvette", "Lucien"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]


def senior(number: int) -> dict:
    return {
        "id": str(uuid.UUID(int=(7 << 64) + number, version=4)), "form": "personne",
        "form_version": 1, "recorded_at": "2026-01-05T10:00:00+01:00", "parent_id": None,
        "base_revision": None,
        "data": {"niveau": "identifie", "alias_prenom": FIRST_NAMES[number % 8],
                 "nom": f"{LAST_NAMES[number % 8]}-{number}",
                 "date_naissance": f"19{40 + number % 18}-0{1 + number % 9}-1{number % 9}",
                 "sexe": "femme" if number % 3 else "homme",
                 "telephone": f"06 12 34 {number % 100:02d} {number % 97:02d}",
                 "adresse": f"{number % 80 + 1} rue des Lilas, 77100 Val-Fleuri",
                 "consentement": True, "date_consentement": "2025-06-01",
                 "notes": "Vit seule, fille à Lyon. Aime parler jardinage."},
    }


def visit(person: dict, week: int) -> dict:
    day = date(2026, 1, 5) + timedelta(days=7 * week)
    return {
        "id": str(uuid.uuid4()), "form": "visite.visite", "form_version": 1,
        "recorded_at": f"{day.isoformat()}T10:00:00+01:00", "parent_id": None,
        "base_revision": None,
        "data": {"personne": person["id"], "date": day.isoformat(), "mode": "domicile",
                 "personne_vue": "oui", "etat_general": "bon", "isolement": "faible",
                 "alerte": "aucune", "notes": "Bonne forme, a parlé de ses petits-enfants."},
    }


def push(session, url: str, records: list[dict]) -> None:
    device = str(uuid.uuid4())
    for start in range(0, len(records), 500):
        answer = session.post(f"{url}/api/v1/sync/push", timeout=120,
                              json={"device_id": device, "records": records[start:start + 500]})
        answer.raise_for_status()
        assert all(r["status"] == "created" for r in answer.json()["results"])


def wire_pull(session, url: str, cursor: str | None) -> tuple[float, int, dict]:
    started = time.perf_counter()
    answer = session.get(f"{url}/api/v1/sync/pull", params={"cursor": cursor} if cursor else {},
                         headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60)
    raw = answer.raw.read()
    elapsed = time.perf_counter() - started
    body = gzip.decompress(raw) if answer.headers.get("Content-Encoding") == "gzip" else raw
    return elapsed, len(raw), json.loads(body)


def engine_pull(instance: Path, login_name: str, cursor: str | None, runs: int) -> float:
    """Time build_pull in-process on the same database (the server's own work)."""
    import os

    os.environ["OUTREACH_INSTANCE_PATH"] = str(instance)
    from outreach import create_app
    from outreach.core.catalog import offline_forms, offline_reference
    from outreach.core.db import db
    from outreach.core.models import User
    from sync.pull import build_pull
    from sync.push import Actor

    app = create_app()
    timings = []
    with app.test_request_context():
        user = db.session.query(User).filter_by(login=login_name).one()
        actor = Actor(user.id, user.role)
        for _ in range(runs):
            started = time.perf_counter()
            build_pull(db.session, actor, cursor, offline_forms(user), offline_reference())
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bare_select(instance: Path, runs: int) -> float:
    connection = sqlite3.connect(instance / "outreach.db")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = connection.execute(
            "SELECT id, revision, data FROM record WHERE form = 'personne'").fetchall()
        json.dumps([{"id": i, "revision": r, "data": json.loads(d)} for i, r, d in rows])
        timings.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--visits", type=int, default=10, help="visits per person")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    people = [senior(n) for n in range(args.people)]
    visits = [visit(p, week) for p in people for week in range(args.visits)]
    with running_server([("visiteuse", "visiteur"), ("autre", "visiteur")]) as (url, instance):
        session = login(url, "visiteuse")
        push(session, url, people + visits)
        other = login(url, "autre")
        push(other, url, [senior(100_000 + n) for n in range(200)])
        full = [wire_pull(session, url, None) for _ in range(args.runs)]
        _, size, first = full[0]
        assert len(first["people"]) == args.people and not first["more"]
        empty = [wire_pull(session, url, first["cursor"]) for _ in range(args.runs)]
        assert empty[0][2]["people"] == []
        engine_full = engine_pull(instance, "visiteuse", None, args.runs)
        engine_empty = engine_pull(instance, "visiteuse", first["cursor"], args.runs)
        floor = bare_select(instance, args.runs)
    print(json.dumps({
        "benchmark": "pull",
        "people": args.people,
        "visits": len(visits),
        "first_pull_bytes_gzip": size,
        "first_pull_kb_gzip": round(size / 1024, 1),
        "first_pull_engine_ms": round(engine_full * 1000, 1),
        "first_pull_http_ms": round(statistics.median(t for t, _, _ in full) * 1000, 1),
        "empty_pull_engine_ms": round(engine_empty * 1000, 2),
        "empty_pull_http_ms": round(statistics.median(t for t, _, _ in empty) * 1000, 2),
        "bare_select_ms": round(floor * 1000, 2),
        "first_pull_engine_vs_bare": round(engine_full / floor, 1),
        "goal": "first pull <= 200 KB gzip and <= 100 ms; empty pull <= 10 ms",
    }, indent=2))


if __name__ == "__main__":
    main()
