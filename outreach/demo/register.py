"""The demonstration's register of isolated people and last summer's plan canicule.

About forty invented registrations (some made on a visiteur's tablet for seniors they visit, the
rest at the office; a few to confirm before 1 June, two withdrawn), then the heat wave of last
summer: the plan opened, each registered person called by the agents, the outcomes synced as
`plan.appel` records, the needs followed up, the plan closed with its figures.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from outreach.core.db import db
from outreach.demo.names import ADULT_MEN, ADULT_WOMEN, KIN, MEN, QUARTERS, STREETS, WOMEN
from outreach.register import AlertPlan, CallTask, alert_plans
from sync import sequence

FORM = "registre.inscription"
HOME_CARE = ["ADMR, passage le matin", "SSIAD, soins infirmiers tous les jours",
             "Portage de repas du CCAS", "Aide à domicile deux fois par semaine"]
REGISTER_NOTES = ["3e étage sans ascenseur.", "Entend mal : laisser sonner longtemps.",
                  "Code d'entrée : demander à la gardienne.", "Chien dans l'appartement."]
THIRD_PARTIES = [("fille", "Fille"), ("voisin", "Voisin"), ("médecin", "Médecin traitant"),
                 ("aide à domicile", "Aide à domicile")]
NEED_FOLLOW_UPS = {"eau": "Pack d'eau porté par la mairie dans l'après-midi.",
                   "courses": "Courses livrées par l'épicerie solidaire le lendemain.",
                   "visite": "Visite de la coordinatrice le lendemain matin.",
                   "medecin": "Médecin traitant prévenu, passage le jour même."}


def register(demo, coordinator: int, followed: list) -> list[dict]:
    """Add about forty registrations; return their rows (id, data, when requested)."""
    rng = demo.rng
    rows = {row["id"]: row for row in demo.rows if row["form"] == "personne"}
    made = []
    taken: set[tuple[str, str]] = set()
    # Seniors visited at home, registered during a visite by their visiteur.
    for senior in followed[:14]:
        person = rows[senior.record_id]["data"]
        taken.add((person["alias_prenom"], person["nom"]))
        made.append(_entry(demo, person["nom"], person["alias_prenom"],
                           date.fromisoformat(person["date_naissance"]), "65_ans_plus",
                           person["adresse"], person["telephone"], senior.visitor,
                           person_id=senior.record_id, contact=person.get("contact_urgence"),
                           contact_phone=person.get("telephone_urgence")))
    for number in range(26):
        category = "65_ans_plus" if number < 19 else "60_ans_inapte" if number < 22 \
            else "adulte_handicape"
        women = rng.random() < 0.66
        names = (WOMEN if women else MEN) if category != "adulte_handicape" \
            else (ADULT_WOMEN if women else ADULT_MEN)
        first, last = demo.name(names, taken)
        years = {"65_ans_plus": (1928, 1955), "60_ans_inapte": (1958, 1962),
                 "adulte_handicape": (1965, 1998)}[category]
        born = date(rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28))
        address = f"{rng.randint(1, 80)} {rng.choice(STREETS)}, {rng.choice(QUARTERS)}"
        made.append(_entry(
            demo, last, first, born, category, address, demo.phone(rng.random() < 0.7),
            coordinator, contact=f"{rng.choice(WOMEN + MEN)} {last} ({rng.choice(KIN)})",
            contact_phone=demo.phone(landline=False)))
    for position, entry in enumerate(made):
        if position in (5, 23):  # asked to leave the register, by yesterday at the latest
            entry["data"]["date_retrait"] = min(
                entry["requested"] + timedelta(days=rng.randint(60, 200)),
                demo.today - timedelta(days=1)).isoformat()
    for entry in made:
        data = entry["data"]
        entry["id"] = demo.add(FORM, data, entry["by"], entry["at"], entry["at"]
                               + timedelta(hours=rng.randint(1, 8)), version=2)
    return made


def _entry(demo, last: str, first: str, born: date, category: str, address: str, phone: str,
           by: int, person_id: str | None = None, contact: str | None = None,
           contact_phone: str | None = None) -> dict:
    rng = demo.rng
    # Requested some time in the last two years, at an age that opens the right.
    requested = demo.today - timedelta(days=rng.randint(20, 700))
    minimum = {"65_ans_plus": 65, "60_ans_inapte": 60, "adulte_handicape": 18}[category]
    earliest = date(born.year + minimum, born.month, born.day)
    requested = max(requested, earliest)
    if requested >= demo.today:
        requested = demo.today - timedelta(days=1)
    data = {
        "nom": last, "prenoms": first, "date_naissance": born.isoformat(),
        "categorie": category, "adresse": address,
        "secteur": next((q for q in ("Saint-Martin", "Villiers") if q in address), "Centre"),
        "telephone": phone,
        "contact_urgence": contact or f"{rng.choice(WOMEN + MEN)} {last} ({rng.choice(KIN)})",
        "telephone_urgence": contact_phone or demo.phone(landline=False),
        "date_demande": requested.isoformat(),
    }
    asker = rng.choices(("personne", "tiers", "representant_legal"), (6, 3, 1))[0]
    data["demandeur"] = asker
    if asker == "tiers":
        kin, quality = rng.choice(THIRD_PARTIES)
        data["demandeur_nom"] = f"{rng.choice(WOMEN + MEN)} {last if kin == 'fille' else 'Morel'}"
        data["demandeur_qualite"] = quality
    if rng.random() < 0.4:
        data["service_domicile"] = rng.choice(HOME_CARE)
    if rng.random() < 0.3:
        data["notes"] = rng.choice(REGISTER_NOTES)
    if person_id:
        data["personne"] = person_id
    # Confirmed each spring before the summer watch, except a few who have not answered yet.
    spring = date(demo.today.year if demo.today.month >= 6 else demo.today.year - 1, 5, 15)
    if requested < spring - timedelta(days=30) and rng.random() < 0.85:
        data["date_confirmation"] = (spring - timedelta(days=rng.randint(0, 40))).isoformat()
    moment = demo.at(requested, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))))
    return {"data": data, "by": by, "at": moment, "requested": requested}


def last_summer_plan(demo, entries: list[dict], agents: list[int], coordinator: int
                     ) -> tuple[AlertPlan, list[CallTask]]:
    """Open last summer's plan canicule on the register of then, with its calls recorded."""
    rng = demo.rng
    year = demo.today.year if demo.today.month >= 9 else demo.today.year - 1
    starts = date(year, 7, 8)
    opened = demo.at(starts, time(9, 10))
    plan = AlertPlan(id=demo.new_id(), kind="canicule", level="Niveau 3 — alerte canicule",
                     starts_on=starts, sharing="secteur", with_visited=False, series=1,
                     message="Bonjour, c'est le CCAS de Val-d'Aurelle. Il fait très chaud cette "
                             "semaine : buvez de l'eau régulièrement, fermez les volets le jour. "
                             "Avez-vous besoin de quelque chose ?",
                     opened_by=coordinator, opened_at=opened.astimezone(UTC),
                     closed_at=_closing(plan_start=starts, zone=opened.tzinfo))
    # Closed from the start: the registrations withdrawn since (in demo time) must not count as
    # withdrawn during the plan when `follow` reads them all at once after the load.
    db.session.add(plan)
    called = [e for e in entries if e["requested"] <= starts and not (
        e["data"].get("date_retrait") and e["data"]["date_retrait"] <= starts.isoformat())]
    called.sort(key=lambda e: (e["data"]["secteur"], e["data"]["nom"]))
    given = alert_plans.share([e["data"]["secteur"] for e in called], agents, by_secteur=True)
    first = sequence.reserve(db.session, max(1, len(called)))
    tasks = []
    for offset, (entry, agent) in enumerate(zip(called, given, strict=True)):
        task = CallTask(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), plan_id=plan.id,
                        series=1,
                        entry_id=entry["id"], person_id=entry["data"].get("personne"),
                        agent_id=agent, secteur=entry["data"]["secteur"], status="a_appeler",
                        attempts=0, needs=[], revision=1, change_seq=first + offset)
        tasks.append(task)
        db.session.add(task)
        _calls(demo, plan, task, opened + timedelta(minutes=20 + 6 * offset), offset)
    return plan, tasks


def _calls(demo, plan: AlertPlan, task: CallTask, moment: datetime, number: int) -> None:
    """Record a task's calls as the agent's tablet would have synced them.

    Two people answer neither call: for one the person to alert has news, for the other nobody
    answers and an alert sends someone to the door.
    """
    rng = demo.rng
    draw = rng.random()
    if number in (4, 17):
        draw = 1.0
    if draw < 0.78:
        ladder = [("premier_appel", "joint_va_bien", None)]
    elif draw < 0.88:
        ladder = [("premier_appel", "joint_besoin", rng.choice(list(NEED_FOLLOW_UPS)))]
    elif draw < 0.95:
        ladder = [("premier_appel", "pas_de_reponse", None),
                  ("second_appel", "joint_va_bien", None)]
    else:
        ladder = [("premier_appel", "pas_de_reponse", None),
                  ("second_appel", "pas_de_reponse", None),
                  ("personne_a_prevenir", "pas_de_reponse" if number == 17 else "joint_va_bien",
                   None)]
    for step, issue, need in ladder:
        data = {"plan": plan.id, "tache": task.id, "etape": step, "issue": issue}
        if need:
            data["besoins"] = [need]
        demo.add(alert_plans.CALL_FORM, data, task.agent_id, moment,
                 moment + timedelta(minutes=rng.randint(1, 40)),
                 ident=alert_plans.step_id(task.id, step))
        moment += timedelta(hours=2)


def close_last_summer(demo, plan: AlertPlan, coordinator: int) -> None:
    """Follow up the needs and close the plan four days on, as the office did (after follow)."""
    tasks = alert_plans.tasks_of(db.session, plan)
    closing = plan.closed_at
    for task in tasks:
        if task.status == "besoin":
            alert_plans.action_done(db.session, task, coordinator,
                                    NEED_FOLLOW_UPS.get(task.needs[0], "Fait."))
            task.action_done_at = task.last_call_at + timedelta(hours=3)
    alert_plans.close(db.session, plan, coordinator)
    plan.closed_at = closing
    db.session.commit()



def _closing(plan_start: date, zone) -> datetime:
    """Return when last summer's plan was closed: four days on, at six in the evening."""
    return datetime.combine(plan_start + timedelta(days=4), time(18, 0), zone).astimezone(UTC)
