"""Reporting: a large CCAS's year (and the year before), and the dashboard for a year.

Goals (issues 9, 18): the dashboard for a year against the year before in ≤ 300 ms, and the
first build of the summary tables ≤ 15 s, on SQLite and (`--engine postgresql` or `both`, a
throwaway cluster as the tests start it, with fsync on) on PostgreSQL. The
generator writes `--records` records a year (rencontres under their tournées, visites,
accueils under their sessions, people) straight into a fresh database, then:
- builds the summary tables once (`facts.catch_up`, what the first dashboard after an upgrade
  does) and times a catch-up after 500 new records (what a dashboard after a sync does);
- times `GET /tableau-de-bord?annee=Y` through the app (every figure of both years, the monthly
  series, the charts, the page), median of `--runs`;
- the baseline, in the same run: reading the two years' records with their JSON, the least a
  dashboard without summary tables would do (one SELECT, json.loads of each row) — the ratio
  says what the summary tables buy.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRESTATIONS = ["boisson_chaude", "repas", "duvet", "vetements", "kit_hygiene", "ecoute"]
BESOINS = ["hebergement", "sante", "alimentation", "hygiene", "droits", "lien_social"]
ORIENTATIONS = ["siao_115", "accueil_jour", "ccas", "association", "service_social"]
MOTIFS = ["logement", "budget", "droits", "sante", "alimentation", "emploi", "energie"]
ACTIONS = ["information", "aide_dossier", "orientation", "aide_financiere", "ecoute"]
TEAMS = {"maraude": 12, "visiteur": 30, "travailleur_social": 6}
COLUMNS = ("id", "form", "form_version", "revision", "parent_id", "data", "recorded_at",
           "received_at", "recorded_by", "device_id", "content_hash", "change_seq", "deleted")


def generate(year: int, records: int, people: list[str], seniors: list[str], rng: random.Random,
             users: dict[str, list[int]]) -> list[tuple]:
    """Return a year's rows: about half rencontres, a third visites, the rest accueils.

    As a CCAS's year holds them: some named people met with companions, a few refused visits,
    each record by one of its service's accounts (the volunteers and agents active).
    """
    rows = []
    days = [date(year, 1, 1) + timedelta(days=d) for d in range(365)]

    def row(form: str, data: dict, day: date, hour: int, parent: str | None = None,
            role: str = "maraude") -> str:
        moment = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), tzinfo=UTC)
        stamp = moment.replace(tzinfo=None).isoformat(sep=" ")
        ident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        rows.append((ident, form, 1, 1, parent, json.dumps(data), stamp, stamp,
                     rng.choice(users[role]), None, ident.replace("-", ""), 0, 0))
        return ident

    per_day = records / 365
    for day in days:
        tournee = row("maraude.tournee", {"date": day.isoformat(), "heure_depart": "20:30",
                                          "secteur": rng.choice(["Gare", "Centre", "Nord"]),
                                          "equipe": "Équipe A"}, day, 19)
        for _ in range(int(per_day * 0.5)):
            named = rng.random() < 0.4
            data = {"lieu": {"label": "Parvis", "lat": None, "lon": None},
                    "niveau": "alias" if named else "anonyme",
                    "nombre_personnes": rng.choice([1] * 6 + [2, 3]) if named
                    else rng.randint(1, 4),
                    "prestations": rng.sample(PRESTATIONS, rng.randint(1, 3)),
                    "besoins": rng.sample(BESOINS, rng.randint(0, 2)),
                    "orientations": rng.sample(ORIENTATIONS, rng.randint(0, 1))}
            if named:
                data["personne"] = rng.choice(people)
                if data["nombre_personnes"] > 1:
                    data["femmes"] = rng.randint(0, data["nombre_personnes"])
            row("maraude.rencontre", data, day, rng.choice([20, 21, 22, 23]), tournee)
        for _ in range(int(per_day * 0.33)):
            row("visite.visite", {"personne": rng.choice(seniors), "date": day.isoformat(),
                                  "mode": rng.choice(["domicile", "telephone"]),
                                  "personne_vue": rng.choice(["oui"] * 17 + ["absente"] * 2
                                                             + ["refus"]),
                                  "alerte": "aucune"}, day, 15, role="visiteur")
        session = row("permanence.session", {"site": "tilleuls", "date": day.isoformat(),
                                             "heure_debut": "14:00", "intervenants": "A"},
                      day, 13, role="travailleur_social")
        for _ in range(int(per_day * 0.17)):
            data = {"niveau": "anonyme", "nombre_personnes": 1, "femmes": rng.randint(0, 1),
                    "motifs": rng.sample(MOTIFS, rng.randint(1, 2)),
                    "actions": rng.sample(ACTIONS, rng.randint(0, 2)),
                    "orientations": rng.sample(ORIENTATIONS, rng.randint(0, 1))}
            if rng.random() < 0.3:  # a household with a file, some with their children
                data.update(niveau="alias", personne=rng.choice(people),
                            nombre_personnes=rng.choice([1, 1, 2, 3, 4]))
            row("permanence.accueil", data, day, 14, session, role="travailleur_social")
    return rows


def build(url: str, records: int, year: int) -> tuple[int, float]:
    """Make the database (teams, assignments, people, two years of records); return (rows, s)."""
    from outreach import create_app
    from outreach.core.db import db, upgrade_schema
    from outreach.core.models import ReferenceItem, User
    from outreach.visits import VisitAssignment

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark"})
    rng = random.Random(2026)
    people = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(4000)]
    seniors = people[:600]
    with app.app_context():
        upgrade_schema()
        db.session.add(User(login="coordinateur", name="Coordinatrice", role="coordinateur",
                            password_hash="x"))
        # A large CCAS's teams: a few dozen volunteers and agents, each recording their share.
        for role, count in TEAMS.items():
            for n in range(count):
                db.session.add(User(login=f"{role}{n}", name=f"{role} {n}", role=role,
                                    password_hash="x"))
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls", label="Les Tilleuls"))
        db.session.flush()
        users: dict[str, list[int]] = {}
        for ident, role in db.session.execute(db.select(User.id, User.role)):
            users.setdefault(role, []).append(ident)
        # Each senior followed by a visiteur, most of them since before the two years.
        for n, senior in enumerate(seniors):
            since = date(year - 1, 1, 1) if n % 4 else date(year - 1, 1 + n % 12, 1)
            db.session.add(VisitAssignment(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), person_id=senior,
                visiteur_id=rng.choice(users["visiteur"]), rhythm="hebdo", mode="domicile",
                starts_on=since, next_due=since, created_by=users["coordinateur"][0],
                change_seq=0))
        db.session.commit()
    started = time.perf_counter()
    person_rows = [(ident, "personne", 2, 1, None,
                    json.dumps({"niveau": "alias", "alias_prenom": f"P{n}",
                                "sexe": rng.choice(["femme", "homme"]),
                                "tranche_age": rng.choice(["de_26_a_40", "de_41_a_60"])}),
                    "2024-12-01 10:00:00", "2024-12-01 10:00:00", users["coordinateur"][0],
                    None, ident[:32], 0, 0)
                   for n, ident in enumerate(people)]
    rows = person_rows + generate(year - 1, records, people, seniors, rng, users) \
        + generate(year, records, people, seniors, rng, users)
    rows = [row[:11] + (seq,) + row[12:] for seq, row in enumerate(rows, start=1)]
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        with connection:
            connection.executemany(
                f"INSERT INTO record ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 13)})",
                rows)
            connection.execute("UPDATE sync_counter SET value = ?", (len(rows),))
        connection.close()
    else:
        import psycopg  # the [postgresql] extra: only for this engine

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
            connection.execute("SET TIME ZONE 'UTC'")  # the stamps are UTC, written naive
            with connection.cursor().copy(
                    f"COPY record ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row[:12] + (bool(row[12]),))
            connection.execute("UPDATE sync_counter SET value = %s", (len(rows),))
    return len(rows), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="records a year")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    figures = {}
    for engine in engines:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            os.environ["OUTREACH_INSTANCE_PATH"] = str(folder)
            cluster = None
            if engine == "postgresql":
                from tests import postgres  # the tests' throwaway cluster

                postgres.FAST.update(fsync="on", synchronous_commit="on", full_page_writes="on")
                cluster = postgres.ThrowawayCluster()
                url = cluster.url(cluster.create())
            else:
                url = f"sqlite:///{folder / 'bench.db'}"
            try:
                stored, generated = build(url, args.records, args.year)
                figures[engine] = measure(url, args, stored, generated)
            finally:
                if cluster:
                    cluster.stop()
    # The first engine's figures at the top as before `--engine` (what the smoke test reads).
    print(json.dumps({"benchmark": "reporting", **figures[engines[0]], "engines": figures,
                      "goal": "dashboard <= 300 ms, summary_build_s <= 15"}, indent=2))


def read_two_years(url: str, year: int) -> list:
    """The baseline: one SELECT of two years' records, json.loads of each row's data."""
    query = "SELECT form, data::text FROM record WHERE recorded_at >= %s AND recorded_at < %s"
    bounds = (f"{year - 1}-01-01", f"{year + 1}-01-01")
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = connection.execute(query.replace("::text", "").replace("%s", "?"),
                                  bounds).fetchall()
    else:
        import psycopg

        connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        rows = connection.execute(query, bounds).fetchall()
    parsed = [json.loads(data) for _, data in rows]
    connection.close()
    return parsed


def measure(url: str, args, stored: int, generated: float) -> dict:
    """Time the summary build, an incremental catch-up, the dashboard and the baseline."""
    from zoneinfo import ZoneInfo

    from flask import session
    from flask_login import login_user

    from outreach import create_app
    from outreach.core import sessions
    from outreach.core.db import db
    from outreach.core.models import User
    from outreach.figures import facts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark"})
    zone = ZoneInfo("Europe/Paris")
    with app.app_context():
        started = time.perf_counter()
        facts.catch_up(db.session, zone)
        built = time.perf_counter() - started
        # What a sync adds between two looks at the dashboard: 500 records, summed up.
        db.session.execute(db.text("UPDATE record SET change_seq = change_seq + :n "
                                   "WHERE id IN (SELECT id FROM record ORDER BY change_seq "
                                   "LIMIT 500)"),
                           {"n": stored})
        db.session.execute(db.text("UPDATE sync_counter SET value = value + :n"), {"n": stored})
        db.session.commit()
        started = time.perf_counter()
        facts.catch_up(db.session, zone)
        incremental = time.perf_counter() - started
    user_id = None
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.role == "coordinateur"))
    client = app.test_client()

    @app.route("/bench-login")
    def bench_login():
        """Log the benchmark's coordinateur in (no password hashing to time)."""
        user = db.session.get(User, user_id)
        login_user(user)
        session["sid"] = sessions.open_session(user)
        db.session.commit()
        return "ok"

    bench_login.is_public = True
    client.get("/bench-login")
    page = f"/tableau-de-bord?annee={args.year}"
    assert client.get(page).status_code == 200  # warm: templates compiled, caches filled
    dashboard = []
    for _ in range(args.runs):
        started = time.perf_counter()
        answer = client.get(page)
        dashboard.append(time.perf_counter() - started)
        assert answer.status_code == 200
    baseline = []
    for _ in range(args.runs):
        started = time.perf_counter()
        parsed = read_two_years(url, args.year)
        baseline.append(time.perf_counter() - started)
    median_dashboard, median_baseline = statistics.median(dashboard), statistics.median(baseline)
    return {
        "records": stored, "records_per_year": args.records, "records_read_by_baseline":
        len(parsed), "generate_and_insert_s": round(generated, 2),
        "summary_build_s": round(built, 2),
        "summary_catch_up_500_ms": round(incremental * 1000, 1),
        "dashboard_year_vs_year_before_ms": round(median_dashboard * 1000, 1),
        "dashboard_runs_ms": [round(t * 1000, 1) for t in dashboard],
        "baseline_read_two_years_json_ms": round(median_baseline * 1000, 1),
        "dashboard_vs_baseline": round(median_dashboard / median_baseline, 3),
        "goal_ms": 300,
    }


if __name__ == "__main__":
    main()
