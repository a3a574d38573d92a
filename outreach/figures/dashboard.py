"""/tableau-de-bord: the activity figures of any period beside the year before, and more.

Their charts, the yearly rapport d'activité, and the CSV export of a form's records.

Every figure comes from outreach.indicators (its definition is shown beside it); the summary
tables are brought up to date first (figures.facts), so what synced a second ago is counted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import func, select

from outreach.alerts import alert_kinds
from outreach.core import audit, catalog
from outreach.core.clock import today
from outreach.core.db import db
from outreach.core.roles import OFFICE_ROLES, ROLES, restrict
from outreach.figures import charts, facts
from outreach.figures.exports import form_csv
from outreach.figures.indicators import (
    ACTIVITIES,
    SAID,
    Day,
    Period,
    compute_all,
    every_indicator,
    total,
)

bp = Blueprint("dashboard", __name__, url_prefix="/tableau-de-bord", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]
MONTH_NAMES = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
               "septembre", "octobre", "novembre", "décembre"]
EXPORTED_FORMS = ("maraude.tournee", "maraude.rencontre", "visite.visite", "permanence.session",
                  "permanence.accueil", "plan.appel")


class PeriodError(ValueError):
    """A period the coordinateur asked for that cannot be read (said in French)."""


def period_from(args, on: date) -> tuple[Period, str]:
    """Read the period asked for (année, trimestre, mois, or du/au); return it and its name."""
    try:
        if args.get("du") or args.get("au"):
            start, end = date.fromisoformat(args["du"]), date.fromisoformat(args["au"])
            if end < start:
                raise PeriodError("La fin de la période est avant son début.")
            return Period(start, end), f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
        if args.get("mois"):
            year, month = (int(part) for part in args["mois"].split("-"))
            start = date(year, month, 1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return Period(start, end), f"{MONTH_NAMES[month - 1]} {year}"
        if args.get("trimestre"):
            year, quarter = args["trimestre"].split("-T")
            first = 3 * (int(quarter) - 1) + 1
            if not 1 <= int(quarter) <= 4:
                raise ValueError
            start = date(int(year), first, 1)
            end = (date(int(year), first + 2, 1) + timedelta(days=32)).replace(day=1) \
                - timedelta(days=1)
            return Period(start, end), f"{quarter}e trimestre {year}".replace("1e", "1er")
        year = int(args.get("annee") or on.year)
        return Period(date(year, 1, 1), date(year, 12, 31)), f"l'année {year}"
    except PeriodError:
        raise
    except (KeyError, ValueError, TypeError):
        raise PeriodError("Période illisible : choisissez une année, un trimestre (2026-T4), un "
                          "mois (2026-11) ou deux dates (AAAA-MM-JJ).") from None


def _so_far(period: Period, on: date) -> Period:
    """Stop a period that is not over at today: the year before is compared on the same days."""
    return Period(period.start, min(period.end, on)) if period.start <= on else period


def zone() -> ZoneInfo:
    """Return the CCAS's time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def value_labels(indicator) -> dict[str, str]:
    """Return the French label of each value an indicator's breakdown may have."""
    if indicator.labels is None:
        return {}
    form, field = indicator.labels
    if form == "sites":
        return catalog.reference_labels("sites")
    if form == "roles":
        return dict(ROLES)
    if (form, field) == ("visite.visite", "alerte"):
        return alert_kinds()
    return catalog.labels_of_every_version(form).get(field, {})


def by_month(period: Period) -> dict[str, dict[str, int]]:
    """Return, month by month, the rencontres, visites faites and accueils (daily totals)."""
    month = facts.month_of(db.session, Day.day)
    wanted = {("maraude.rencontre", "records", ""): "rencontres",
              ("visite.visite", "outcome", "oui"): "visites",
              ("permanence.accueil", "records", ""): "accueils"}
    rows = db.session.execute(
        select(month, Day.form, Day.measure, Day.value, func.sum(Day.n))
        .where(Day.day >= period.start, Day.day <= period.end,
               Day.form.in_({form for form, _, _ in wanted}),
               Day.measure.in_(("records", "outcome")))
        .group_by(month, Day.form, Day.measure, Day.value)).all()
    found = {key: dict.fromkeys(wanted.values(), 0) for key in period.months()}
    for key, form, measure, value, count in rows:
        name = wanted.get((form, measure, value))
        if name:
            found.setdefault(key, dict.fromkeys(wanted.values(), 0))[name] = count
    return found


def figures(period: Period) -> dict:
    """Compute every figure for a period and the same days a year earlier.

    The year before is computed at the same time on a second connection (SQLite releases
    Python's lock while it reads): the page waits for the slower of the two, not their sum.
    """
    facts.catch_up(db.session, zone())
    before = period.year_before()
    app = current_app._get_current_object()

    def year_before() -> tuple[dict, dict]:
        """Compute the year before's figures in a context (and session) of its own."""
        with app.app_context():
            try:
                return compute_all(db.session, before, zone()), by_month(before)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=1) as pool:
        earlier = pool.submit(year_before)
        now, months = compute_all(db.session, period, zone()), by_month(period)
        then, months_before = earlier.result()
    rows = {}
    for indicator in every_indicator():
        current, previous = now[indicator.key], then[indicator.key]
        parts = []
        if indicator.shape == "breakdown":
            labels = value_labels(indicator)
            for value in sorted(set(current) | set(previous),
                                key=lambda v: (-current.get(v, 0), labels.get(v, v))):
                parts.append((labels.get(value, value), current.get(value, 0),
                              previous.get(value, 0)))
        rows[indicator.key] = {"indicator": indicator, "now": current, "then": previous,
                               "total_now": total(current), "total_then": total(previous),
                               "parts": parts}
    return {"rows": rows, "before": before, "months": months, "months_before": months_before}


def _charts(result: dict, period: Period, label: str) -> dict[str, str]:
    months = list(result["months"])
    month_names = [MONTHS[int(m[5:]) - 1] + ("" if len(months) <= 12 else f" {m[2:4]}")
                   for m in months]
    series = [charts.Series("Rencontres", [result["months"][m]["rencontres"] for m in months],
                            "#0b4f8a"),
              charts.Series("Visites faites", [result["months"][m]["visites"] for m in months],
                            "#b35900"),
              charts.Series("Accueils", [result["months"][m]["accueils"] for m in months],
                            "#155d27")]
    prestations = result["rows"]["maraude.prestations"]["parts"]
    weeks = result["rows"]["visites.semaine"]["now"]["weeks"]
    return {
        "months": charts.columns(f"Activité par mois, {label}", month_names, series),
        "prestations": charts.bars("Prestations de maraude par type",
                                   [name for name, _, _ in prestations],
                                   [now for _, now, _ in prestations]),
        "weeks": charts.columns("Visites faites par semaine", [
            f"{date.fromisoformat(w):%d/%m}" for w in weeks],
            [charts.Series("Visites faites", list(weeks.values()), "#b35900")], height=200),
    }


@bp.get("")
def index():
    """Show every figure of a period beside the same days a year earlier, with charts."""
    on = today()
    try:
        asked, label = period_from(request.args, on)
    except PeriodError as error:
        return render_template("dashboard.html", error=str(error), today=on), 400
    period = _so_far(asked, on)
    result = figures(period)
    return render_template(
        "dashboard.html", error=None, today=on, label=label, period=period, asked=asked,
        activities=ACTIVITIES, indicators=every_indicator(), charts=_charts(result, period, label),
        forms={key: catalog.registry().current(key).title for key in EXPORTED_FORMS},
        **result)


@bp.get("/rapport")
def report():
    """Print the rapport d'activité of a period (a year by default), figure by figure.

    Each figure is a sentence, beside the same days a year earlier.
    """
    on = today()
    try:
        asked, label = period_from(request.args, on)
    except PeriodError as error:
        return render_template("dashboard.html", error=str(error), today=on), 400
    period = _so_far(asked, on)
    result = figures(period)
    whole_year = (asked.start.month, asked.start.day, asked.end.month, asked.end.day) == (
        1, 1, 12, 31) and asked.start.year == asked.end.year
    compared = f"en {asked.start.year - 1}" if whole_year else "un an plus tôt"
    return render_template("report.html", title=str(asked.start.year) if whole_year else label,
                           period=period, asked=asked, compared=compared,
                           activities=ACTIVITIES, indicators=every_indicator(),
                           charts=_charts(result, period, label),
                           ccas=current_app.config["CCAS_NAME"], sentence=sentence, **result)


def sentence(row: dict, compared: str) -> str:
    """Write one figure as a report says it: "466 rencontres contre 418 en 2025".

    A breakdown of another figure says only its parts ("Par sexe — Femme : 250 ; Homme : 300."):
    its total is that figure's, said once above it.
    """
    indicator = row["indicator"]
    said = SAID[indicator.key]
    if indicator.detail_of:
        parts = " ; ".join(f"{name} : {_n(now)}" for name, now, _ in row["parts"] if now)
        return f"{said[0].upper()}{said[1:]} — {parts or 'aucune'}."
    if indicator.shape == "weekly":
        now, then = row["now"], row["then"]
        weeks = f"{now['active']} semaine{'s' if now['active'] > 1 else ''}"
        return (f"De {now['min']} à {now['max']} {said} (médiane {_n(now['median'])}) sur "
                f"les {weeks} où des visites ont eu lieu, contre de {then['min']} à "
                f"{then['max']} (médiane {_n(then['median'])}, sur {then['active']}) {compared}.")
    text = f"{_n(row['total_now'])} {said} contre {_n(row['total_then'])} {compared}"
    if row["parts"]:
        text += " (" + ", ".join(f"{name} : {_n(now)}" for name, now, _ in row["parts"]
                                 if now) + ")"
    return text[0].upper() + text[1:] + "."


def _n(value) -> str:
    """Write a number the French way: 1 358, 6,5."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


@bp.get("/export")
def export():
    """Export a form's records of a period as a French spreadsheet reads it; logged."""
    form = request.args.get("formulaire", "")
    if form not in EXPORTED_FORMS:
        return render_template("dashboard.html", today=today(),
                               error="Formulaire inconnu pour l'export."), 400
    try:
        period, _ = period_from(request.args, today())
    except PeriodError as error:
        return render_template("dashboard.html", error=str(error), today=today()), 400
    facts.catch_up(db.session, zone())
    text, count = form_csv(db.session, form, period)
    audit.log("figures.export", form, start=period.start.isoformat(),
              end=period.end.isoformat(), records=count)
    db.session.commit()
    name = f"{form}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

