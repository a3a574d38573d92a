"""The activity figures, each with a key, a French name, a one-sentence definition and one query.

Every figure the dashboard, the rapport d'activité and the anonymised extract show is defined
here and only here, on the summary tables of outreach.facts (one row per record at its current
revision: a record corrected or settled after a conflict counts once, a merged person once).
A period is a span of the CCAS's local days, both ends included.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, case, distinct, false, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from outreach.alerts import Alert
from outreach.core import signals
from outreach.core.models import User
from outreach.figures.facts import month_of
from outreach.figures.models import (
    ActivityDay,
    ActivityFact,
    ActivityMonth,
    ActivityPersonMonth,
)
from outreach.visits import VisitAssignment

Fact = ActivityFact
Day = ActivityDay
Month = ActivityPersonMonth
Total = ActivityMonth


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

    def whole_months(self) -> list[str]:
        """Return the months wholly inside the period, as YYYY-MM."""
        return [month for month in self.months()
                if self.start <= date.fromisoformat(month + "-01")
                and _month_end(month) <= self.end]

    def edges(self) -> list[Period]:
        """Return the spans of days outside its whole months (none for a year or a month)."""
        whole = self.whole_months()
        if not whole:
            return [self]
        first, last = date.fromisoformat(whole[0] + "-01"), _month_end(whole[-1])
        return [span for span in (Period(self.start, first - timedelta(days=1)),
                                  Period(last + timedelta(days=1), self.end))
                if span.start <= span.end]

    def weeks(self) -> list[date]:
        """Return the Mondays of the whole weeks in the period (those it touches if none)."""
        monday = self.start - timedelta(days=self.start.weekday())
        touched = []
        while monday <= self.end:
            touched.append(monday)
            monday += timedelta(days=7)
        whole = [m for m in touched if m >= self.start and m + timedelta(days=6) <= self.end]
        return whole or touched


def in_months(column, months: list[str]):
    """Return the condition of a YYYY-MM column within these following months (a range)."""
    return column.between(months[0], months[-1]) if months else false()


def _month_end(month: str) -> date:
    """Return the last day of a YYYY-MM month."""
    return (date.fromisoformat(month + "-28") + timedelta(days=4)).replace(day=1) \
        - timedelta(days=1)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


class Figures:
    """What the indicators of one period read: the daily totals summed once, and the facts.

    Most figures are sums of `activity_month` over the period's whole months (of
    `activity_day` for the days at its edges), read once; those about distinct people read
    `activity_person_month` likewise, or `activity_fact` (its index of named people).
    """

    def __init__(self, session: Session, period: Period, zone: tzinfo) -> None:
        self.session, self.period, self.zone = session, period, zone
        self._sums: dict[tuple[str, str, str], int] | None = None
        self._named: dict[str, list[str]] = {}
        self._people: dict[str, tuple[str | None, str | None]] | None = None
        self._others: dict[str, Others] = {}
        self._seen: dict[str, set[str]] | None = None

    def sums(self) -> dict[tuple[str, str, str], int]:
        """Return {(form, measure, value): total over the period}, read once."""
        if self._sums is None:
            # Whole months from their totals, the days at the edges from the daily ones.
            queries = [select(Total.form, Total.measure, Total.value, func.sum(Total.n))
                       .where(in_months(Total.month, self.period.whole_months()))
                       .group_by(Total.form, Total.measure, Total.value)]
            queries += [select(Day.form, Day.measure, Day.value, func.sum(Day.n))
                        .where(Day.day >= span.start, Day.day <= span.end)
                        .group_by(Day.form, Day.measure, Day.value)
                        for span in self.period.edges()]
            self._sums = {}
            for query in queries:
                for form, measure, value, total in self.session.execute(query):
                    key = (form, measure, value)
                    self._sums[key] = self._sums.get(key, 0) + total
        return self._sums

    def total(self, form: str, measure: str, value: str = "") -> int:
        """Return one total of the period (0 when nothing was counted)."""
        return self.sums().get((form, measure, value), 0)

    def values(self, form: str, measure: str) -> dict[str, int]:
        """Return {value: total} of one measure, largest first."""
        found = {value: n for (f, m, value), n in self.sums().items()
                 if f == form and m == measure and n}
        return dict(sorted(found.items(), key=lambda item: -item[1]))

    def daily(self, form: str, measure: str, value: str = "") -> dict[date, int]:
        """Return one measure day by day over the period."""
        return dict(self.session.execute(
            select(Day.day, func.sum(Day.n))
            .where(Day.day >= self.period.start, Day.day <= self.period.end, Day.form == form,
                   Day.measure == measure, Day.value == value)
            .group_by(Day.day)).all())

    def named(self, form: str):
        """Return a SELECT of the distinct people named in the period's records of a form.

        Its whole months are read from `activity_person_month`, the days at its edges (a
        period that is not made of months) from the facts.
        """
        months = self.period.whole_months()
        parts = [select(Month.person_id).where(
            Month.form == form, in_months(Month.month, months))] if months else []
        parts += [select(Fact.person_id).where(Fact.form == form, Fact.person_id.is_not(None),
                                              Fact.day >= span.start, Fact.day <= span.end)
                  for span in self.period.edges()]
        return union(*parts) if len(parts) > 1 else parts[0].distinct()

    def named_ids(self, form: str) -> list[str]:
        """Return the people named in the period's records of a form (read once)."""
        if form not in self._named:
            self._named[form] = list(self.session.scalars(self.named(form)))
        return self._named[form]

    def people(self) -> dict[str, tuple[str | None, str | None]]:
        """Return each person file's (sex, age band), read once."""
        if self._people is None:
            self._people = {ident: (sex, band) for ident, sex, band in self.session.execute(
                select(Fact.record_id, Fact.kind, Fact.outcome).where(Fact.form == "personne"))}
        return self._people


    def seen_months(self) -> dict[str, set[str]]:
        """Return each senior seen in the period (a visite done) and the months they were seen."""
        if self._seen is None:
            form, month = "visite.visite", month_of(self.session, Fact.day)
            queries = [select(Month.person_id, Month.month).where(
                Month.form == form, in_months(Month.month, self.period.whole_months()),
                Month.seen > 0)]
            queries += [select(Fact.person_id, month).distinct().where(
                Fact.form == form, Fact.person_id.is_not(None), Fact.outcome == "oui",
                Fact.day >= span.start, Fact.day <= span.end) for span in self.period.edges()]
            self._seen = {}
            for query in queries:
                for senior, visited in self.session.execute(query):
                    self._seen.setdefault(senior, set()).add(visited)
        return self._seen

    def others(self, form: str) -> Others:
        """Return the people counted at each of the period's records of a form, not by name.

        An anonymous record's people, and a named one's companions: its `nombre_personnes`
        counts the named person too. Summed day by day with the facts (`others*` measures);
        « dont femmes / dont hommes » count everyone, so each named person is taken off their
        own sex (their file's) here, per person.
        """
        if form not in self._others:
            found = Others(self.total(form, "others"), self.total(form, "others_women"),
                           self.total(form, "others_men"),
                           self.values(form, "others_by_outcome"))
            groups = (Fact.form == form, Fact.person_id.is_not(None), Fact.people > 1,
                      Fact.day >= self.period.start, Fact.day <= self.period.end)
            # Per person, how many of their records counted women, men, or everyone by sex
            # (then they were one of them).
            every = Fact.women + Fact.men == Fact.people

            def records(condition):
                """Count the person's records where `condition` holds."""
                return func.sum(case((condition, 1), else_=0))

            files = self.people()
            for person, women, men, all_men, all_women, more_women, more_men in \
                    self.session.execute(
                        select(Fact.person_id, records(Fact.women > 0), records(Fact.men > 0),
                               records(and_(Fact.women == 0, Fact.men == Fact.people)),
                               records(and_(Fact.men == 0, Fact.women == Fact.people)),
                               records(and_(every, Fact.women > Fact.men)),
                               records(and_(every, Fact.women <= Fact.men)))
                        .where(*groups, or_(Fact.women > 0, Fact.men > 0))
                        .group_by(Fact.person_id)):
                sex = files.get(person, (None, None))[0]
                if sex == "femme":
                    # Counted among the women; had none been, the men said everyone: one less.
                    found.women -= women
                    found.men -= all_men
                elif sex == "homme":
                    found.men -= men
                    found.women -= all_women
                else:
                    # The file does not say: one of the larger group when all were counted.
                    found.women -= more_women
                    found.men -= more_men
            self._others[form] = found
        return self._others[form]


@dataclass
class Others:
    """The people counted not by name over a period: how many, women, men, by age band."""

    people: int = 0
    women: int = 0
    men: int = 0
    bands: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    """One figure: what it is called, what it counts, and how."""

    key: str
    activity: str
    name: str
    definition: str
    compute: Callable[[Figures], object]
    # Breakdowns are {value: count}; `labels` names where their values' labels come from.
    shape: str = "count"
    labels: tuple[str, str] | None = None
    # The figure this one breaks down (its parts add up to that figure): said under it, once.
    detail_of: str | None = None


def _count(form: str, measure: str = "records", value: str = "") -> Callable:
    def compute(figures: Figures) -> int:
        """Return one total of a form's records over the period."""
        return figures.total(form, measure, value)
    return compute


def _breakdown(form: str, measure: str) -> Callable:
    def compute(figures: Figures) -> dict[str, int]:
        """Return a form's totals by value over the period."""
        return figures.values(form, measure)
    return compute


def _distinct_people(form: str) -> Callable:
    def compute(figures: Figures) -> int:
        """Count the people named in the period's records, each once."""
        return len(figures.named_ids(form))
    return compute


def _without_file(form: str) -> Callable:
    def compute(figures: Figures) -> int:
        """Count the people of the anonymous records and the companions of the named ones."""
        return figures.others(form).people
    return compute


def _everyone(form: str) -> Callable:
    def compute(figures: Figures) -> int:
        """Count every person: each named one once, the others at each record."""
        return len(figures.named_ids(form)) + _without_file(form)(figures)
    return compute


def _new_people(figures: Figures) -> int:
    """Count the people whose first rencontre ever falls in the period."""
    # One query: the period's people, less those met before it (an index probe each): in an
    # earlier month (`activity_person_month`), or earlier in the period's first month when it
    # does not start on the 1st (the facts).
    form, start = "maraude.rencontre", figures.period.start
    met = figures.named(form).subquery()
    before, earlier = aliased(Month), aliased(Fact)
    unseen = [~select(before.person_id).where(
        before.form == form, before.person_id == met.c.person_id,
        before.month < start.strftime("%Y-%m")).exists()]
    if start.day != 1:
        unseen.append(~select(earlier.person_id).where(
            earlier.form == form, earlier.person_id == met.c.person_id,
            earlier.day >= start.replace(day=1), earlier.day < start).exists())
    return figures.session.scalar(select(func.count()).select_from(met).where(*unseen)) or 0


def _by_sex(form: str) -> Callable:
    def compute(figures: Figures) -> dict[str, int]:
        """Named people once by their file's sex, plus the women and men counted anonymously."""
        files = figures.people()
        named: dict[str | None, int] = {}
        for ident in figures.named_ids(form):
            sex = files.get(ident, (None, None))[0]
            named[sex] = named.get(sex, 0) + 1
        others = figures.others(form)
        counts = {"femme": others.women, "homme": others.men,
                  "non_precise": others.people - others.women - others.men}
        for sex, count in named.items():
            counts[sex if sex in ("femme", "homme") else "non_precise"] += count
        return {key: count for key, count in counts.items() if count}
    return compute


def _by_age(figures: Figures) -> dict[str, int]:
    """Named people once by their file's age band; the others by the rencontre's band."""
    form = "maraude.rencontre"
    files = figures.people()
    counts = dict(figures.others(form).bands)
    for ident in figures.named_ids(form):
        band = files.get(ident, (None, None))[1] or "inconnue"
        counts[band] = counts.get(band, 0) + 1
    return counts


def _visits_per_week(figures: Figures) -> dict:
    """Visits done each week the programme was active (a visite recorded): fewest, most, median.

    `weeks` holds every week of the period, for the chart; `active` how many had visites.
    """
    weeks = dict.fromkeys(figures.period.weeks(), 0)
    active = set()
    for day in figures.daily("visite.visite", "records"):
        active.add(day - timedelta(days=day.weekday()))
    for day, count in figures.daily("visite.visite", "outcome", "oui").items():
        monday = day - timedelta(days=day.weekday())
        if monday in weeks:
            weeks[monday] += count
    counts = [count for monday, count in weeks.items() if monday in active] or [0]
    return {"min": min(counts), "max": max(counts), "median": statistics.median(counts),
            "active": len(active & set(weeks)),
            "weeks": {monday.isoformat(): count for monday, count in weeks.items()}}


def _seniors_visited(figures: Figures) -> int:
    """Count the seniors seen at least once in the period, each once."""
    return len(figures.seen_months())


def _regular_seniors(figures: Figures) -> int:
    """Count the seniors seen in every month they were followed while the programme ran.

    A month counts for a senior when a visiteur was given them on its 15th (an assignment) and
    the programme made visites that month: a programme that stops in summer, or a senior who
    joined in March, is not asked for the months without.
    """
    period = figures.period
    ran = {day.strftime("%Y-%m") for day in figures.daily("visite.visite", "records")}
    followed: dict[str, set[str]] = {}
    for senior, starts, ends in figures.session.execute(
            select(VisitAssignment.person_id, VisitAssignment.starts_on, VisitAssignment.ended_on)
            .where(VisitAssignment.starts_on <= period.end,
                   or_(VisitAssignment.ended_on.is_(None),
                       VisitAssignment.ended_on >= period.start))):
        for month in ran:
            middle = date.fromisoformat(month + "-15")
            if starts <= middle and (ends is None or ends >= middle):
                followed.setdefault(senior, set()).add(month)
    seen = figures.seen_months()
    return sum(1 for senior, months in followed.items() if months <= seen.get(senior, set()))


def _alerts_of(form: str) -> Callable:
    def compute(figures: Figures) -> dict[str, int]:
        """Count the alerts raised by a form's records in the period, by kind."""
        zone, period = figures.zone, figures.period
        start = datetime.combine(period.start, time(0), zone).astimezone(UTC)
        end = datetime.combine(period.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        return dict(figures.session.execute(
            select(Alert.kind, func.count()).where(Alert.form == form, Alert.raised_at >= start,
                                                   Alert.raised_at < end)
            .group_by(Alert.kind)).all())
    return compute


def _registered(figures: Figures) -> dict[str, int]:
    """Count the people on the register on the last day of the period, by category."""
    end = figures.period.end
    return dict(figures.session.execute(
        select(Fact.kind, func.count())
        .where(Fact.form == "registre.inscription", Fact.day <= end,
               or_(Fact.until.is_(None), Fact.until > end))
        .group_by(Fact.kind)).all())


def _reached(figures: Figures) -> int:
    """Count the people reached by a plan's calls in the period, each once (all series)."""
    return figures.session.scalar(
        select(func.count(distinct(func.coalesce(Fact.person_id, Fact.kind))))
        .where(Fact.form == "plan.appel", Fact.day >= figures.period.start,
               Fact.day <= figures.period.end,
               Fact.outcome.in_(("joint_va_bien", "joint_besoin")))) or 0


def _active(figures: Figures) -> dict[str, int]:
    """Count the volunteers and agents who recorded something in the period, by role."""
    # An index probe per account (a few dozen) rather than a read of the period's facts.
    recorded = (select(Fact.record_id)
                .where(Fact.recorded_by == User.id, Fact.day >= figures.period.start,
                       Fact.day <= figures.period.end, Fact.form.in_(ACTIVE_FORMS))
                .exists())
    return dict(figures.session.execute(
        select(User.role, func.count()).where(recorded).group_by(User.role)).all())


# What a volunteer or an agent records in the field or at a permanence (not the register).
ACTIVE_FORMS = ("maraude.tournee", "maraude.rencontre", "visite.visite", "permanence.session",
                "permanence.accueil", "plan.appel")


def _seen_by_mode(figures: Figures) -> dict[str, int]:
    """Count the visites done by mode (kind_outcome "domicile|oui")."""
    return {kind_outcome.split("|")[0]: n for kind_outcome, n
            in figures.values("visite.visite", "kind_outcome").items()
            if kind_outcome.endswith("|oui")}


def _everyone_by_sex(activity: str, form: str, name: str, word: str,
                     of_it: str) -> list[Indicator]:
    """Return "every person" of a form's records and its breakdown by sex, said under it."""
    return [
        Indicator(f"{activity}.toutes", activity, name,
                  "Chaque personne nommée une seule fois dans la période, et les autres à "
                  f"chaque {word} : celles des {word}s anonymes et celles qui accompagnent une "
                  "personne nommée.", _everyone(form)),
        Indicator(f"{activity}.sexe", activity, "Par sexe",
                  "Personnes nommées selon leur fiche ; les autres selon « dont femmes » et "
                  f"« dont hommes » {of_it}.", _by_sex(form), "breakdown", ("personne", "sexe"),
                  detail_of=f"{activity}.toutes"),
    ]


INDICATORS: list[Indicator] = [
    # Maraude
    Indicator("maraude.tournees", "maraude", "Tournées",
              "Tournées de maraude enregistrées, comptées au jour de leur départ.",
              _count("maraude.tournee")),
    Indicator("maraude.rencontres", "maraude", "Rencontres",
              "Rencontres enregistrées ; une rencontre après minuit compte au jour de sa tournée.",
              _count("maraude.rencontre")),
    *_everyone_by_sex("maraude", "maraude.rencontre", "Personnes rencontrées", "rencontre",
                      "de la rencontre"),
    Indicator("maraude.age", "maraude", "Par âge",
              "Personnes nommées selon la tranche d'âge de leur fiche ; les autres selon la "
              "tranche notée à la rencontre.", _by_age, "breakdown",
              ("personne", "tranche_age"), detail_of="maraude.toutes"),
    Indicator("maraude.personnes", "maraude", "Personnes rencontrées nommées",
              "Personnes connues par un prénom, un alias ou leur nom, comptées une seule fois "
              "même rencontrées plusieurs fois.", _distinct_people("maraude.rencontre")),
    Indicator("maraude.anonymes", "maraude", "Personnes rencontrées sans fiche",
              "Personnes des rencontres anonymes et personnes qui accompagnent une personne "
              "nommée (une personne revue compte à nouveau).",
              _without_file("maraude.rencontre")),
    Indicator("maraude.nouvelles", "maraude", "Nouvelles personnes nommées",
              "Personnes nommées dont la première rencontre a lieu dans la période (seules "
              "les personnes nommées peuvent être reconnues d'une fois sur l'autre).",
              _new_people),
    Indicator("maraude.prestations", "maraude", "Prestations",
              "Prestations données, comptées pour chaque personne de la rencontre (un repas "
              "donné à un groupe de trois compte trois).",
              _breakdown("maraude.rencontre", "weight:prestations"), "breakdown",
              ("maraude.rencontre", "prestations")),
    Indicator("maraude.besoins", "maraude", "Besoins repérés",
              "Rencontres où le besoin a été noté.",
              _breakdown("maraude.rencontre", "choice:besoins"),
              "breakdown", ("maraude.rencontre", "besoins")),
    Indicator("maraude.orientations", "maraude", "Orientations",
              "Rencontres où la personne a été orientée vers ce service.",
              _breakdown("maraude.rencontre", "choice:orientations"), "breakdown",
              ("maraude.rencontre", "orientations")),
    Indicator("maraude.urgences", "maraude", "Situations urgentes",
              "Rencontres marquées « situation urgente ».",
              _count("maraude.rencontre", "flag")),
    # Visites de convivialité
    Indicator("visites.enregistrees", "visites", "Visites prévues et enregistrées",
              "Toutes les visites enregistrées : faites, absences et refus.",
              _count("visite.visite")),
    Indicator("visites.faites", "visites", "Visites faites",
              "Visites où la personne a été vue ou jointe (à domicile ou par téléphone).",
              _count("visite.visite", "outcome", "oui")),
    Indicator("visites.mode", "visites", "Par mode",
              "Les visites faites, à domicile ou par téléphone.",
              _seen_by_mode, "breakdown",
              ("visite.visite", "mode"), detail_of="visites.faites"),
    Indicator("visites.absences", "visites", "Absences",
              "Visites où le senior était absent ou n'a pas répondu.",
              _count("visite.visite", "outcome", "absente")),
    Indicator("visites.refus", "visites", "Refus",
              "Visites que le senior n'a pas souhaitées ce jour-là.",
              _count("visite.visite", "outcome", "refus")),
    Indicator("visites.seniors", "visites", "Seniors visités",
              "Seniors vus au moins une fois dans la période, comptés une seule fois.",
              _seniors_visited),
    Indicator("visites.reguliers", "visites", "Seniors visités régulièrement",
              "Seniors vus au moins une fois chaque mois où ils étaient suivis par un visiteur "
              "(attribution en cours le 15 du mois) et où des visites ont eu lieu : les mois "
              "sans visites (l'été d'un programme saisonnier) ne sont pas demandés.",
              _regular_seniors),
    Indicator("visites.semaine", "visites", "Visites par semaine",
              "Visites faites chaque semaine entière (lundi à dimanche) où des visites ont eu "
              "lieu : la plus faible, la plus forte et la médiane.", _visits_per_week, "weekly"),
    Indicator("visites.alertes", "visites", "Alertes levées en visite",
              "Alertes levées par une visite, par type, au jour où elles ont été levées.",
              _alerts_of("visite.visite"), "breakdown", ("visite.visite", "alerte")),
    # Permanences délocalisées
    Indicator("permanences.tenues", "permanences", "Permanences tenues, par site",
              "Permanences enregistrées, par site.", _breakdown("permanence.session", "kind"),
              "breakdown", ("sites", "")),
    Indicator("permanences.menages", "permanences", "Ménages reçus",
              "Accueils : un par ménage (ou personne seule) reçu ; un ménage revenu compte à "
              "nouveau.", _count("permanence.accueil")),
    Indicator("permanences.membres", "permanences", "Personnes des ménages reçus",
              "Toutes les personnes des accueils, enfants compris, à chaque accueil.",
              _count("permanence.accueil", "people")),
    *_everyone_by_sex("permanences", "permanence.accueil", "Personnes reçues", "accueil",
                      "de l'accueil"),
    Indicator("permanences.personnes", "permanences", "Personnes reçues nommées",
              "Personnes reçues avec une fiche, comptées une seule fois.",
              _distinct_people("permanence.accueil")),
    Indicator("permanences.anonymes", "permanences", "Personnes reçues sans fiche",
              "Personnes des accueils anonymes et personnes qui accompagnent une personne "
              "nommée.", _without_file("permanence.accueil")),
    Indicator("permanences.motifs", "permanences", "Motifs de venue",
              "Accueils où ce motif a été noté.", _breakdown("permanence.accueil", "choice:motifs"),
              "breakdown", ("permanence.accueil", "motifs")),
    Indicator("permanences.actions", "permanences", "Actions",
              "Accueils où cette action a été faite.",
              _breakdown("permanence.accueil", "choice:actions"),
              "breakdown", ("permanence.accueil", "actions")),
    Indicator("permanences.orientations", "permanences", "Orientations",
              "Accueils où la personne a été orientée vers ce service.",
              _breakdown("permanence.accueil", "choice:orientations"),
              "breakdown", ("permanence.accueil", "orientations")),
    Indicator("permanences.rendez_vous", "permanences", "Rendez-vous de suivi donnés",
              "Accueils qui se terminent par un rendez-vous de suivi.",
              _count("permanence.accueil", "outcome", "rendez_vous")),
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
              "Besoins notés lors des appels, par type.",
              _breakdown("plan.appel", "choice:besoins"),
              "breakdown", ("plan.appel", "besoins")),
    # Les équipes
    Indicator("equipes.actifs", "equipes", "Bénévoles et agents actifs",
              "Comptes qui ont enregistré au moins une fiche dans la période (tournée, "
              "rencontre, visite, permanence, accueil ou appel), une fois chacun, par rôle.",
              _active, "breakdown", ("roles", "")),
]
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
# How a rapport d'activité says each figure after its number ("466 rencontres contre 418…").
SAID = {
    "maraude.tournees": "tournées de maraude", "maraude.rencontres": "rencontres",
    "maraude.toutes": "personnes rencontrées",
    "maraude.sexe": "par sexe", "maraude.age": "par âge",
    "maraude.personnes": "personnes rencontrées avec un prénom, un alias ou leur nom",
    "maraude.anonymes": "personnes rencontrées sans fiche (anonymes ou accompagnantes)",
    "maraude.nouvelles": "nouvelles personnes nommées rencontrées",
    "maraude.prestations": "prestations données (une par personne de la rencontre)",
    "maraude.besoins": "besoins repérés",
    "maraude.orientations": "orientations", "maraude.urgences": "situations urgentes",
    "visites.enregistrees": "visites enregistrées",
    "visites.faites": "visites de convivialité faites", "visites.mode": "par mode",
    "visites.absences": "absences", "visites.refus": "refus",
    "visites.seniors": "seniors visités au moins une fois",
    "visites.reguliers": "seniors visités régulièrement",
    "visites.semaine": "visites par semaine",
    "visites.alertes": "alertes levées en visite",
    "permanences.tenues": "permanences tenues",
    "permanences.menages": "ménages reçus",
    "permanences.membres": "personnes dans ces ménages",
    "permanences.toutes": "personnes reçues", "permanences.sexe": "par sexe",
    "permanences.personnes": "personnes reçues avec une fiche",
    "permanences.anonymes": "personnes reçues sans fiche (anonymes ou accompagnantes)",
    "permanences.motifs": "motifs de venue", "permanences.actions": "actions",
    "permanences.orientations": "orientations",
    "permanences.rendez_vous": "rendez-vous de suivi donnés",
    "registre.categories": "personnes inscrites au registre",
    "plans.appels": "appels passés pendant les plans d'alerte",
    "plans.joints": "personnes jointes pendant les plans d'alerte",
    "plans.besoins": "besoins repérés pendant les plans d'alerte",
    "equipes.actifs": "bénévoles et agents actifs",
}
ACTIVITIES = {"maraude": "Maraude", "visites": "Visites de convivialité",
              "permanences": "Permanences délocalisées",
              "registre": "Registre et plans d'alerte", "equipes": "Les équipes"}


def every_indicator() -> list[Indicator]:
    """Return the built-in indicators, then those the features add (`signals.indicators`)."""
    return INDICATORS + signals.gathered(signals.indicators.send(None))


def compute_all(session: Session, period: Period, zone: tzinfo,
                activity: str | None = None) -> dict[str, object]:
    """Return every indicator's value for a period (or those of one activity)."""
    figures = Figures(session, period, zone)
    return {indicator.key: indicator.compute(figures) for indicator in every_indicator()
            if activity is None or indicator.activity == activity}


def total(value: object) -> int | float:
    """Return the one number an indicator's value comes to (a breakdown's sum)."""
    if isinstance(value, dict) and "median" in value:
        return value["median"]
    if isinstance(value, dict):
        return sum(value.values())
    return value  # type: ignore[return-value]
