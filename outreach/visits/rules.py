"""Visites de convivialité: the rhythms a senior is visited at, and when the next visit is due."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta

RHYTHMS = {"hebdomadaire": "Chaque semaine", "quinzaine": "Tous les quinze jours",
           "mensuel": "Chaque mois"}
MODES = {"domicile": "À domicile", "telephone": "Par téléphone"}
SEEN = "oui"  # "Personne vue : Oui"; "absente" and "refus" are visits where the senior was not seen


def after(day: date, rhythm: str) -> date:
    """Return the day a visit is due after one made on `day`, at this rhythm."""
    if rhythm == "hebdomadaire":
        return day + timedelta(days=7)
    if rhythm == "quinzaine":
        return day + timedelta(days=14)
    if rhythm == "mensuel":
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown rhythm {rhythm!r}")


def next_due(visit_day: date, rhythm: str, asked: date | None) -> date:
    """Return the next visit's day: the one the visiteur set at the visit, else the rhythm's."""
    if asked is not None and asked > visit_day:
        return asked
    return after(visit_day, rhythm)


def seen(data: Mapping) -> bool:
    """Tell whether a visite saw the senior (a form version without the question: it did)."""
    return data.get("personne_vue", SEEN) == SEEN


def moved_to(visit_day: date, rhythm: str, asked: date | None, was_seen: bool) -> date | None:
    """Return the next visit's day after a visite, or None when the visite does not move it.

    Only a visite where the senior was seen moves the next one on, unless the visiteur set
    "Prochaine visite" (DESIGN §9): a senior not seen stays due, whatever alert was chosen.
    """
    if asked is not None and asked > visit_day:
        return asked
    return next_due(visit_day, rhythm, None) if was_seen else None
