"""The demonstration CCAS: invented people and two years of plausible activity, never real data."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from sync import sequence
from sync.content import content_hash

from .db import db
from .forms import FormRegistry
from .models import AppState, Record, ReferenceItem, User
from .passwords import hash_password

DEMO_PASSWORD = "ccas-demo-2026"
PARIS = ZoneInfo("Europe/Paris")
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
SITES = [
    ("tilleuls", "Centre social des Tilleuls", "12 rue des Tilleuls — mardi 9 h-12 h"),
    ("saint_martin", "Mairie annexe de Saint-Martin", "2 place de l'Église — jeudi 14 h-17 h"),
    ("villiers", "Salle des fêtes de Villiers", "route de la Gare, Villiers — 1er et 3e vendredi"),
]
PLACES = ["Parvis de la gare", "Parking du marché", "Square Jean-Moulin", "Sous le pont du canal",
          "Entrée du centre commercial", "Jardin public", "Arrêt de bus Liberté",
          "Quai de la Marne", "Abords de l'hôpital", "Place de la mairie"]
SECTEURS = ["Centre-ville et gare", "Quartier nord", "Bords du canal", "Zone commerciale"]
ALIASES = ["Momo", "Jojo", "Le Grand", "Nadia", "Sylvie", "Pépé", "Tonio", "Kader", "Mimi",
           "Bébert", "La Rousse", "Fredo", "Lulu", "Sami", "Didi", "Gégé", "Marco", "Nono",
           "Rachid", "Zaza", "Titi", "Cathy", "Polo", "Yanis", "Dédé"]
FIRST_NAMES = ["Jeanne", "Marcel", "Simone", "Roger", "Odette", "André", "Yvette", "Lucien",
               "Paulette", "Raymond", "Germaine", "Henri", "Suzanne", "Georges", "Ginette"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
              "Bertrand", "Roux", "Vincent", "Fournier"]
STREETS = ["rue des Lilas", "avenue Foch", "rue Pasteur", "impasse des Roses", "rue Victor-Hugo",
           "chemin du Moulin", "rue de la République", "allée des Peupliers"]
MARKER = "demo_loaded_at"


class _Demo:
    """Build the demo's rows; everything is checked against the forms before it is kept."""

    def __init__(self, registry: FormRegistry, today: date) -> None:
        self.registry, self.today = registry, today
        self.rng = random.Random(2026)
        self.rows: list[dict] = []

    def choices(self, form: str, field: str) -> list[str]:
        """Return the choice values a form field accepts."""
        spec = self.registry.current(form).field(field)
        return [choice["value"] for choice in spec["choices"]]

    def pick(self, form: str, field: str) -> str:
        """Pick one choice of a field."""
        return self.rng.choice(self.choices(form, field))

    def some(self, form: str, field: str, low: int, high: int) -> list[str]:
        """Pick a few distinct choices of a multi field."""
        values = self.choices(form, field)
        return self.rng.sample(values, self.rng.randint(low, min(high, len(values))))

    def new_id(self) -> str:
        """Make a repeatable UUID."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, form: str, data: dict, user_id: int, moment: datetime,
            parent_id: str | None = None) -> str:
        """Check a record against its form and keep it for the final insert."""
        clean, errors = self.registry.validate(form, 1, data)
        if errors:
            raise ValueError(f"demo {form} is invalid: {errors}")
        recorded_at = moment.astimezone(UTC)
        ident = self.new_id()
        self.rows.append({
            "id": ident, "form": form, "form_version": 1, "revision": 1, "parent_id": parent_id,
            "data": clean, "recorded_at": recorded_at,
            "received_at": recorded_at + timedelta(minutes=self.rng.randint(5, 600)),
            "recorded_by": user_id, "device_id": None,
            "content_hash": content_hash({
                "form": form, "form_version": 1, "parent_id": parent_id,
                "recorded_at": recorded_at.isoformat(), "data": clean,
            }),
        })
        return ident

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Return a local time in Paris on a day (hour 24+ is the next morning)."""
        return datetime.combine(day, time(hour % 24, minute), PARIS) + timedelta(
            days=hour // 24
        )

    def days(self):
        """Yield each day of the two years before today."""
        day = self.today - timedelta(days=730)
        while day <= self.today:
            yield day
            day += timedelta(days=1)


def load_demo(
    registry: FormRegistry, today: date | None = None
) -> list[tuple[str, str, str]] | None:
    """Load the demonstration CCAS; return the logins made, or None if it is already loaded."""
    if db.session.get(AppState, MARKER) is not None:
        return None
    demo = _Demo(registry, today or date.today())
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for login, name, role in DEMO_USERS:
        users[login] = User(login=login, name=name, role=role, password_hash=password_hash)
        db.session.add(users[login])
    for position, (value, label, details) in enumerate(SITES):
        db.session.add(ReferenceItem(list_key="sites", value=value, label=label,
                                     position=position, details=details))
    db.session.flush()
    ids = {login: user.id for login, user in users.items()}

    _maraudes(demo, [ids["maraude"], ids["maraude2"]])
    _visites(demo, [ids[f"visiteur{n}" if n > 1 else "visiteur"] for n in range(1, 5)])
    _permanences(demo, ids["social"])

    first = sequence.reserve(db.session, len(demo.rows))
    for offset, row in enumerate(demo.rows):
        row["change_seq"] = first + offset
    db.session.execute(insert(Record), demo.rows)
    db.session.add(AppState(key=MARKER, value=datetime.now(UTC).isoformat()))
    db.session.commit()
    return [(login, role, DEMO_PASSWORD) for login, _, role in DEMO_USERS]


def _maraudes(demo: _Demo, agents: list[int]) -> None:
    rng = demo.rng
    people = []
    for number, alias in enumerate(ALIASES):
        first_met = demo.today - timedelta(days=rng.randint(30, 720))
        data = {"niveau": "alias", "alias_prenom": alias,
                "tranche_age": demo.pick("personne", "tranche_age"),
                "sexe": "femme" if alias in ("Nadia", "Sylvie", "Mimi", "La Rousse", "Lulu",
                                             "Zaza", "Cathy") else "homme",
                "notes": "Connu(e) de l'équipe de maraude."}
        people.append((demo.add("personne", data, agents[number % 2], demo.at(first_met, 21)),
                       first_met))
    for day in demo.days():
        winter = day.month in (11, 12, 1, 2, 3)
        if day.weekday() not in ((0, 2, 4) if winter else (1, 4)):
            continue
        agent = agents[day.toordinal() % 2]
        start = demo.at(day, 20, rng.choice((0, 15, 30)))
        temperature = rng.randint(-6, 8) if winter else rng.randint(10, 28)
        rencontres, met = [], 0
        for order in range(rng.randint(0, 8 if winter else 5)):
            count = rng.choice((1, 1, 1, 1, 2, 2, 3))
            women = rng.randint(0, count)
            known = [p for p, since in people if since <= day]
            person = rng.choice(known) if known and rng.random() < 0.45 else None
            urgent = rng.random() < 0.04
            data = {
                "lieu": {"label": rng.choice(PLACES), "lat": None, "lon": None},
                "niveau": "alias" if person else "anonyme",
                "nombre_personnes": count, "femmes": women, "hommes": count - women,
                "tranche_age": demo.pick("maraude.rencontre", "tranche_age"),
                "prestations": demo.some("maraude.rencontre", "prestations", 1, 3),
                "situation_urgente": urgent,
            }
            if person:
                data["personne"] = person
            if rng.random() < 0.5:
                data["besoins"] = demo.some("maraude.rencontre", "besoins", 1, 2)
            if rng.random() < 0.25:
                data["orientations"] = demo.some("maraude.rencontre", "orientations", 1, 1)
            if urgent:
                data["detail_urgence"] = "Personne très affaiblie par le froid, 115 appelé."
            rencontres.append((data, start + timedelta(minutes=20 + 25 * order)))
            met += count
        end = start + timedelta(hours=rng.choice((2, 3, 3, 4)))
        tournee = demo.add("maraude.tournee", {
            "date": day.isoformat(), "heure_depart": start.strftime("%H:%M"),
            "heure_retour": end.strftime("%H:%M"), "secteur": rng.choice(SECTEURS),
            "equipe": "Karim, Julie" + (", Dr Morel" if rng.random() < 0.2 else ""),
            "meteo": ("neige" if temperature < 0 else rng.choice(("sec", "pluie", "vent")))
            if winter else rng.choice(("sec", "sec", "pluie", "canicule")),
            "temperature": temperature, "nombre_personnes": met,
        }, agent, start)
        for data, moment in rencontres:
            demo.add("maraude.rencontre", data, agent, moment, parent_id=tournee)


def _visites(demo: _Demo, visitors: list[int]) -> None:
    rng = demo.rng
    for number in range(30):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        visitor = visitors[number % len(visitors)]
        born = date(rng.randint(1930, 1958), rng.randint(1, 12), rng.randint(1, 28))
        since = demo.today - timedelta(days=rng.randint(60, 700))
        senior = demo.add("personne", {
            "niveau": "identifie", "alias_prenom": first, "nom": last,
            "date_naissance": born.isoformat(),
            "sexe": "femme" if first in ("Jeanne", "Simone", "Odette", "Yvette", "Paulette",
                                         "Germaine", "Suzanne", "Ginette") else "homme",
            "telephone": "06 " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4)),
            "adresse": f"{rng.randint(1, 80)} {rng.choice(STREETS)}, 77100 Val-Fleuri",
            "consentement": True, "date_consentement": since.isoformat(),
        }, visitor, demo.at(since, 10))
        rhythm = 7 if number % 3 else 14
        phone = number % 5 == 0
        day = since + timedelta(days=rng.randint(1, 7))
        while day <= demo.today:
            seen = rng.random() > 0.08
            alert = "aucune"
            if rng.random() < 0.02:
                alert = rng.choice(("chute", "degradation"))
            if not seen and rng.random() < 0.3:
                alert = "absence_reponse"
            data = {
                "personne": senior, "date": day.isoformat(),
                "mode": "telephone" if phone else "domicile",
                "personne_vue": "oui" if seen else "absente", "alerte": alert,
                "prochaine_visite": (day + timedelta(days=rhythm)).isoformat(),
            }
            if seen:
                data.update(etat_general=rng.choice(("bon", "bon", "moyen", "preoccupant")),
                            isolement=rng.choice(("aucun", "faible", "faible", "fort")))
                if rng.random() < 0.3:
                    data["besoins"] = demo.some("visite.visite", "besoins", 1, 2)
                if rng.random() < 0.4:
                    data["notes"] = rng.choice((
                        "A parlé de sa famille, moral correct.",
                        "Souhaite sortir davantage, proposer l'atelier du jeudi.",
                        "Fatigue, à revoir la semaine prochaine.",
                        "Contente de la visite, a proposé un café."))
            demo.add("visite.visite", data, visitor, demo.at(day, rng.randint(9, 16)))
            day += timedelta(days=rhythm + rng.choice((-1, 0, 0, 0, 1)))


def _permanences(demo: _Demo, social: int) -> None:
    rng = demo.rng
    regulars = []
    for _ in range(12):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        regulars.append(demo.add("personne", {
            "niveau": "identifie", "alias_prenom": first, "nom": last,
            "tranche_age": demo.pick("personne", "tranche_age"),
            "consentement": True,
            "date_consentement": (demo.today - timedelta(days=700)).isoformat(),
        }, social, demo.at(demo.today - timedelta(days=700), 9)))
    weekday = {"tilleuls": 1, "saint_martin": 3, "villiers": 4}
    for day in demo.days():
        for site, _, _ in SITES:
            if day.weekday() != weekday[site] or not (day.day <= 7 or 15 <= day.day <= 21):
                continue
            start = demo.at(day, 9 if site == "tilleuls" else 14)
            accueils = []
            for order in range(rng.randint(0, 8)):
                count = rng.choice((1, 1, 1, 2))
                women = rng.randint(0, count)
                person = rng.choice(regulars) if rng.random() < 0.2 else None
                urgent = rng.random() < 0.03
                data = {
                    "niveau": "identifie" if person else "anonyme",
                    "nombre_personnes": count, "femmes": women, "hommes": count - women,
                    "motifs": demo.some("permanence.accueil", "motifs", 1, 2),
                    "actions": demo.some("permanence.accueil", "actions", 1, 2),
                    "situation_urgente": urgent,
                }
                if person:
                    data["personne"] = person
                if rng.random() < 0.35:
                    data["orientations"] = demo.some("permanence.accueil", "orientations", 1, 1)
                if rng.random() < 0.2:
                    data["rendez_vous_suivi"] = (day + timedelta(days=14)).isoformat()
                if urgent:
                    data["detail_urgence"] = "Coupure d'énergie annoncée, aide d'urgence demandée."
                accueils.append((data, start + timedelta(minutes=20 * order + 10)))
            session = demo.add("permanence.session", {
                "site": site, "date": day.isoformat(), "heure_debut": start.strftime("%H:%M"),
                "heure_fin": (start + timedelta(hours=3)).strftime("%H:%M"),
                "intervenants": "Sophie Garnier",
                "nombre_personnes": sum(d["nombre_personnes"] for d, _ in accueils),
            }, social, start)
            for data, moment in accueils:
                demo.add("permanence.accueil", data, social, moment, parent_id=session)
