"""The offline tablet in headless Chromium: shell size, offline cold start, flushing 1,000 records.

Goals (issue 6): shell ≤ 150 KB; offline cold start to a usable form ≤ 300 ms; 1,000 records
queued in IndexedDB flushed to the server ≤ 3 s. Same-run baselines: the same page loaded online
(cold start), and the same 1,000 records pushed by a bare HTTP client (flush). Prints JSON.

The tablet's data is sealed (issue 17) unless the server runs with OUTREACH_TABLET_PIN=off: run
it both ways to see what encryption costs. The cold start is measured unlocked; the unlock (the
code's key derivation, then the page) is measured on its own (`unlock_ms`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import requests
from common import PASSWORD, login, running_server
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
FORM = "/saisie/maraude.rencontre"
READY = "document.body.dataset.ready === 'form'"
CODE = "2468"


def shell_bytes(url: str, session: requests.Session) -> dict:
    """Add up what the home page and a form need, icons aside (uncompressed bytes)."""
    sizes = {"home_html": len(session.get(f"{url}/").content),
             "form_html": len(session.get(f"{url}{FORM}").content)}
    static = Path(__file__).parent.parent / "outreach" / "static"
    for path in [static / "outreach.css", *sorted((static / "js").glob("*.js")),
                 static / "vendor" / "idb" / "index.js"]:
        sizes[path.relative_to(static).as_posix()] = path.stat().st_size
    return {"total": sum(sizes.values()), "parts": sizes}


def wait_for(page, predicate: str) -> None:
    """Poll a condition in the page, written into the evaluated source.

    The Content-Security-Policy (no 'unsafe-eval') refuses the `new Function` that
    `wait_for_function` makes of a string.
    """
    page.evaluate("""async () => {
        while (!(""" + predicate + """)) await new Promise((done) => setTimeout(done, 5));
    }""")


def timed_load(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    wait_for(page, READY)
    return time.perf_counter() - started


def timed_unlock(page, url: str) -> float:
    """Lock, open the form, and time the code typed to a usable form."""
    page.evaluate("import('/static/js/crypto.js')"
                  ".then((keys) => keys.lock(document.body.dataset.userId))")
    page.goto(url)
    page.get_by_label("Code", exact=True).fill(CODE)
    started = time.perf_counter()
    page.get_by_role("button", name="Déverrouiller").click()
    wait_for(page, READY)
    return time.perf_counter() - started


def rencontre(number: int) -> dict:
    return {"id": str(uuid.uuid4()), "form": "maraude.rencontre", "form_version": 1,
            "title": "Rencontre", "recorded_at": "2026-11-20T21:30:00+00:00", "parent_id": None,
            "base_revision": None,
            "data": {"lieu": {"label": f"Gare {number}", "lat": None, "lon": None},
                     "niveau": "anonyme", "nombre_personnes": 1 + number % 3,
                     "prestations": ["boisson_chaude"]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with running_server([("banc", "maraude"), ("banc2", "maraude")]) as (url, _), \
            sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        shell = shell_bytes(url, login(url, "banc"))
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.goto(f"{url}/connexion")
        page.get_by_label("Identifiant").fill("banc")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        pin = os.environ.get("OUTREACH_TABLET_PIN", "on") != "off"
        if pin:
            page.get_by_label("Code", exact=True).fill(CODE)
            page.get_by_label("Confirmer le code").fill(CODE)
            page.get_by_role("button", name="Enregistrer le code").click()
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}{FORM}")
        wait_for(page, "navigator.serviceWorker.controller !== null")
        # wait_for_function would take the promise for a yes: poll the cache in the page.
        page.evaluate("""async (form) => {
            while (!(await caches.match(form))) await new Promise((done) => setTimeout(done, 50));
        }""", FORM)
        online = [timed_load(page, f"{url}{FORM}") for _ in range(args.runs)]
        browser.set_offline(True)
        offline = [timed_load(page, f"{url}{FORM}") for _ in range(args.runs)]
        unlocks = [timed_unlock(page, f"{url}{FORM}") for _ in range(args.runs)] if pin else []
        browser.set_offline(False)
        page.evaluate("window.outreach.sync()")  # let the sync the network's return starts end

        records = [rencontre(n) for n in range(args.records)]
        page.evaluate("""async (records) => {
            const store = await import('/static/js/store.js');
            for (const record of records) await store.queue(record);
        }""", records)
        started = time.perf_counter()
        # A sync the tablet started by itself (a timer, the network's return) may take part of
        # the outbox: the flush ends when the outbox is empty, whoever sent it.
        page.evaluate("""async () => {
            const store = await import('/static/js/store.js');
            await window.outreach.sync();
            for (let round = 0; round < 20 && await store.countWaiting(); round += 1) {
                await window.outreach.sync();
            }
        }""")
        waiting = page.evaluate("import('/static/js/store.js').then((s) => s.countWaiting())")
        assert waiting == 0, waiting
        flush = time.perf_counter() - started
        browser.close()

        bare = login(url, "banc2")
        plain = [{k: v for k, v in rencontre(n).items() if k != "title"}
                 for n in range(args.records)]
        started = time.perf_counter()
        for start in range(0, len(plain), 500):
            bare.post(f"{url}/api/v1/sync/push", timeout=120,
                      json={"device_id": str(uuid.uuid4()),
                            "records": plain[start:start + 500]}).raise_for_status()
        bare_push = time.perf_counter() - started
    print(json.dumps({
        "benchmark": "offline",
        "sealed": pin,
        "unlock_ms": round(statistics.median(unlocks) * 1000, 1) if unlocks else None,
        "shell_bytes": shell["total"],
        "shell_kb": round(shell["total"] / 1024, 1),
        "shell_parts": shell["parts"],
        "cold_start_offline_ms": round(statistics.median(offline) * 1000, 1),
        "load_online_ms": round(statistics.median(online) * 1000, 1),
        "offline_vs_online": round(statistics.median(offline) / statistics.median(online), 2),
        "flush_records": args.records,
        "flush_seconds": round(flush, 3),
        "bare_push_seconds": round(bare_push, 3),
        "flush_vs_bare_push": round(flush / bare_push, 2),
        "goal": "shell <= 150 KB; offline cold start <= 300 ms; 1,000 records flushed <= 3 s",
    }, indent=2))


if __name__ == "__main__":
    main()
