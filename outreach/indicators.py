"""The activity figures, each with a key, a French name, a one-sentence definition and one query.

Every figure the dashboard, the rapport d'activité and the anonymised extract show is defined
here and only here, on the summary tables of outreach.facts (one row per record at its current
revision: a record corrected or settled after a conflict counts once, a merged person once).
A period is a span of the CCAS's local days, both ends included.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from .models import ActivityChoice, ActivityFact, Alert

Fact = ActivityFact
Choice = ActivityChoice


@dataclass(frozen=True)
class Period:
    """A span of local days, both ends included."""

    start: date
    end: date

    def year_before(self) -> Period:
        """Return the same days a year earlier (29 February becomes the 28th)."""
        return Period(_year_back(self.start), _year_back(self.end))

    def months(self) -> list[str]:
        """Return the months the period touches, as YYYY-MM."""
        found, day = [], self.start.replace(day=1)
        while day <= self.end:
            found.append(day.strftime("%Y-%m"))
            day = (day + timedelta(days=32)).replace(day=1)
        return found

    def weeks(self) -> list[date]:
        """Return the Mondays of the weeks the period touches."""
        monday = self.start - timedelta(days=self.start.weekday())
        found = []
        while monday <= self.end:
            found.append(monday)
            monday += timedelta(days=7)
        return found


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Indicator:
    """One figure: what it is called, what it counts, and how."""

    key: str
    activity: str
    name: str
    definition: str
    compute: Callable[[Session, Period, tzinfo], object]
    # Breakdowns are {value: count}; `labels` names where their values' labels come from.
    shape: str = "count"
    labels: tuple[str, str] | None = None


def _in(period: Period, form: str):
    return and_(Fact.form == form, Fact.day >= period.start, Fact.day <= period.end)


def _count(form: str, *where) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> int:
        """Count the records of a form in the period."""
        return session.scalar(select(func.count()).select_from(Fact)
                              .where(_in(period, form), *where)) or 0
    return compute


def _sum_anonymous(form: str) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> int:
        """Add up the people counted in records that name nobody."""
        return session.scalar(select(func.coalesce(func.sum(Fact.people), 0))
                              .where(_in(period, form), Fact.person_id.is_(None))) or 0
    return compute


def _distinct_people(form: str) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> int:
        """Count the people named in the period's records, each once."""
        return session.scalar(select(func.count(distinct(Fact.person_id)))
                              .where(_in(period, form), Fact.person_id.is_not(None))) or 0
    return compute


def _by(column, form: str, *where) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> dict[str, int]:
        """Count the period's records of a form by one of their columns."""
        rows = session.execute(select(column, func.count()).where(_in(period, form), *where)
                               .group_by(column)).all()
        return {value: count for value, count in rows if value is not None}
    return compute


def _choices(form: str, field: str, weighted: bool = False) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> dict[str, int]:
        """Count the values chosen in a multiple-choice field (per person when weighted)."""
        measure = func.sum(Choice.weight) if weighted else func.count()
        rows = session.execute(
            select(Choice.value, measure)
            .where(Choice.form == form, Choice.field == field, Choice.day >= period.start,
                   Choice.day <= period.end)
            .group_by(Choice.value)).all()
        return dict(sorted(rows, key=lambda row: -row[1]))
    return compute


def _new_people(session: Session, period: Period, _zone: tzinfo) -> int:
    """Count the people whose first rencontre ever falls in the period."""
    first = (select(Fact.person_id).where(Fact.form == "maraude.rencontre",
                                          Fact.person_id.is_not(None))
             .group_by(Fact.person_id)
             .having(func.min(Fact.day).between(period.start, period.end)))
    return session.scalar(select(func.count()).select_from(first.subquery())) or 0


def _by_sex(form: str) -> Callable:
    def compute(session: Session, period: Period, _zone: tzinfo) -> dict[str, int]:
        """Named people once by their file's sex, plus the women and men counted anonymously."""
        person = aliased(Fact)
        named = session.execute(
            select(person.kind, func.count(distinct(Fact.person_id)))
            .join(person, person.record_id == Fact.person_id, isouter=True)
            .where(_in(period, form), Fact.person_id.is_not(None))
            .group_by(person.kind)).all()
        women, men, everyone = session.execute(
            select(func.coalesce(func.sum(Fact.women), 0), func.coalesce(func.sum(Fact.men), 0),
                   func.coalesce(func.sum(Fact.people), 0))
            .where(_in(period, form), Fact.person_id.is_(None))).one()
        counts = {"femme": women, "homme": men, "non_precise": everyone - women - men}
        for sex, count in named:
            key = sex if sex in ("femme", "homme") else "non_precise"
            counts[key] += count
        return {key: count for key, count in counts.items() if count}
    return compute


def _by_age(session: Session, period: Period, _zone: tzinfo) -> dict[str, int]:
    """Named people once by their file's age band; anonymous ones by the rencontre's band."""
    person = aliased(Fact)
    form = "maraude.rencontre"
    named = session.execute(
        select(func.coalesce(person.outcome, "inconnue"), func.count(distinct(Fact.person_id)))
        .join(person, person.record_id == Fact.person_id, isouter=True)
        .where(_in(period, form), Fact.person_id.is_not(None))
        .group_by(func.coalesce(person.outcome, "inconnue"))).all()
    anonymous = session.execute(
        select(func.coalesce(Fact.outcome, "inconnue"), func.sum(Fact.people))
        .where(_in(period, form), Fact.person_id.is_(None))
        .group_by(func.coalesce(Fact.outcome, "inconnue"))).all()
    counts: dict[str, int] = {}
    for band, count in [*named, *anonymous]:
        counts[band] = counts.get(band, 0) + count
    return counts


def _visits_per_week(session: Session, period: Period, _zone: tzinfo) -> dict:
    """Visits done each week the period touches: fewest, most, median."""
    days = session.execute(
        select(Fact.day, func.count()).where(_in(period, "visite.visite"), Fact.outcome == "oui")
        .group_by(Fact.day)).all()
    weeks = dict.fromkeys(period.weeks(), 0)
    for day, count in days:
        weeks[day - timedelta(days=day.weekday())] += count
    counts = list(weeks.values())
    return {"min": min(counts), "max": max(counts), "median": statistics.median(counts),
            "weeks": {monday.isoformat(): count for monday, count in weeks.items()}}


def _regular_seniors(session: Session, period: Period, _zone: tzinfo) -> int:
    """Count the seniors visited (seen) at least once in every month the period touches."""
    months = period.months()
    month = func.strftime("%Y-%m", Fact.day) if session.get_bind().dialect.name == "sqlite" \
        else func.to_char(Fact.day, "YYYY-MM")
    regular = (select(Fact.person_id).where(_in(period, "visite.visite"), Fact.outcome == "oui")
               .group_by(Fact.person_id).having(func.count(distinct(month)) == len(months)))
    return session.scalar(select(func.count()).select_from(regular.subquery())) or 0


def _alerts_of(form: str) -> Callable:
    def compute(session: Session, period: Period, zone: tzinfo) -> dict[str, int]:
        """Count the alerts raised by a form's records in the period, by kind."""
        start = datetime.combine(period.start, time(0), zone).astimezone(UTC)
        end = datetime.combine(period.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        rows = session.execute(
            select(Alert.kind, func.count()).where(Alert.form == form, Alert.raised_at >= start,
                                                   Alert.raised_at < end)
            .group_by(Alert.kind)).all()
        return dict(rows)
    return compute


def _registered(session: Session, period: Period, _zone: tzinfo) -> dict[str, int]:
    """Count the people on the register on the last day of the period, by category."""
    rows = session.execute(
        select(Fact.kind, func.count())
        .where(Fact.form == "registre.inscription", Fact.day <= period.end,
               or_(Fact.until.is_(None), Fact.until > period.end))
        .group_by(Fact.kind)).all()
    return dict(rows)


def _reached(session: Session, period: Period, _zone: tzinfo) -> int:
    """Count the people reached by a plan's calls in the period, each once."""
    return session.scalar(
        select(func.count(distinct(Fact.kind)))
        .where(_in(period, "plan.appel"), Fact.outcome.in_(("joint_va_bien", "joint_besoin")))
    ) or 0


INDICATORS: list[Indicator] = [
    # Maraude
    Indicator("maraude.tournees", "maraude", "Tournées",
              "Tournées de maraude enregistrées, comptées au jour de leur départ.",
              _count("maraude.tournee")),
    Indicator("maraude.rencontres", "maraude", "Rencontres",
              "Rencontres enregistrées ; une rencontre après minuit compte au jour de sa tournée.",
              _count("maraude.rencontre")),
    Indicator("maraude.personnes", "maraude", "Personnes rencontrées (nommées)",
              "Personnes connues par un prénom, un alias ou leur nom, comptées une seule fois "
              "même rencontrées plusieurs fois.", _distinct_people("maraude.rencontre")),
    Indicator("maraude.anonymes", "maraude", "Personnes rencontrées sans fiche",
              "Personnes comptées dans les rencontres anonymes (une personne revue compte à "
              "nouveau).", _sum_anonymous("maraude.rencontre")),
    Indicator("maraude.nouvelles", "maraude", "Nouvelles personnes",
              "Personnes nommées dont la première rencontre a lieu dans la période.", _new_people),
    Indicator("maraude.prestations", "maraude", "Prestations",
              "Prestations données, comptées pour chaque personne de la rencontre.",
              _choices("maraude.rencontre", "prestations", weighted=True), "breakdown",
              ("maraude.rencontre", "prestations")),
    Indicator("maraude.besoins", "maraude", "Besoins repérés",
              "Rencontres où le besoin a été noté.", _choices("maraude.rencontre", "besoins"),
              "breakdown", ("maraude.rencontre", "besoins")),
    Indicator("maraude.orientations", "maraude", "Orientations",
              "Rencontres où la personne a été orientée vers ce service.",
              _choices("maraude.rencontre", "orientations"), "breakdown",
              ("maraude.rencontre", "orientations")),
    Indicator("maraude.urgences", "maraude", "Situations urgentes",
              "Rencontres marquées « situation urgente ».",
              _count("maraude.rencontre", Fact.flag.is_(True))),
    Indicator("maraude.sexe", "maraude", "Personnes rencontrées par sexe",
              "Personnes nommées une fois selon leur fiche, plus les femmes et hommes comptés "
              "dans les rencontres anonymes.", _by_sex("maraude.rencontre"), "breakdown",
              ("personne", "sexe")),
    Indicator("maraude.age", "maraude", "Personnes rencontrées par âge",
              "Personnes nommées une fois selon la tranche d'âge de leur fiche, plus les "
              "personnes des rencontres anonymes selon la tranche notée.", _by_age, "breakdown",
              ("personne", "tranche_age")),
    # Visites de convivialité
    Indicator("visites.faites", "visites", "Visites faites",
              "Visites où la personne a été vue ou jointe (à domicile ou par téléphone).",
              _count("visite.visite", Fact.outcome == "oui")),
    Indicator("visites.mode", "visites", "Visites faites, par mode",
              "Les visites faites, à domicile ou par téléphone.",
              _by(Fact.kind, "visite.visite", Fact.outcome == "oui"), "breakdown",
              ("visite.visite", "mode")),
    Indicator("visites.semaine", "visites", "Visites par semaine",
              "Visites faites chaque semaine de la période : la plus faible, la plus forte et "
              "la médiane.", _visits_per_week, "weekly"),
    Indicator("visites.reguliers", "visites", "Seniors visités régulièrement",
              "Seniors vus au moins une fois chaque mois de la période (mois entamés compris).",
              _regular_seniors),
    Indicator("visites.absences", "visites", "Absences",
              "Visites où le senior était absent ou n'a pas répondu.",
              _count("visite.visite", Fact.outcome == "absente")),
    Indicator("visites.alertes", "visites", "Alertes levées en visite",
              "Alertes levées par une visite, par type, au jour où elles ont été levées.",
              _alerts_of("visite.visite"), "breakdown", ("visite.visite", "alerte")),
    # Permanences délocalisées
    Indicator("permanences.tenues", "permanences", "Permanences tenues, par site",
              "Permanences enregistrées, par site.", _by(Fact.kind, "permanence.session"),
              "breakdown", ("sites", "")),
    Indicator("permanences.personnes", "permanences", "Personnes reçues (nommées)",
              "Personnes reçues avec une fiche, comptées une seule fois.",
              _distinct_people("permanence.accueil")),
    Indicator("permanences.anonymes", "permanences", "Personnes reçues sans fiche",
              "Personnes comptées dans les accueils anonymes.",
              _sum_anonymous("permanence.accueil")),
    Indicator("permanences.sexe", "permanences", "Personnes reçues par sexe",
              "Personnes nommées une fois selon leur fiche, plus les femmes et hommes comptés "
              "dans les accueils anonymes.", _by_sex("permanence.accueil"), "breakdown",
              ("personne", "sexe")),
    Indicator("permanences.motifs", "permanences", "Motifs de venue",
              "Accueils où ce motif a été noté.", _choices("permanence.accueil", "motifs"),
              "breakdown", ("permanence.accueil", "motifs")),
    Indicator("permanences.actions", "permanences", "Actions",
              "Accueils où cette action a été faite.", _choices("permanence.accueil", "actions"),
              "breakdown", ("permanence.accueil", "actions")),
    Indicator("permanences.rendez_vous", "permanences", "Rendez-vous de suivi donnés",
              "Accueils qui se terminent par un rendez-vous de suivi.",
              _count("permanence.accueil", Fact.outcome == "rendez_vous")),
    # Registre et plans d'alerte
    Indicator("registre.categories", "registre", "Personnes inscrites au registre",
              "Personnes inscrites au dernier jour de la période (retraits déduits), par "
              "qualité.", _registered, "breakdown", ("registre.inscription", "categorie")),
    Indicator("plans.appels", "registre", "Appels passés (plans d'alerte)",
              "Appels d'un plan canicule ou grand froid, chaque tentative comptée.",
              _count("plan.appel")),
    Indicator("plans.joints", "registre", "Personnes jointes (plans d'alerte)",
              "Personnes jointes au moins une fois (ou leur personne à prévenir), une fois "
              "chacune.", _reached),
    Indicator("plans.besoins", "registre", "Besoins repérés (plans d'alerte)",
              "Besoins notés lors des appels, par type.", _choices("plan.appel", "besoins"),
              "breakdown", ("plan.appel", "besoins")),
]
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
ACTIVITIES = {"maraude": "Maraude", "visites": "Visites de convivialité",
              "permanences": "Permanences délocalisées",
              "registre": "Registre et plans d'alerte"}


def compute_all(session: Session, period: Period, zone: tzinfo,
                activity: str | None = None) -> dict[str, object]:
    """Return every indicator's value for a period (or those of one activity)."""
    return {indicator.key: indicator.compute(session, period, zone) for indicator in INDICATORS
            if activity is None or indicator.activity == activity}


def total(value: object) -> int | float:
    """Return the one number an indicator's value comes to (a breakdown's sum)."""
    if isinstance(value, dict) and "median" in value:
        return value["median"]
    if isinstance(value, dict):
        return sum(value.values())
    return value  # type: ignore[return-value]
