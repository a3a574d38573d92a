"""The demonstration CCAS: invented people and two years of plausible activity, never real data.

Everything comes from one seeded random generator, so the same `today` gives the same records.
Every record is checked against its form before it is kept, nothing is dated from `today` on
(only planned dates such as the next visit may be later), and all is committed at once.
Phone numbers are taken from the ranges ARCEP keeps for fiction (01 99 00…, 06 39 98…).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import insert, select

from outreach import figures, permanences, visits
from outreach.alerts import Alert
from outreach.core import storing
from outreach.core.db import db
from outreach.core.forms import FormRegistry
from outreach.core.forms.editing import add_choice, slug
from outreach.core.models import AppState, FormVersion, Record, ReferenceItem, User
from outreach.core.passwords import hash_password
from outreach.core.settings import SETTINGS
from outreach.demo import register as demo_register
from outreach.demo.names import ADULT_MEN, ADULT_WOMEN, KIN, MEN, QUARTERS, STREETS, TOWN, WOMEN
from sync import sequence
from sync.content import content_hash

DEMO_PASSWORD = "ccas-demo-2026"
# What the demo shows where a CCAS sets its own: the coordination's number, which "Absence de
# réponse" tells the visiteur to call (invented, in ARCEP's range for fiction), and the name
# its letters and reports are signed with.
DEMO_SETTINGS = {"COORDINATION_PHONE": "01 99 00 00 00", "CCAS_NAME": f"CCAS de {TOWN}"}
MARKER = "demo_loaded_at"
SEED = 2026
# Activity from the first of January two years back: the last whole year and the one before it
# are both whole, so every "contre … l'an dernier" compares two whole years.
YEARS_BACK = 2
PARIS = ZoneInfo("Europe/Paris")
WINTER = (11, 12, 1, 2, 3)

DEMO_USERS = [
    ("maraude", "Karim Benali", "maraude"),
    ("maraude2", "Julie Perrot", "maraude"),
    ("visiteur", "Monique Lefèvre", "visiteur"),
    ("visiteur2", "Bernard Caron", "visiteur"),
    ("visiteur3", "Aïcha Diallo", "visiteur"),
    ("visiteur4", "Paul Marchand", "visiteur"),
    ("social", "Sophie Garnier", "travailleur_social"),
    ("coordinateur", "Hélène Roussel", "coordinateur"),
    ("admin", "Marc Olivier", "admin"),
]

# value, label, details; then when it is held: weekday (0 = Monday), weeks of the month, hours.
SITES = [
    ("tilleuls", "Centre social des Tilleuls",
     f"4 rue des Tilleuls, {TOWN}. 1er et 3e mardis du mois, 9 h-12 h, "
     "salle du rez-de-chaussée, accès de plain-pied."),
    ("saint_martin", "Mairie annexe de Saint-Martin",
     f"1 place de l'Église, Saint-Martin, {TOWN}. 2e et 4e jeudis du mois, 14 h-17 h, "
     "bureau du premier étage (ascenseur)."),
    ("villiers", "Salle des fêtes de Villiers",
     f"Route de la Gare, Villiers, {TOWN}. 1er et 3e vendredis du mois, 9 h 30-12 h ; "
     "clé à prendre en mairie la veille."),
]
SCHEDULE = {
    "tilleuls": (1, (1, 3), time(9, 0), time(12, 0)),
    "saint_martin": (3, (2, 4), time(14, 0), time(17, 0)),
    "villiers": (4, (1, 3), time(9, 30), time(12, 0)),
}

SECTEURS = ["Centre-ville, gare, square Jean-Moulin", "Quartier nord, centre commercial",
            "Bords du canal, quai de l'Aurelle", "Gare, hôpital, parking du marché",
            "Centre-ville, jardin public, place de la mairie"]
PLACES = ["Parvis de la gare", "Parking du marché", "Square Jean-Moulin", "Sous le pont du canal",
          "Entrée du centre commercial", "Jardin public", "Arrêt de bus Liberté",
          "Quai de l'Aurelle", "Abords de l'hôpital", "Place de la mairie",
          "Hall de la gare routière", "Porche de l'église Saint-Jacques"]
# alias, sexe; the age band is drawn from the form's own choices.
ALIASES = [("Momo", "homme"), ("Jojo", "homme"), ("Le Grand", "homme"), ("Nadia", "femme"),
           ("Sylvie", "femme"), ("Pépé", "homme"), ("Tonio", "homme"), ("Kader", "homme"),
           ("Mimi", "femme"), ("Bébert", "homme"), ("La Rousse", "femme"), ("Fredo", "homme"),
           ("Lulu", "femme"), ("Sami", "homme"), ("Didi", "homme"), ("Gégé", "homme"),
           ("Marco", "homme"), ("Nono", "homme"), ("Rachid", "homme"), ("Zaza", "femme"),
           ("Titi", "homme"), ("Cathy", "femme"), ("Polo", "homme"), ("Yanis", "homme"),
           ("Dédé", "homme")]
ALIAS_NOTES = ["Accompagné d'un chien.", "Parle arabe et un peu anglais.",
               "Refuse l'hébergement collectif.", "Fait la manche devant le marché le matin.",
               "Dort dans sa voiture.", "Domicilié au CCAS.", "Connaît bien les autres habitués.",
               "Travaille en intérim certains jours."]
TEAM_EXTRAS = ["Inès (infirmière)", "Bruno (bénévole)", "Chantal (bénévole)", "Yohan (stagiaire)"]
TOURNEE_NOTES = [
    "Beaucoup de monde à la gare après la fermeture de l'accueil de jour.",
    "Square fermé pour travaux : les personnes se sont déplacées vers le canal.",
    "Tournée écourtée, véhicule en panne.",
    "Nouveau campement sous le pont du canal, quatre tentes.",
    "Soirée calme, plusieurs habitués absents.",
    "Thermos vides à 22 h, prévoir davantage de boissons chaudes.",
]
RENCONTRE_NOTES = [
    "Premier contact, méfiant, accepte un café.",
    "Demande des nouvelles de son dossier RSA.",
    "Souhaite être rappelé par l'accueil de jour.",
    "A trouvé une place en CHRS, est venu le dire.",
    "Besoin de croquettes pour son chien.",
    "Reconnaît l'équipe, discussion d'une vingtaine de minutes.",
]
URGENCES_MARAUDE = [
    "Personne grelottante, sans duvet ; accepte la mise à l'abri. 115 appelé, place trouvée.",
    "Femme seule avec un enfant, sans solution pour la nuit. 115 appelé, hébergement obtenu.",
    "Plaie à la jambe non soignée. 15 appelé ; accompagnement à la PASS prévu le lendemain.",
    "Jeune se disant mineur, seul, sans hébergement. 115 et astreinte de l'ASE prévenus.",
    "Personne endormie dehors par grand froid, ne répond pas bien. 18 appelé, transport aux "
    "urgences.",
]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
              "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
              "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand", "Gauthier",
              "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu"]
REFERRALS = [
    "Inscription au registre des personnes isolées demandée par sa fille.",
    "Orientation par le CLIC après une hospitalisation.",
    "Signalement du service d'aide à domicile.",
    "Demande de la personne elle-même, après un veuvage.",
    "Signalement d'une voisine.",
    "Orientation par le médecin traitant.",
]
VISIT_NOTES = [
    "A parlé de sa famille, moral correct.",
    "Souhaite sortir davantage : proposer l'atelier mémoire du jeudi.",
    "Fatiguée, à revoir la semaine prochaine.",
    "Contente de la visite, a proposé un café.",
    "Promenade jusqu'au marché ensemble.",
    "Son aide à domicile passe désormais le matin.",
    "Attend la visite de ses petits-enfants pour les vacances.",
    "Réfrigérateur presque vide, courses prévues par son fils samedi.",
]
ALERT_DETAILS = {
    "chute": "Chute dans la salle de bains la veille, pas de blessure visible. Famille prévenue, "
             "téléassistance proposée.",
    "degradation": "Se déplace beaucoup moins, mange peu. Coordinatrice et médecin traitant "
                   "prévenus.",
    "absence_reponse": "Pas de réponse à la porte ni au téléphone. Voisine et fille appelées.",
    "canicule_grand_froid": "Logement très chaud l'après-midi ; conseils donnés, volets fermés, "
                            "fille prévenue.",
}
# What the coordination did about an alert, as it writes it when closing it.
ALERT_OUTCOMES = {
    "chute": ["Médecin traitant prévenu, téléassistance installée.",
              "Visite de la coordinatrice le lendemain ; fille prévenue, kiné prescrit."],
    "degradation": ["Évaluation APA demandée au Département.",
                    "Aide à domicile renforcée (3 passages par semaine)."],
    "injoignable": ["Passage à domicile du policier municipal : tout va bien, téléphone en panne.",
                    "Trouvée chez sa voisine ; numéro de téléphone mis à jour."],
    "absence_reponse": ["Jointe le soir même : était chez sa fille.",
                        "Voisine passée : tout va bien, téléphone débranché."],
    "canicule_grand_froid": ["Appel quotidien pendant l'épisode ; ventilateur prêté.",
                             "Portage d'eau organisé avec la mairie."],
    "maltraitance": ["Signalement transmis à la cellule départementale."],
    "autre": ["Situation vue avec le médecin traitant."],
    "situation_urgente": ["Orientation faite le soir même (115, hébergement trouvé).",
                          "Relais pris par le service social du Département."],
}
ENDINGS = ["Entrée en EHPAD prévue la semaine prochaine : dernière visite.",
           "Part vivre chez sa fille en Bretagne : fin des visites."]
URGENCES_PERMANENCE = [
    "Expulsion prévue dans la semaine, sans solution. Service logement du CCAS appelé, "
    "rendez-vous demain.",
    "Coupure d'électricité annoncée pour vendredi. Demande d'aide énergie faite sur place.",
    "Plus rien à manger pour le week-end, deux enfants. Colis d'urgence de l'épicerie sociale.",
    "Dit subir des violences au domicile. 3919 donné, rendez-vous au CMS pris le jour même.",
]
SESSION_NOTES = ["Connexion internet coupée, démarches en ligne reportées.",
                 "Forte affluence en début de mois (factures).",
                 "Salle partagée avec la PMI, peu de confidentialité.",
                 "Peu de monde : jour de marché."]
ACCUEIL_NOTES = ["Revient avec les justificatifs demandés.", "Dossier FSL déposé.",
                 "Orientée vers l'écrivain public pour un courrier.",
                 "Première venue, connaît la permanence par la mairie."]
# Which actions and orientations fit which motif (used only where the form has those values).
MOTIF_ACTIONS = {
    "logement": ["information", "aide_dossier", "orientation"],
    "budget": ["aide_financiere", "aide_dossier", "information"],
    "droits": ["aide_dossier", "demarches_en_ligne", "information"],
    "sante": ["information", "orientation"],
    "alimentation": ["aide_alimentaire", "orientation"],
    "demarches_en_ligne": ["demarches_en_ligne"],
    "emploi": ["information", "orientation"],
    "famille": ["ecoute", "information"],
    "energie": ["aide_financiere", "aide_dossier"],
    "mobilite": ["information", "aide_dossier"],
    "autonomie": ["aide_dossier", "orientation"],
    "violences": ["ecoute", "orientation"],
}
MOTIF_ORIENTATIONS = {
    "logement": ["bailleur", "ccas"],
    "budget": ["ccas", "cms_departement"],
    "droits": ["caf", "france_services", "cpam"],
    "sante": ["cpam"],
    "alimentation": ["epicerie_sociale", "association_caritative"],
    "demarches_en_ligne": ["france_services"],
    "emploi": ["france_travail", "mission_locale"],
    "famille": ["caf", "cms_departement"],
    "energie": ["ccas", "cms_departement"],
    "mobilite": ["france_services"],
    "autonomie": ["clic"],
    "violences": ["point_justice", "cms_departement"],
}


@dataclass
class _Person:
    """Someone the demo may name in records; their personne record is made at first contact."""

    first: str
    sexe: str
    available: date
    weight: float = 1.0
    last: str | None = None
    tranche: str | None = None
    record_id: str | None = None


class _Demo:
    """Build the demo's rows; every record is checked against its form before it is kept."""

    def __init__(self, registry: FormRegistry, today: date) -> None:
        self.registry = registry
        self.today = today
        self.first_day = date(today.year - YEARS_BACK, 1, 1)
        self.days_back = (today - self.first_day).days
        # Nothing is recorded or received from the start of `today` on.
        self.cutoff = datetime.combine(today, time(0), PARIS).astimezone(UTC)
        self.rng = random.Random(SEED)
        self.rows: list[dict] = []
        self._values: dict[tuple[str, str], list[str]] = {}

    # Choices, read from the definitions.

    def values(self, form: str, field: str) -> list[str]:
        """Return the values a choice field of a form's current version accepts."""
        if (form, field) not in self._values:
            definition = self.registry.current(form)
            spec = definition.field(field) if definition else None
            if spec is None or "choices" not in spec:
                raise ValueError(f"demo: {form}.{field} is not a field with inline choices")
            self._values[form, field] = [choice["value"] for choice in spec["choices"]]
        return self._values[form, field]

    def has(self, form: str, field: str, value: str) -> bool:
        """Tell whether a choice field accepts a value."""
        return value in self.values(form, field)

    def pick(self, form: str, field: str, weights: dict[str, float] | None = None,
             default: float = 1.0) -> str:
        """Pick one value of a choice field, favouring the weighted ones it really has."""
        return self.some(form, field, 1, 1, weights, default)[0]

    def some(self, form: str, field: str, low: int, high: int,
             weights: dict[str, float] | None = None, default: float = 1.0) -> list[str]:
        """Pick a few distinct values of a choice field, in the definition's order."""
        values = self.values(form, field)
        odds = [(weights or {}).get(value, default) for value in values]
        if not any(odds):
            odds = [1.0] * len(values)
        pool = [(value, odd) for value, odd in zip(values, odds, strict=True) if odd > 0]
        chosen: set[str] = set()
        for _ in range(min(self.rng.randint(low, high), len(pool))):
            remaining = [(v, o) for v, o in pool if v not in chosen]
            chosen.add(self.rng.choices([v for v, _ in remaining], [o for _, o in remaining])[0])
        return [value for value in values if value in chosen]

    def among(self, form: str, field: str, wanted: list[str]) -> list[str]:
        """Keep the values a choice field really has, in the order given."""
        return [value for value in wanted if self.has(form, field, value)]

    # Records.

    def new_id(self) -> str:
        """Make a repeatable random UUID."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, day: date, moment: time) -> datetime:
        """Return a local time in Paris, as an aware datetime."""
        return datetime.combine(day, moment, PARIS)

    def add(self, form: str, data: dict, user_id: int, recorded: datetime, received: datetime,
            parent_id: str | None = None, version: int = 1, ident: str | None = None) -> str:
        """Check a record against its form and keep it for the final insert; return its id.

        `ident` is for records whose id is fixed elsewhere (a plan's call: by task and step).
        """
        clean, errors = self.registry.validate(form, version, data)
        if errors:
            raise ValueError(f"demo: invalid {form} record: {errors} in {data}")
        recorded_at = recorded.astimezone(UTC)
        if recorded_at >= self.cutoff:
            raise ValueError(f"demo: {form} record dated {recorded_at}, not before {self.today}")
        received_at = min(max(received.astimezone(UTC), recorded_at), self.cutoff)
        ident = ident or self.new_id()
        self.rows.append({
            "id": ident, "form": form, "form_version": version, "revision": 1,
            "parent_id": parent_id,
            "data": clean, "recorded_at": recorded_at, "received_at": received_at,
            "recorded_by": user_id, "device_id": None, "deleted": False,
            "content_hash": content_hash({
                "form": form, "form_version": version, "parent_id": parent_id,
                "recorded_at": recorded_at.isoformat(), "data": clean,
            }),
        })
        return ident

    def days(self) -> Iterator[date]:
        """Yield each day from the first day of the demo to yesterday (today itself excluded)."""
        day = self.first_day
        while day < self.today:
            yield day
            day += timedelta(days=1)

    def split(self, count: int, women_share: float, unknown_share: float) -> dict[str, int]:
        """Count women and men among `count` people; some are left unspecified."""
        women = men = 0
        for _ in range(count):
            draw = self.rng.random()
            if draw < unknown_share:
                continue
            if draw < unknown_share + women_share:
                women += 1
            else:
                men += 1
        return {"nombre_personnes": count, "femmes": women, "hommes": men}

    def phone(self, landline: bool) -> str:
        """Return a phone number from a range kept for fiction."""
        head = "01 99 00" if landline else "06 39 98"
        return f"{head} {self.rng.randint(0, 99):02d} {self.rng.randint(0, 99):02d}"

    def name(self, first_names: list[str], taken: set[tuple[str, str]]) -> tuple[str, str]:
        """Draw a first name and surname not used yet."""
        while True:
            pair = (self.rng.choice(first_names), self.rng.choice(LAST_NAMES))
            if pair not in taken:
                taken.add(pair)
                return pair


def use_demo_settings(app: Flask) -> bool:
    """Give an app whose database holds the demo the settings it shows, where none is set.

    A setting given explicitly (the environment, the test config) wins. Return whether the
    database holds the demo.
    """
    with app.app_context():
        loaded = db.session.get(AppState, MARKER) is not None
    if loaded:
        for key, value in DEMO_SETTINGS.items():
            default = next(s.default for s in SETTINGS if s.name == f"OUTREACH_{key}")
            if app.config.get(key) in (None, "", default):
                app.config[key] = value
    return loaded


def load_demo(
    registry: FormRegistry, today: date | None = None
) -> list[tuple[str, str, str]] | None:
    """Load the demonstration CCAS; return the logins made (login, role, password).

    Return None, and change nothing, when it is already loaded. Works in an app context and
    commits once, at the end: all or nothing. The app it runs in gets the demo's settings.
    """
    if db.session.get(AppState, MARKER) is not None:
        use_demo_settings(current_app._get_current_object())
        return None
    demo = _Demo(registry, today or date.today())
    try:
        made, ids = _users()
        for position, (value, label, details) in enumerate(SITES):
            db.session.add(ReferenceItem(list_key="sites", value=value, label=label,
                                         position=position, details=details))
        for position, label in enumerate(PLACES):
            db.session.add(ReferenceItem(list_key="lieux", value=slug(label),
                                         label=label, position=position))
        # The users' ids are needed as authors, and the sites to check the sessions.
        db.session.flush()
        _maraudes(demo, [ids[login] for login, _, role in DEMO_USERS if role == "maraude"])
        seniors = _visites(demo, [ids[login] for login, _, role in DEMO_USERS
                                  if role == "visiteur"])
        _permanences(demo, next(ids[login] for login, _, role in DEMO_USERS
                                if role == "travailleur_social"))
        entries = demo_register.register(demo, ids["coordinateur"], seniors)
        plan, _ = demo_register.last_summer_plan(
            demo, entries, [ids["visiteur"], ids["visiteur2"], ids["coordinateur"]],
            ids["coordinateur"])
        # The order tablets would have sent them in: by arrival, a parent before its children.
        demo.rows.sort(key=lambda row: (row["received_at"], row["recorded_at"]))
        first = sequence.reserve(db.session, len(demo.rows))
        for offset, row in enumerate(demo.rows):
            row["change_seq"] = first + offset
        db.session.execute(insert(Record), demo.rows)
        _assignments(seniors, ids["coordinateur"])
        _planned_sessions(demo, ids["social"], ids["coordinateur"])
        _form_changed_by_the_admin(registry, ids["admin"], demo.cutoff - timedelta(days=3))
        _planned_tournees(demo, ids["coordinateur"])
        db.session.add(AppState(key=MARKER, value=datetime.now(UTC).isoformat()))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    # What the records set off (alerts, next visits due), as after any sync; then the office's
    # handling of the alerts: the old ones closed, a few taken in charge, the last ones new.
    storing.catch_up(db.session)
    demo_register.close_last_summer(demo, plan, ids["coordinateur"])
    _handle_alerts(demo, ids["coordinateur"])
    figures.catch_up(db.session, PARIS)  # the dashboard's summary tables, ready at first look
    use_demo_settings(current_app._get_current_object())
    return made


def _users() -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """Add the demo accounts; an account that already has the login and role is used as is."""
    existing = {user.login: user for user in db.session.scalars(
        select(User).where(User.login.in_([login for login, _, _ in DEMO_USERS])))}
    password_hash = hash_password(DEMO_PASSWORD)  # scrypt is slow: once for every account
    users, made = {}, []
    for login, name, role in DEMO_USERS:
        user = existing.get(login)
        if user is not None and user.role != role:
            raise ValueError(f"demo: the account «{login}» exists with another role ({user.role})")
        if user is None:
            user = User(login=login, name=name, role=role, password_hash=password_hash)
            db.session.add(user)
            made.append((login, role, DEMO_PASSWORD))
        users[login] = user
    db.session.flush()
    return made, {login: user.id for login, user in users.items()}


def _temperature(demo: _Demo, day: date) -> int:
    """Return a plausible evening temperature for the day (°C)."""
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
    value = 11.5 - 8.5 * season + demo.rng.gauss(0, 3.5)
    if day.month in (7, 8) and demo.rng.random() < 0.08:
        value += 9  # a heat wave
    return round(value)


def _maraudes(demo: _Demo, agents: list[int]) -> None:
    """Add the tournées, their rencontres and the aliases the team knows."""
    rng = demo.rng
    team = ", ".join(name.split()[0] for _, name, role in DEMO_USERS if role == "maraude")
    people = [
        _Person(first=alias, sexe=sexe,
                available=demo.first_day + timedelta(
                    days=0 if number < 10 else rng.randint(30, demo.days_back - 60)),
                weight=rng.choice((1, 1, 2, 4)),
                tranche=demo.pick("personne", "tranche_age", {
                    "de_18_a_25": 1, "de_26_a_40": 3, "de_41_a_60": 4, "de_61_a_75": 1,
                }, default=0))
        for number, (alias, sexe) in enumerate(ALIASES)
    ]
    for day in demo.days():
        winter = day.month in WINTER
        if day.weekday() not in ((0, 2, 4) if winter else (1, 4)) or rng.random() < 0.02:
            continue  # a few rounds are called off (no driver, vehicle in repair)
        agent = agents[day.toordinal() % len(agents)]
        start = demo.at(day, time(19, 30) if winter else time(20, 30)) + timedelta(
            minutes=15 * rng.randint(0, 3))
        end = min(start + timedelta(minutes=rng.randint(150, 210)),
                  demo.at(day, time(23, 45)))
        minutes = int((end - start).total_seconds() // 60)
        received = end + timedelta(minutes=rng.randint(10, 45))  # sent back at the office
        temperature = _temperature(demo, day)
        count = rng.choices(range(9), [1, 1, 2, 4, 6, 7, 7, 6, 5] if winter
                            else [1, 3, 5, 7, 6, 4, 3, 1, 0])[0]
        moments = sorted(rng.sample(range(10, minutes - 10), count))
        encounters = [_rencontre(demo, day, winter, people, start + timedelta(minutes=m), agent,
                                 received) for m in moments]
        if temperature <= -1:
            weather = demo.pick("maraude.tournee", "meteo", {"gel": 3, "neige": 1, "sec": 1},
                                default=0)
        elif temperature >= 30:
            weather = demo.pick("maraude.tournee", "meteo", {"canicule": 1}, default=0)
        else:
            weather = demo.pick("maraude.tournee", "meteo", {"sec": 6, "pluie": 3, "vent": 1},
                                default=0)
        extra = rng.choice(TEAM_EXTRAS) if rng.random() < 0.3 else None
        tournee = {
            "date": day.isoformat(), "heure_depart": start.strftime("%H:%M"),
            "heure_retour": end.strftime("%H:%M"), "secteur": rng.choice(SECTEURS),
            "equipe": f"{team}, {extra}" if extra else team, "meteo": weather,
            "temperature": temperature,
            "nombre_personnes": sum(data["nombre_personnes"] for data, _ in encounters),
        }
        if rng.random() < 0.2:
            tournee["observations"] = rng.choice(TOURNEE_NOTES)
        tournee_id = demo.add("maraude.tournee", tournee, agent, start, received)
        for data, moment in encounters:
            demo.add("maraude.rencontre", data, agent, moment, received, parent_id=tournee_id)


def _rencontre(demo: _Demo, day: date, winter: bool, people: list[_Person], moment: datetime,
               agent: int, received: datetime) -> tuple[dict, datetime]:
    """Make one rencontre's data (and the alias's personne record at a first meeting)."""
    rng = demo.rng
    form = "maraude.rencontre"
    known = [p for p in people if p.available <= day]
    person = (rng.choices(known, [p.weight for p in known])[0]
              if known and rng.random() < 0.4 else None)
    if person:
        if person.record_id is None:
            alias = {"niveau": "alias", "alias_prenom": person.first, "sexe": person.sexe,
                     "tranche_age": person.tranche}
            if rng.random() < 0.6:
                alias["notes"] = rng.choice(ALIAS_NOTES)
            person.record_id = demo.add("personne", alias, agent,
                                        moment - timedelta(minutes=2), received)
        count = rng.choices((1, 2), (4, 1))[0]
        counts = demo.split(count - 1, 0.3, 0.2)
        counts["nombre_personnes"] = count
        counts["femmes" if person.sexe == "femme" else "hommes"] += 1
        data = {"niveau": "alias", "personne": person.record_id, **counts,
                "tranche_age": person.tranche}
    else:
        count = rng.choices((1, 2, 3, 4, 5), (12, 6, 3, 1.5, 0.5))[0]
        data = {"niveau": "anonyme", **demo.split(count, 0.25, 0.1)}
        if rng.random() < 0.85:
            data["tranche_age"] = demo.pick(form, "tranche_age", {
                "moins_18": 0.1, "de_18_a_25": 1.5, "de_26_a_40": 3, "de_41_a_60": 3,
                "de_61_a_75": 1, "plus_75": 0.1, "inconnue": 0.5})
    data["lieu"] = {"label": rng.choice(PLACES), "lat": None, "lon": None}
    data["prestations"] = demo.some(form, "prestations", 1, 3, {
        "boisson_chaude": 6 if winter else 2, "repas": 3, "duvet": 2 if winter else 0.2,
        "vetements": 1.5 if winter else 0.5, "kit_hygiene": 1.5, "ecoute": 4,
        "soins": 0.3, "information": 1.5, "orientation_accompagnee": 0.2})
    if rng.random() < 0.5:
        data["besoins"] = demo.some(form, "besoins", 1, 2, {
            "hebergement": 4, "alimentation": 3, "hygiene": 2, "sante": 2, "lien_social": 2,
            "droits": 1.5, "vetements": 2 if winter else 0.5, "sante_mentale": 1,
            "addiction": 1, "domiciliation": 1})
    orientations = []
    if rng.random() < 0.25:
        orientations = demo.some(form, "orientations", 1, 1, {
            "accueil_jour": 3, "siao_115": 5 if winter else 2, "pass_hopital": 1,
            "domiciliation": 1, "association": 2, "csapa_caarud": 1, "cmp": 0.5, "ccas": 2,
            "service_social": 1, "urgences": 0})
    urgent = rng.random() < (0.05 if winter else 0.02)
    data["situation_urgente"] = urgent
    if urgent:
        data["detail_urgence"] = rng.choice(URGENCES_MARAUDE)
        called = demo.among(form, "orientations", ["siao_115"] if rng.random() < 0.7
                            else ["urgences"])
        orientations = [v for v in demo.values(form, "orientations")
                        if v in orientations or v in called]
    if orientations:
        data["orientations"] = orientations
    if rng.random() < 0.12:
        data["notes"] = rng.choice(RENCONTRE_NOTES)
    return data, moment


@dataclass
class _Senior:
    record_id: str
    visitor: int
    rhythm: str
    mode: str
    since: date


def _visites(demo: _Demo, visitors: list[int]) -> list[_Senior]:
    """Add about thirty isolated seniors, each visited by one visiteur, weekly or fortnightly.

    Return those still visited, for the planning. A few have not been visited for some weeks
    (a visiteur on leave): the planning shows them overdue.
    """
    followed = []
    rng = demo.rng
    form = "visite.visite"
    taken: set[tuple[str, str]] = set()
    for number in range(30):
        visitor = visitors[number % len(visitors)]
        sexe = "femme" if rng.random() < 0.68 else "homme"
        first, last = demo.name(WOMEN if sexe == "femme" else MEN, taken)
        born = date(rng.randint(1930, 1958), rng.randint(1, 12), rng.randint(1, 28))
        since = demo.first_day + timedelta(
            days=rng.randint(0, 50) if number < 24 else rng.randint(60, demo.days_back // 2))
        age = since.year - born.year - ((since.month, since.day) < (born.month, born.day))
        senior = {
            "niveau": "identifie", "alias_prenom": first, "nom": last,
            "date_naissance": born.isoformat(), "sexe": sexe,
            "telephone": demo.phone(landline=rng.random() < 0.6),
            "adresse": f"{rng.randint(1, 60)} {rng.choice(STREETS)}, {rng.choice(QUARTERS)}",
            "consentement": True, "date_consentement": since.isoformat(),
            "notes": rng.choice(REFERRALS),
        }
        band = "plus_75" if age >= 75 else "de_61_a_75"
        if demo.has("personne", "tranche_age", band):
            senior["tranche_age"] = band
        senior_id = None  # the personne record is made at the first visit, with the consent
        # Weekly at home; or at home every other week with a call in between; or calls only.
        rhythm = rng.choices(("domicile", "quinzaine", "telephone"), (5, 4, 1))[0]
        ends = rng.choice(ENDINGS) if number in (7, 19) else None
        until = demo.today - timedelta(days=rng.randint(60, 200)) if ends else demo.today
        if number in (4, 13, 26):
            until = demo.today - timedelta(days=rng.randint(16, 30))
        if number % 2:  # recorded since the form has "Personne à prévenir" (version 2)
            senior["contact_urgence"] = f"{rng.choice(WOMEN + MEN)} {last} ({rng.choice(KIN)})"
            senior["telephone_urgence"] = demo.phone(landline=False)
        state = rng.choices((0, 1, 2), (6, 3, 1))[0]
        lonely = rng.choice(("faible", "fort"))
        day, week = since, 0
        while day < until:
            mode = "domicile"
            if week and (rhythm == "telephone" or (rhythm == "quinzaine" and week % 2)):
                mode = "telephone"
            hour = time(rng.randint(14, 16), rng.choice((0, 15, 30))) if mode == "domicile" \
                else time(rng.randint(10, 17), rng.choice((0, 20, 40)))
            moment = demo.at(day, hour) + timedelta(minutes=rng.randint(30, 75))
            received = moment + timedelta(minutes=rng.randint(20, 240))
            if senior_id is None:
                senior_id = demo.add("personne", senior, visitor, moment - timedelta(minutes=20),
                                     received, version=2 if number % 2 else 1)
                if not ends:
                    followed.append(_Senior(
                        senior_id, visitor, "quinzaine" if rhythm == "quinzaine" else
                        "hebdomadaire", "telephone" if rhythm == "telephone" else "domicile",
                        since))
            following = day + timedelta(days=7)
            last_one = ends is not None and following + timedelta(days=1) >= until
            data = {"personne": senior_id, "date": day.isoformat(), "mode": mode,
                    "alerte": "aucune"}
            seen = demo.pick(form, "personne_vue", {"oui": 92, "absente": 6, "refus": 2}
                             if mode == "domicile" else {"oui": 90, "absente": 10}, default=0)
            if last_one or week == 0:
                seen = "oui"  # met to collect the consent; seen to say goodbye
            data["personne_vue"] = seen
            if seen == "oui":
                if rng.random() < 0.03:
                    worse = rng.random() < 0.5
                    state = min(2, max(0, state + (1 if worse else -1)))
                    if worse and state == 2 and rng.random() < 0.6:
                        data["alerte"] = "degradation"
                if rng.random() < 0.01:
                    data["alerte"] = "chute"
                if day.month in (7, 8) and rng.random() < 0.02:
                    data["alerte"] = "canicule_grand_froid"
                data["etat_general"] = demo.values(form, "etat_general")[
                    min(2, max(0, state + rng.choice((0, 0, 0, 0, -1, 1))))]
                data["isolement"] = demo.pick(form, "isolement", {lonely: 5, "aucun": 1},
                                              default=1)
                if rng.random() < 0.2 or data["alerte"] == "chute":
                    needs = demo.some(form, "besoins", 1, 2, {
                        "courses": 3, "aide_domicile": 2, "soins": 1, "lien_social": 4,
                        "demarches": 2, "logement_adapte": 0.5, "portage_repas": 1.5,
                        "teleassistance": 1, "transport": 2})
                    if data["alerte"] == "chute":
                        needs = [v for v in demo.values(form, "besoins")
                                 if v in needs or v == "teleassistance"]
                    data["besoins"] = needs
                if rng.random() < 0.3:
                    data["notes"] = rng.choice(VISIT_NOTES)
            elif seen == "absente" and rng.random() < 0.25:
                data["alerte"] = "absence_reponse"
                following = day + timedelta(days=2)  # come back soon after a worrying silence
            if not demo.has(form, "alerte", data["alerte"]):
                data["alerte"] = "aucune"
            if data["alerte"] != "aucune":
                data["detail_alerte"] = ALERT_DETAILS[data["alerte"]]
            if last_one:
                data["notes"] = ends
            else:
                data["prochaine_visite"] = following.isoformat()
            demo.add(form, data, visitor, moment, received)
            if last_one:
                break
            day = following + timedelta(days=rng.choice((0, 0, 0, 0, 0, 1, -1)))
            week += 1

    return followed

def _assignments(seniors: list[_Senior], coordinator: int) -> None:
    """Give each senior still visited to their visiteur, at their rhythm, as the planning does."""
    for senior in seniors:
        visits.assign(db.session, senior.record_id, senior.visitor, senior.rhythm,
                        senior.mode, senior.since, coordinator)


def _handle_alerts(demo: _Demo, coordinator: int) -> None:
    """Handle the alerts as an office does: two new, three taken in charge, the older closed."""
    newest_first = db.session.scalars(select(Alert).order_by(Alert.raised_at.desc())).all()
    for position, alert in enumerate(newest_first):
        if position < 2:
            continue
        alert.status, alert.taken_by = "prise_en_charge", coordinator
        alert.taken_at = min(alert.raised_at + timedelta(hours=demo.rng.randint(1, 20)),
                             demo.cutoff)
        if position >= 5:
            alert.status, alert.closed_by = "close", coordinator
            alert.closed_at = min(alert.taken_at + timedelta(hours=demo.rng.randint(2, 72)),
                                  demo.cutoff)
            alert.outcome = demo.rng.choice(ALERT_OUTCOMES[alert.kind])
        alert.revision += 1
        alert.change_seq = sequence.reserve(db.session, 1)
    db.session.commit()


def _planned_sessions(demo: _Demo, social: int, coordinator: int) -> None:
    """Plan each site's permanences of the next six weeks in the calendar, as the office does."""
    for site, (_, _, opens, closes) in SCHEDULE.items():
        for day in _session_days(demo, site, demo.today):
            if day > demo.today + timedelta(weeks=6):
                break
            _, errors = permanences.plan(db.session, site, day, opens.strftime("%H:%M"),
                                         closes.strftime("%H:%M"), social, None, coordinator,
                                         demo.today)
            if errors:
                raise ValueError(f"demo: planned session refused: {errors}")


def _session_days(demo: _Demo, site: str, after: date) -> Iterator[date]:
    """Yield a site's permanence days from `after` on, but for the summer and Christmas breaks."""
    weekday, weeks, _, _ = SCHEDULE[site]
    day = after
    while True:
        if (day.weekday() == weekday and (day.day - 1) // 7 + 1 in weeks
                and not (day.month == 8 and day.day <= 24)
                and not (day.month == 12 and day.day >= 24)):
            yield day
        day += timedelta(days=1)


def _permanences(demo: _Demo, social: int) -> None:
    """Add the permanences at the three sites, their accueils, and a few people followed there."""
    rng = demo.rng
    form = "permanence.accueil"
    taken: set[tuple[str, str]] = set()
    people = []
    for number in range(14):
        sexe = "femme" if number % 3 else "homme"
        first, last = demo.name(ADULT_WOMEN if sexe == "femme" else ADULT_MEN, taken)
        people.append(_Person(
            first=first, last=last, sexe=sexe, weight=rng.choice((1, 2, 3)),
            available=demo.first_day + timedelta(days=rng.randint(0, demo.days_back - 30)),
            tranche=demo.pick("personne", "tranche_age", {
                "de_18_a_25": 1, "de_26_a_40": 3, "de_41_a_60": 3, "de_61_a_75": 1}, default=0)))
    sessions = []
    for site, (_, _, opens, closes) in SCHEDULE.items():
        held = _session_days(demo, site, demo.first_day)
        day = next(held)
        while day < demo.today:
            sessions.append((day, site, opens, closes))
            day = next(held)
    sessions.sort()
    for day, site, opens, closes in sessions:
        start, end = demo.at(day, opens), demo.at(day, closes)
        received = end + timedelta(minutes=rng.randint(20, 90))
        minutes = int((end - start).total_seconds() // 60)
        count = rng.choices(range(9), [1, 1, 3, 5, 7, 7, 6, 5, 4])[0]
        accueils = []
        for offset in sorted(rng.sample(range(5, minutes - 10, 5), count)):
            moment = start + timedelta(minutes=offset)
            known = [p for p in people if p.available <= day]
            person = (rng.choices(known, [p.weight for p in known])[0]
                      if known and rng.random() < 0.15 else None)
            if person:
                if person.record_id is None:
                    person.record_id = demo.add("personne", {
                        "niveau": "identifie", "alias_prenom": person.first, "nom": person.last,
                        "sexe": person.sexe, "tranche_age": person.tranche,
                        "telephone": demo.phone(landline=False),
                        "consentement": True, "date_consentement": day.isoformat(),
                    }, social, moment - timedelta(minutes=1), received)
                count = rng.choices((1, 2, 3, 4), (6, 2, 1, 1))[0]
                data = {"niveau": "identifie", "personne": person.record_id,
                        **demo.split(count - 1, 0.5, 0.3)}
                data["nombre_personnes"] = count
                data["femmes" if person.sexe == "femme" else "hommes"] += 1
            else:
                count = rng.choices((1, 2, 3, 4), (14, 4, 1, 1))[0]
                data = {"niveau": "anonyme", **demo.split(count, 0.55, 0.05)}
            winter = day.month in WINTER
            motifs = demo.some(form, "motifs", 1, 2, {
                "logement": 4, "budget": 3, "droits": 4, "sante": 1.5, "alimentation": 2,
                "demarches_en_ligne": 4, "emploi": 1.5, "famille": 1,
                "energie": 4 if winter else 1.5, "mobilite": 1, "autonomie": 1, "violences": 0.4})
            data["motifs"] = motifs
            actions = {a for motif in motifs for a in MOTIF_ACTIONS.get(motif, [])
                       if rng.random() < 0.6}
            if rng.random() < 0.3:
                actions.add("ecoute")
            data["actions"] = [v for v in demo.values(form, "actions") if v in actions] or \
                demo.some(form, "actions", 1, 1)
            if rng.random() < 0.4:
                wanted = {o for motif in motifs for o in MOTIF_ORIENTATIONS.get(motif, [])}
                oriented = [v for v in demo.values(form, "orientations")
                            if v in wanted and rng.random() < 0.6]
                if oriented:
                    data["orientations"] = oriented
            if rng.random() < 0.2:
                data["rendez_vous_suivi"] = next(
                    _session_days(demo, site, day + timedelta(days=1))).isoformat()
            urgent = rng.random() < 0.03
            data["situation_urgente"] = urgent
            if urgent:
                data["detail_urgence"] = rng.choice(URGENCES_PERMANENCE)
            if rng.random() < 0.1:
                data["notes"] = rng.choice(ACCUEIL_NOTES)
            accueils.append((data, moment))
        worker = next(name for _, name, role in DEMO_USERS if role == "travailleur_social")
        session = {
            "site": site, "date": day.isoformat(), "heure_debut": start.strftime("%H:%M"),
            "heure_fin": end.strftime("%H:%M"),
            "intervenants": worker.split()[0] + (", Nadine (bénévole, écrivain public)"
                                                 if site == "tilleuls" else ""),
            "nombre_personnes": sum(data["nombre_personnes"] for data, _ in accueils),
        }
        if rng.random() < 0.12:
            session["notes"] = rng.choice(SESSION_NOTES)
        session_id = demo.add("permanence.session", session, social, start, received)
        for data, moment in accueils:
            demo.add(form, data, social, moment, received, parent_id=session_id)


def _planned_tournees(demo: _Demo, coordinator: int) -> None:
    """Plan the team's next two tournées, as the coordinateur does the day before."""
    team = ", ".join(name.split()[0] for _, name, role in DEMO_USERS if role == "maraude")
    planned_on = demo.cutoff - timedelta(hours=6)
    for ahead, secteur in ((0, SECTEURS[0]), (2, SECTEURS[1])):
        day = demo.today + timedelta(days=ahead)
        demo.add("maraude.tournee", {"date": day.isoformat(), "heure_depart": "20:30",
                                     "secteur": secteur, "equipe": team},
                 coordinator, planned_on, planned_on)
    rows = demo.rows[-2:]
    first = sequence.reserve(db.session, len(rows))
    for offset, row in enumerate(rows):
        row["change_seq"] = first + offset
    db.session.execute(insert(Record), rows)


def _form_changed_by_the_admin(registry: FormRegistry, admin_id: int, when: datetime) -> None:
    """Make the rencontre's version 2 as the admin would at /admin/formulaires (one new choice).

    The demo's rencontres stay at version 1: a form at version 2 with records at version 1.
    """
    current = registry.current("maraude.rencontre")
    if current.version != 1:
        return
    history = [d.raw for d in registry.versions("maraude.rencontre")]
    following = add_choice(current.raw, history, "prestations", "Protections hygiéniques")
    db.session.add(FormVersion(
        key="maraude.rencontre", version=following["version"], definition=following,
        note="choix « Protections hygiéniques » ajouté.", created_by=admin_id, created_at=when))
