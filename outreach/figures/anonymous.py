"""The anonymised extract of a year, for an observatoire or an analyse des besoins sociaux.

A SQLite file (written with sqlite-utils) and a metadata.json that Datasette reads.

Only counts leave: no record, no name, alias, phone, address, free text nor date of birth; months
instead of days, the tournée's secteur instead of the place, age bands. Every breakdown merges its
categories of fewer than five into "Autres (moins de 5 chacun)", and hides that row too when it
is itself under five; a single figure under five is hidden (professional secrecy, art. L133-5
CASF: the data leave the service only as figures in which no one can be recognised).
"""

from __future__ import annotations

import json
from datetime import date, tzinfo
from pathlib import Path

import sqlite_utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from outreach.figures import facts
from outreach.figures.indicators import (
    ACTIVITIES,
    BY_KEY,
    Fact,
    Period,
    compute_all,
    every_indicator,
)
from sync.schema import record

THRESHOLD = 5
OTHERS = "Autres (moins de 5 chacun)"
HIDDEN_NOTE = "Vide quand le nombre est inférieur à 5 (secret professionnel)."


def merge_small(rows: list[dict], label: str, count: str, within: tuple[str, ...] = ()
                ) -> list[dict]:
    """Merge the rows under the threshold into one "Autres" row per group; hide it if small.

    `within` names the columns that make a group (a month): merging happens inside each group.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[c] for c in within), []).append(row)
    kept = []
    for key, group in groups.items():
        small = [row for row in group if 0 < row[count] < THRESHOLD]
        kept += [row for row in group if row not in small]
        merged = sum(row[count] for row in small)
        if merged >= THRESHOLD:
            others = {**dict(zip(within, key, strict=True)), label: OTHERS}
            for column in small[0]:
                if column not in others:
                    others[column] = sum(row[column] for row in small)
            kept.append(others)
    return kept


def _hide(value: int) -> int | None:
    return None if 0 < value < THRESHOLD else value


def write_extract(session: Session, year: int, zone: tzinfo, path: Path, labels_of,
                  on: date) -> dict[str, int]:
    """Write a year's anonymised extract and its metadata.json; return each table's row count.

    `labels_of(indicator)` names the values of a breakdown (outreach.dashboard.value_labels); a
    year still running stops at `on` (today).
    """
    facts.catch_up(session, zone)
    period = Period(date(year, 1, 1), min(date(year, 12, 31), on))
    values = compute_all(session, period, zone)
    db = sqlite_utils.Database(path, recreate=True)
    tables: dict[str, dict] = {}
    figures = []
    for indicator in every_indicator():
        value = values[indicator.key]
        if indicator.shape == "count":
            figures.append({"cle": indicator.key, "activite": ACTIVITIES[indicator.activity],
                            "indicateur": indicator.name, "definition": indicator.definition,
                            "valeur": _hide(value)})
        elif indicator.shape == "breakdown":
            names = labels_of(indicator)
            rows = merge_small([{"libelle": names.get(k, k), "nombre": n}
                                for k, n in value.items()], "libelle", "nombre")
            table = indicator.key.replace(".", "_")
            db[table].create({"libelle": str, "nombre": int})  # there even when all is hidden
            db[table].insert_all(sorted(rows, key=lambda r: -r["nombre"]))
            title = indicator.name if not indicator.detail_of else \
                f"{BY_KEY[indicator.detail_of].name}, {indicator.name.lower()}"
            tables[table] = {"title": title, "description": indicator.definition,
                             "columns": {"libelle": "La catégorie (libellé du formulaire).",
                                         "nombre": indicator.definition}}
    db["indicateurs"].insert_all(figures, pk="cle")
    tables["indicateurs"] = {
        "title": "Chiffres de l'année", "description": "Chaque chiffre avec sa définition.",
        "columns": {"valeur": HIDDEN_NOTE}}
    weeks = values["visites.semaine"]["weeks"]
    db["visites_par_semaine"].insert_all(
        [{"semaine": date.fromisoformat(monday).strftime("%G-S%V"), "visites_faites": count}
         for monday, count in weeks.items()])
    tables["visites_par_semaine"] = {"title": "Visites faites par semaine",
                                     "description": "Visites de convivialité faites, par semaine"
                                                    " ISO (lundi au dimanche)."}
    monthly = _rencontres_by_month_and_secteur(session, period)
    db["maraude_mois_secteur"].insert_all(merge_small(monthly, "secteur", "personnes",
                                                      within=("mois",)))
    tables["maraude_mois_secteur"] = {
        "title": "Maraude : rencontres par mois et secteur",
        "description": "Rencontres et personnes comptées (une personne revue compte à nouveau), "
                       "par mois et secteur de la tournée ; secteurs de moins de 5 personnes "
                       "regroupés."}
    metadata = {
        "title": f"Outreach — extrait anonymisé {year}",
        "description": "Chiffres d'activité du CCAS (maraude, visites de convivialité, "
                       "permanences, registre et plans d'alerte) : aucune donnée nominative, "
                       "mois au lieu des jours, secteurs au lieu des lieux, catégories de moins "
                       "de 5 regroupées ou masquées.",
        "source": "Outreach",
        "databases": {path.stem: {"tables": tables}},
    }
    (path.parent / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False,
                                                          indent=2), encoding="utf-8")
    return {name: db[name].count for name in db.table_names()}


def _rencontres_by_month_and_secteur(session: Session, period: Period) -> list[dict]:
    tournee = aliased(Fact)
    month = facts.month_of(session, Fact.day)
    # One expression in both places: PostgreSQL matches the GROUP BY to the column only when
    # they share their bound parameter.
    secteur = func.coalesce(tournee.kind, "Sans tournée")
    rows = session.execute(
        select(month, secteur, func.count(), func.sum(Fact.people))
        .join(record, record.c.id == Fact.record_id)
        .join(tournee, tournee.record_id == record.c.parent_id, isouter=True)
        .where(Fact.form == "maraude.rencontre", Fact.day >= period.start,
               Fact.day <= period.end)
        .group_by(month, secteur)).all()
    return [{"mois": m, "secteur": s, "rencontres": n, "personnes": p} for m, s, n, p in rows]
