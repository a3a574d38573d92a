"""Pull: a visiteur with 500 people and their visits; the first full pull and an empty one.

Goals (issue 5): first pull ≤ 200 KB gzip-compressed on the wire and ≤ 100 ms server time;
an incremental pull with nothing new ≤ 10 ms. Server time is measured in-process around
build_pull (the engine) and end to end over HTTP on 127.0.0.1; the floor, in the same run, is a
bare sqlite3 SELECT of the same people plus json.dumps. Prints one JSON object.

`--city 20000` adds a big city (issue 20, `city` in the output): a coordinateur's office tablet.
An office tablet pulls only the people its own records create or name (sync/access.py,
`people_offline`), the calls given to it, the alerts it raised; not the register (the office's,
read online). So the coordinateur has filed half the people at the office and entered the whole
register, each entry naming its person's file; the other half were filed by four visiteurs, who
also filed 1,000 people of their own that no entry names (not pulled). Goals: the first pull, every
page until `more` is false, ≤ 1 s in all over HTTP and ≤ 5 MB gzip on the wire; written to
IndexedDB ≤ 5 s by the app's own sync in headless Chromium, sealed, timed in the page. Same-run
baselines: a bare SELECT of the same people plus json.dumps (HTTP), and the same pages fetched and
parsed by the page without being kept (IndexedDB). The tablet writes each page as it comes
(sync.js `pullAll` → working-set.js `storePulled`, one transaction a page): the page's JS heap
at its highest during the pull is given beside the size of the whole answer. Invented people only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from common import login, push_all, running_server, senior
from offline import QUIET_FORM, log_in, open_tablet, wait_for
from playwright.sync_api import sync_playwright

VISITEURS = ["visiteur1", "visiteur2", "visiteur3", "visiteur4"]
CITY_GOALS = {"first_pull_http_ms": 1000, "first_pull_mb_gzip": 5, "indexeddb_seconds": 5}

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


def entry(person: dict, number: int) -> dict:
    """Return the coordinateur's register entry for this invented person, naming their file."""
    data = person["data"]
    return {
        "id": str(uuid.UUID(int=(21 << 64) + number, version=4)), "form": "registre.inscription",
        "form_version": 2, "recorded_at": "2026-01-05T11:00:00+01:00", "parent_id": None,
        "base_revision": None,
        "data": {"nom": data["nom"], "prenoms": data["alias_prenom"],
                 "date_naissance": data["date_naissance"], "categorie": "65_ans_plus",
                 "adresse": data["adresse"], "secteur": f"Quartier {number % 12 + 1}",
                 "telephone": data["telephone"], "contact_urgence": "Sa fille",
                 "telephone_urgence": f"06 98 76 {number % 100:02d} {number % 89:02d}",
                 "date_demande": "2026-01-05", "demandeur": "personne",
                 "personne": person["id"]},
    }


def wire_pull(session, url: str, cursor: str | None) -> tuple[float, int, dict]:
    started = time.perf_counter()
    answer = session.get(f"{url}/api/v1/sync/pull", params={"cursor": cursor} if cursor else {},
                         headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60)
    raw = answer.raw.read()
    elapsed = time.perf_counter() - started
    body = gzip.decompress(raw) if answer.headers.get("Content-Encoding") == "gzip" else raw
    return elapsed, len(raw), json.loads(body)


def wire_pull_all(session, url: str) -> dict:
    """Pull from no cursor, page after page until `more` is false: time, bytes, people."""
    started = time.perf_counter()
    cursor, pages, size, people, largest = None, 0, 0, 0, 0
    while True:
        _, raw, body = wire_pull(session, url, cursor)
        pages, size, people, largest = pages + 1, size + raw, people + len(body["people"]), \
            max(largest, raw)
        if not body["more"]:
            return {"seconds": time.perf_counter() - started, "pages": pages, "bytes_gzip": size,
                    "largest_page_gzip": largest, "people": people}
        cursor = body["cursor"]


# The app's own sync in the page, from an empty working set; before it, the same pages fetched
# and parsed, not kept (the floor). The JS heap is sampled every 5 ms during the sync.
IN_PAGE = """async () => {
    const store = await import('/static/js/store.js');
    const db = await store.database();
    await window.outreach.sync();  // one the tablet started by itself ends first
    let cursor = null, pages = 0, people = 0, chars = 0;
    let started = performance.now();
    for (;;) {
        const query = new URLSearchParams(cursor ? { cursor } : {});
        const text = await (await fetch(`/api/v1/sync/pull?${query}`,
                                        { credentials: 'same-origin' })).text();
        const body = JSON.parse(text);
        pages += 1; people += body.people.length; chars += text.length;
        if (!body.more) break;
        cursor = body.cursor;
    }
    const fetchOnly = performance.now() - started;
    const tx = db.transaction([...store.KINDS, 'meta'], 'readwrite');
    await Promise.all([...store.KINDS.map((kind) => tx.objectStore(kind).clear()),
                       tx.objectStore('meta').delete('cursor'), tx.done]);
    if (window.gc) window.gc();
    const heap = () => performance.memory.usedJSHeapSize;
    const base = heap();
    let peak = base;
    const sampler = setInterval(() => { peak = Math.max(peak, heap()); }, 5);
    started = performance.now();
    const result = await window.outreach.sync();
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, heap());
    return { ms, fetch_only_ms: fetchOnly, pages, people, answer_chars: chars,
             stored: await db.count('people'), result, heap_base: base, heap_peak: peak };
}"""


def city_in_page(url: str, runs: int, pin: bool) -> list[dict]:
    """The coordinateur's office tablet in Chromium: the app's own first pull, `runs` times."""
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = open_tablet(playwright, profile,
                              ("--enable-precise-memory-info", "--js-flags=--expose-gc"))
        page = browser.pages[0] if browser.pages else browser.new_page()
        log_in(page, url, "bureau", pin)
        page.goto(f"{url}{QUIET_FORM}")
        wait_for(page, "document.body.dataset.settled === '1'")
        found = [page.evaluate(IN_PAGE) for _ in range(runs)]
        browser.close()
    return found


def city(url: str, instance: Path, people: int, runs: int) -> dict:
    """A coordinateur's office tablet with `people` people: over HTTP, then in Chromium."""
    own = [senior(n, seed=11) for n in range(people // 2)]
    followed = [senior(n, seed=12) for n in range(people - len(own))]
    for number, name in enumerate(VISITEURS):
        unnamed = [senior(n, seed=13) for n in range(number * 250, (number + 1) * 250)]
        push_all(login(url, name), url, followed[number::len(VISITEURS)] + unnamed)
    office = login(url, "bureau")
    push_all(office, url, own + [entry(p, n) for n, p in enumerate(own + followed)])
    http = [wire_pull_all(office, url) for _ in range(runs)]
    assert all(h["people"] == people for h in http), http
    floor = bare_city(instance, runs)
    pin = os.environ.get("OUTREACH_TABLET_PIN", "on") != "off"
    pages = city_in_page(url, runs, pin)
    assert all(p["stored"] == people == p["people"] and "sent" in p["result"] for p in pages), \
        pages
    seconds = statistics.median(h["seconds"] for h in http)
    written = statistics.median(p["ms"] for p in pages) / 1000
    fetched = statistics.median(p["fetch_only_ms"] for p in pages) / 1000
    size = http[0]["bytes_gzip"]
    figures = {
        "people": people, "sealed": pin, "pages": http[0]["pages"],
        "first_pull_http_ms": round(seconds * 1000, 1),
        "first_pull_http_ms_runs": [round(h["seconds"] * 1000, 1) for h in http],
        "first_pull_mb_gzip": round(size / 1024 / 1024, 2),
        "largest_page_kb_gzip": round(http[0]["largest_page_gzip"] / 1024, 1),
        "bare_select_ms": round(floor * 1000, 1),
        "first_pull_http_vs_bare": round(seconds / floor, 1),
        "indexeddb_seconds": round(written, 3),
        "indexeddb_seconds_runs": [round(p["ms"] / 1000, 3) for p in pages],
        "in_page_fetch_only_seconds": round(fetched, 3),
        "indexeddb_vs_fetch_only": round(written / fetched, 2),
        "answer_mb_json": round(pages[0]["answer_chars"] / 1024 / 1024, 1),
        "js_heap_peak_growth_mb": round(max(p["heap_peak"] - p["heap_base"] for p in pages)
                                        / 1024 / 1024, 1),
    }
    figures["goals_met"] = {key: figures[key] <= goal for key, goal in CITY_GOALS.items()}
    figures["goal"] = "first pull <= 1 s over HTTP, <= 5 MB gzip; written to IndexedDB <= 5 s"
    return figures


def bare_city(instance: Path, runs: int) -> float:
    """The floor: the office tablet's people read by a bare SELECT, then json.dumps."""
    connection = sqlite3.connect(instance / "outreach.db")
    office = connection.execute("SELECT id FROM user_account WHERE login = 'bureau'").fetchone()[0]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = connection.execute(
            "SELECT id, revision, data FROM record WHERE form = 'personne' AND (recorded_by = ?"
            " OR id IN (SELECT json_extract(data, '$.personne') FROM record"
            " WHERE recorded_by = ? AND form != 'personne'))", (office, office)).fetchall()
        json.dumps([{"id": i, "revision": r, "data": json.loads(d)} for i, r, d in rows])
        timings.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(timings)


def engine_pull(instance: Path, login_name: str, cursor: str | None, runs: int) -> float:
    """Time build_pull in-process on the same database (the server's own work)."""
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
    parser.add_argument("--city", type=int, default=0, metavar="PEOPLE",
                        help="also a coordinateur's office tablet with this many people (20000)")
    parser.add_argument("--city-runs", type=int, default=3)
    args = parser.parse_args()
    people = [senior(n) for n in range(args.people)]
    visits = [visit(p, week) for p in people for week in range(args.visits)]
    users = [("visiteuse", "visiteur"), ("autre", "visiteur")]
    if args.city:
        users += [("bureau", "coordinateur"), *((name, "visiteur") for name in VISITEURS)]
    with running_server(users) as (url, instance):
        session = login(url, "visiteuse")
        push_all(session, url, people + visits)
        other = login(url, "autre")
        push_all(other, url, [senior(100_000 + n) for n in range(200)])
        full = [wire_pull(session, url, None) for _ in range(args.runs)]
        _, size, first = full[0]
        assert len(first["people"]) == args.people and not first["more"]
        empty = [wire_pull(session, url, first["cursor"]) for _ in range(args.runs)]
        assert empty[0][2]["people"] == []
        engine_full = engine_pull(instance, "visiteuse", None, args.runs)
        engine_empty = engine_pull(instance, "visiteuse", first["cursor"], args.runs)
        floor = bare_select(instance, args.runs)
        # After the figures above, so that the big city's rows do not change them.
        big = city(url, instance, args.city, args.city_runs) if args.city else None
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
        **({"city": big} if big else {}),
    }, indent=2))


if __name__ == "__main__":
    main()
