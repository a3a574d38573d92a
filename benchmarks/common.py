"""What the benchmarks share: a real `outreach run` on a fresh SQLite database, a client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

PASSWORD = "mesure-de-vitesse-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outreach(instance: Path, *args: str, database: str | None = None) -> None:
    env = {**os.environ, "OUTREACH_INSTANCE_PATH": str(instance),
           **({"OUTREACH_DATABASE_URL": database} if database else {})}
    subprocess.run([sys.executable, "-m", "outreach", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)


@contextmanager
def running_server(users: list[tuple[str, str]], database: str | None = None):
    """Start `outreach run` on 127.0.0.1 with the given (login, role) accounts; yield its URL.

    On a fresh SQLite file in a temporary folder, or on the (empty) `database` URL given.
    """
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        outreach(instance, "init-db", database=database)
        for login, role in users:
            outreach(instance, "user", "create", "--login", login, "--password", PASSWORD,
                     "--role", role, database=database)
        port = free_port()
        env = {**os.environ, "OUTREACH_INSTANCE_PATH": str(instance),
               **({"OUTREACH_DATABASE_URL": database} if database else {})}
        server = subprocess.Popen(
            [sys.executable, "-m", "outreach", "run", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(f"{url}/connexion", timeout=2)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.05)
            yield url, instance
        finally:
            server.terminate()
            server.wait(10)


def login(url: str, user: str) -> requests.Session:
    """Return a logged-in HTTP session that sends its CSRF token."""
    session = requests.Session()
    answer = session.post(f"{url}/api/v1/session", json={"login": user, "password": PASSWORD},
                          timeout=30)
    answer.raise_for_status()
    session.headers["X-CSRFToken"] = answer.json()["csrf_token"]
    return session


def rencontres(count: int, seed: int = 1, urgent_every: int = 0) -> list[dict]:
    """Return `count` valid maraude.rencontre records, made as a tablet makes them.

    `urgent_every` n > 0 marks one rencontre in n as an urgent situation (each raises an alert).
    """
    start = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    prestations = ["boisson_chaude", "repas", "duvet", "kit_hygiene", "ecoute"]
    records = []
    for number in range(count):
        people = 1 + number % 3
        records.append({
            "id": str(uuid.UUID(int=(seed << 64) + number, version=4)),
            "form": "maraude.rencontre", "form_version": 1,
            "recorded_at": (start + timedelta(minutes=7 * number)).isoformat(),
            "parent_id": None, "base_revision": None,
            "data": {
                "lieu": {"label": f"Parvis de la gare, entrée {number % 9}", "lat": None,
                         "lon": None},
                "niveau": "anonyme", "nombre_personnes": people, "femmes": number % 2,
                "hommes": people - number % 2, "tranche_age": "de_26_a_40",
                "prestations": prestations[: 1 + number % 4], "situation_urgente": False,
                "notes": "Rencontre calme, boisson chaude acceptée." if number % 5 == 0 else None,
            },
        })
    for number, record in enumerate(records):
        if record["data"]["notes"] is None:
            del record["data"]["notes"]
        if urgent_every and number % urgent_every == 0:
            record["data"]["situation_urgente"] = True
            record["data"]["detail_urgence"] = "Homme très froid, le 115 prévenu."
    return records


FIRST_NAMES = ["Jeanne", "Marcel", "Simone", "Roger", "Odette", "André", "Yvette", "Lucien"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]


def senior(number: int, seed: int = 7) -> dict:
    """Return an invented, identified personne record: a senior as a visiteur files them."""
    return {
        "id": str(uuid.UUID(int=(seed << 64) + number, version=4)), "form": "personne",
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


def push_all(session: requests.Session, url: str, records: list[dict]) -> None:
    """Push records in batches of 500 from one new device; every one must be created."""
    device = str(uuid.uuid4())
    for start in range(0, len(records), 500):
        answer = session.post(f"{url}/api/v1/sync/push", timeout=300,
                              json={"device_id": device, "records": records[start:start + 500]})
        answer.raise_for_status()
        results = answer.json()["results"]
        assert all(r["status"] == "created" for r in results), \
            next(r for r in results if r["status"] != "created")
