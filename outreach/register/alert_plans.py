"""Alert plans: a canicule or grand froid plan turns the register into calls, on every tablet.

Opening a plan gives one call task per person on the register (and, if asked, per senior of the
visit planning) to the agents chosen, shared by secteur or evenly. Each call's outcome is a
`plan.appel` record made on a tablet, offline or not, and synced like any record; its id is
fixed by the task and the step (first call, second call, the person to alert), so the same call
saved twice is one record, and two agents who disagree on one call make a conflict the
coordinateur settles at /conflits — never a silent overwrite. The task follows its outcomes
(`call_recorded`, on each stored batch): a second "pas de réponse" sends the agent to the person
to alert, a third raises an alert for a home visit; a need waits on the board for its follow-up.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.alerts import Alert
from outreach.core import catalog
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.register.models import AlertPlan, CallRelease, CallTask
from outreach.visits import VisitAssignment, last_visit
from sync import sequence
from sync.push import Actor
from sync.schema import record, utcnow

CALL_FORM = "plan.appel"
REGISTER_FORM = "registre.inscription"
PLAN_KINDS = {"canicule": "Canicule", "grand_froid": "Grand froid", "autre": "Autre"}
SHARINGS = {"secteur": "Par secteur", "egal": "À parts égales"}
STEPS = ("premier_appel", "second_appel", "personne_a_prevenir")
STATUSES = {
    "a_appeler": "À appeler",
    "a_rappeler": "À rappeler",
    "personne_a_prevenir": "Appeler la personne à prévenir",
    "injoignable": "Injoignable : visite à domicile",
    "retire": "Retiré du registre pendant le plan : ne plus appeler",
    "joint": "Joint, va bien",
    "besoin": "Joint, a un besoin",
}
REACHED = ("joint", "besoin")
NOT_CONCLUDED = ("a_appeler", "a_rappeler", "personne_a_prevenir")
NOT_REACHED = ("a_rappeler", "personne_a_prevenir", "injoignable")
# Not reached after two attempts: what the board shows first.
TWICE_UNANSWERED = ("personne_a_prevenir", "injoignable")
CALLING_ROLES = ("visiteur", "maraude", "travailleur_social", "coordinateur")
UNREACHABLE_KIND = "injoignable"
# Call outcome ids are derived from this namespace, the task and the step (uuid5).
STEP_NAMESPACE = uuid.UUID("6f1f7d4e-8a63-4c55-9a0e-3d2f0c1b7a21")


def step_id(task_id: str, step: str) -> str:
    """Return the record id of one call of a task: the same on every tablet."""
    return str(uuid.uuid5(STEP_NAMESPACE, f"{task_id}:{step}"))


def open_plan(session: Session) -> AlertPlan | None:
    """Return the plan in progress, if any (one at a time: the tablets show its calls)."""
    return session.scalar(select(AlertPlan).where(AlertPlan.closed_at.is_(None)))


def plan_title(plan: AlertPlan) -> str:
    """Name a plan as the office says it: "Plan canicule — niveau 3 (du 03/07/2026)"."""
    kind = PLAN_KINDS[plan.kind].lower() if plan.kind != "autre" else "d'alerte"
    return f"Plan {kind} — {plan.level} (du {plan.starts_on:%d/%m/%Y})"


def series_title(plan: AlertPlan) -> str:
    """Name the series of calls in progress ("série 2"), empty for the first."""
    return f"série {plan.series}" if (plan.series or 1) > 1 else ""


def calling_agents(session: Session) -> list[User]:
    """Return the active accounts who may be given calls, by name."""
    return list(session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(CALLING_ROLES))
        .order_by(User.name)))


def registered(session: Session) -> list:
    """Return the registrations on the register today (withdrawn ones left out)."""
    rows = session.execute(
        select(record.c.id, record.c.data)
        .where(record.c.form == REGISTER_FORM, record.c.deleted.is_(False))
    ).all()
    return [row for row in rows if not row.data.get("date_retrait")]


@dataclass
class PlanRequest:
    """What the coordinateur asks for when opening a plan, read from the form."""

    kind: str
    level: str
    starts_on: str
    message: str
    sharing: str
    agents: list[int]
    with_visited: bool


def check_request(session: Session, asked: PlanRequest) -> dict[str, list[str]]:
    """Say what is wrong with a plan request, field by field (empty: it may be opened)."""
    errors: dict[str, list[str]] = {}

    def say(field: str, message: str) -> None:
        """Add a message beside a field."""
        errors.setdefault(field, []).append(message)

    if asked.kind not in PLAN_KINDS:
        say("kind", "Choisissez le type de plan.")
    if not asked.level.strip():
        say("level", "Indiquez le niveau (par exemple : niveau 3, alerte canicule).")
    try:
        date.fromisoformat(asked.starts_on)
    except ValueError:
        say("starts_on", "Date de début attendue (AAAA-MM-JJ).")
    if not asked.message.strip():
        say("message", "Écrivez le message à lire à chaque appel.")
    if asked.sharing not in SHARINGS:
        say("sharing", "Choisissez comment répartir les appels.")
    allowed = {user.id for user in calling_agents(session)}
    if not asked.agents:
        say("agents", "Choisissez au moins un agent pour passer les appels.")
    elif not set(asked.agents) <= allowed:
        say("agents", "Un agent choisi ne peut pas recevoir d'appels (compte fermé ?).")
    current = open_plan(session)
    if current is not None:
        say("kind", f"« {plan_title(current)} » est encore ouvert : closez-le d'abord.")
    if not errors and not _people_to_call(session, asked.with_visited):
        say("with_visited", "Personne à appeler : le registre est vide"
            + (" et aucun senior n'est au planning." if asked.with_visited else "."))
    return errors


def _people_to_call(session: Session, with_visited: bool) -> list[dict]:
    """Return who a new plan calls: {entry_id, person_id, secteur, name}."""
    people = [{"entry_id": row.id, "person_id": row.data.get("personne"),
               "secteur": (row.data.get("secteur") or "").strip() or None,
               "name": f"{row.data['nom']} {row.data['prenoms']}".casefold()}
              for row in registered(session)]
    if with_visited:
        covered = {p["person_id"] for p in people if p["person_id"]}
        seniors = set(session.scalars(
            select(VisitAssignment.person_id).where(VisitAssignment.active.is_(True))))
        files = {row.id: row.data for row in session.execute(
            select(record.c.id, record.c.data).where(record.c.id.in_(seniors - covered),
                                                     record.c.deleted.is_(False)))}
        people += [{"entry_id": None, "person_id": ident, "secteur": None,
                    "name": catalog.person_label(data).casefold()}
                   for ident, data in files.items()]
    return people


def share(secteurs: list[str | None], agents: list[int], by_secteur: bool) -> list[int]:
    """Give each call (given by its secteur) to an agent; return the agent of each, in order.

    By secteur, a secteur's calls go to one agent, the biggest secteurs first to whoever has
    the fewest calls; calls with no secteur, and every call shared evenly, go one by one to
    whoever has the fewest. Agents keep the order given when their loads are equal.
    """
    load = dict.fromkeys(agents, 0)
    given: list[int | None] = [None] * len(secteurs)

    def lightest() -> int:
        """Return the agent with the fewest calls so far."""
        return min(agents, key=lambda agent: load[agent])

    if by_secteur:
        groups: dict[str, list[int]] = {}
        for index, secteur in enumerate(secteurs):
            if secteur:
                groups.setdefault(secteur.strip().casefold(), []).append(index)
        for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            agent = lightest()
            for index in groups[key]:
                given[index] = agent
            load[agent] += len(groups[key])
    for index in range(len(secteurs)):
        if given[index] is None:
            agent = lightest()
            given[index] = agent
            load[agent] += 1
    return [agent for agent in given if agent is not None]


def start_plan(session: Session, asked: PlanRequest, opened_by: int) -> AlertPlan:
    """Open a checked plan and give out its calls; the caller commits."""
    plan = AlertPlan(id=str(uuid.uuid4()), kind=asked.kind, level=asked.level.strip(),
                     starts_on=date.fromisoformat(asked.starts_on), message=asked.message.strip(),
                     sharing=asked.sharing, with_visited=asked.with_visited, opened_by=opened_by,
                     opened_at=utcnow(), series=1)
    session.add(plan)
    people = sorted(_people_to_call(session, asked.with_visited),
                    key=lambda p: (p["secteur"] or "", p["name"]))
    agents = share([p["secteur"] for p in people], asked.agents, asked.sharing == "secteur")
    first = sequence.reserve(session, max(1, len(people)))
    for offset, (person, agent) in enumerate(zip(people, agents, strict=True)):
        session.add(CallTask(
            id=str(uuid.uuid4()), plan_id=plan.id, series=1, entry_id=person["entry_id"],
            person_id=person["person_id"], agent_id=agent, secteur=person["secteur"],
            status="a_appeler", attempts=0, needs=[], revision=1, change_seq=first + offset))
    return plan


def tasks_of(session: Session, plan: AlertPlan, series: int | None = None) -> list[CallTask]:
    """Return a plan's call tasks of one series (the one in progress unless told)."""
    return list(session.scalars(select(CallTask).where(
        CallTask.plan_id == plan.id, CallTask.series == (series or plan.series))))


def all_tasks(session: Session, plan: AlertPlan) -> list[CallTask]:
    """Return every call task of a plan, all series."""
    return list(session.scalars(select(CallTask).where(CallTask.plan_id == plan.id)))


def series_figures(tasks: list[CallTask], current: int) -> list[dict]:
    """Return the figures of each series before the one in progress, oldest first."""
    return [{"series": n, **figures([t for t in tasks if t.series == n])["all"]}
            for n in range(1, current)]


def new_series(session: Session, plan: AlertPlan) -> int:
    """Call everyone again (the next day of a long episode); return how many calls.

    Each person on the register keeps their agent; people registered since go to the agent
    with the fewest calls. The series in progress leaves the tablets (its outcomes still sync).
    """
    previous = all_tasks(session, plan)
    agent_of = {(t.entry_id, t.person_id): t.agent_id for t in previous if t.series == plan.series}
    load = {agent: 0 for agent in dict.fromkeys(agent_of.values())}
    people = sorted(_people_to_call(session, plan.with_visited),
                    key=lambda p: (p["secteur"] or "", p["name"]))
    plan.series += 1
    plan.series_started_at = utcnow()
    first = sequence.reserve(session, len(previous) + len(people) + 1)
    for offset, task in enumerate(previous):
        task.revision += 1
        task.change_seq = first + offset
    seq = first + len(previous)
    for person in people:
        agent = agent_of.get((person["entry_id"], person["person_id"])) \
            or min(load, key=lambda a: load[a])
        load[agent] = load.get(agent, 0) + 1
        session.add(CallTask(
            id=str(uuid.uuid4()), plan_id=plan.id, series=plan.series,
            entry_id=person["entry_id"], person_id=person["person_id"], agent_id=agent,
            secteur=person["secteur"], status="a_appeler", attempts=0, needs=[], revision=1,
            change_seq=seq))
        seq += 1
    return len(people)


def before_closing(session: Session, plan: AlertPlan) -> dict[str, int]:
    """Count what closing would leave undone: people of the series not reached, needs waiting."""
    tasks = all_tasks(session, plan)
    counted = figures([t for t in tasks if t.series == plan.series])["all"]
    return {"total": counted["total"], "missing": counted["total"] - counted["reached"],
            "not_called": counted["not_called"], "unanswered": counted["not_reached"],
            "needs_waiting": sum(1 for t in tasks if t.status == "besoin"
                                 and t.action_done_at is None)}


def close(session: Session, plan: AlertPlan, closed_by: int) -> None:
    """Close a plan: its figures are kept, its calls leave the tablets; the caller commits."""
    tasks = all_tasks(session, plan)
    plan.figures = figures([t for t in tasks if t.series == plan.series]) | {
        "series": series_figures(tasks, plan.series)}
    plan.closed_at, plan.closed_by = utcnow(), closed_by
    first = sequence.reserve(session, max(1, len(tasks)))
    for offset, task in enumerate(tasks):
        task.revision += 1
        task.change_seq = first + offset


def give_to(session: Session, task: CallTask, agent_id: int) -> None:
    """Give a call to another agent: it leaves the first one's tablet at their next pull."""
    if agent_id == task.agent_id:
        return
    seq = sequence.reserve(session, 2)
    session.add(CallRelease(task_id=task.id, agent_id=task.agent_id, change_seq=seq))
    task.agent_id = agent_id
    task.revision += 1
    task.change_seq = seq + 1


def action_done(session: Session, task: CallTask, user_id: int, note: str) -> None:
    """Record what was done about a need found on a call (water brought, a visit made…)."""
    task.action_done_by, task.action_done_at = user_id, utcnow()
    task.action_note = note.strip()


def figures(tasks: list[CallTask]) -> dict:
    """Count where a plan's calls stand, in all, per agent and per secteur (no names)."""
    def count(group: list[CallTask]) -> dict[str, int]:
        """Count one group of calls by where they stand (people withdrawn meanwhile apart)."""
        withdrawn = sum(1 for task in group if task.status == "retire")
        group = [task for task in group if task.status != "retire"]
        statuses = Counter(task.status for task in group)
        return {
            "withdrawn": withdrawn,
            "total": len(group),
            "reached": sum(statuses[s] for s in REACHED),
            "not_called": statuses["a_appeler"],
            "not_reached": sum(statuses[s] for s in NOT_REACHED),
            "twice_unanswered": sum(statuses[s] for s in TWICE_UNANSWERED),
            "needing_action": sum(1 for t in group if t.status == "besoin"
                                  and t.action_done_at is None),
            "calls": sum(task.attempts for task in group),
        }

    by_agent: dict[str, list[CallTask]] = {}
    by_secteur: dict[str, list[CallTask]] = {}
    for task in tasks:
        by_agent.setdefault(task.agent.name, []).append(task)
        by_secteur.setdefault(task.secteur or "Sans secteur", []).append(task)
    needs = Counter(need for task in tasks for need in task.needs)
    return {
        "all": count(tasks),
        "agents": {name: count(group) for name, group in sorted(by_agent.items())},
        "secteurs": {name: count(group) for name, group in sorted(by_secteur.items())},
        "needs": dict(sorted(needs.items())),
    }


def call_recorded(session: Session, row) -> None:
    """Bring a task in line with its call outcomes (on each one stored).

    Read again from all of the task's outcomes each time, so a conflict settled later, a
    correction or the same call stored twice all end in the same state.
    """
    task = session.get(CallTask, row.data.get("tache"))
    if task is None:
        return
    outcomes = session.execute(
        select(record.c.id, record.c.data, record.c.recorded_at, record.c.recorded_by)
        .where(record.c.form == CALL_FORM, record.c.deleted.is_(False),
               record.c.data["tache"].as_string() == task.id)
    ).all()
    by_step = {outcome.data["etape"]: outcome for outcome in outcomes}
    reached = [o for o in outcomes if o.data["issue"] != "pas_de_reponse"]
    task.needs = sorted({need for o in reached for need in o.data.get("besoins", [])})
    task.need_detail = "; ".join(o.data["precision"] for o in reached
                                 if o.data.get("precision")) or None
    if reached:
        task.status = "besoin" if any(o.data["issue"] == "joint_besoin" for o in reached) \
            else "joint"
    elif task.status == "retire" and _withdrawn(session, task.entry_id):
        pass  # left the register meanwhile: an unanswered call asks for no other
    elif "personne_a_prevenir" in by_step:
        task.status = "injoignable"
        _raise_home_visit(session, task, by_step["personne_a_prevenir"])
    elif "second_appel" in by_step:
        task.status = "personne_a_prevenir"
    elif "premier_appel" in by_step:
        task.status = "a_rappeler"
    task.attempts = len(outcomes)
    task.last_call_at = max((o.recorded_at for o in outcomes), default=None)
    task.revision += 1
    task.change_seq = sequence.reserve(session, 1)


def _raise_home_visit(session: Session, task: CallTask, outcome) -> None:
    """Nobody answered, not even the person to alert: the office must send someone."""
    if session.scalar(select(Alert.id).where(Alert.record_id == outcome.id,
                                             Alert.kind == UNREACHABLE_KIND)):
        return
    plan = session.get(AlertPlan, task.plan_id)
    who = called_person(session, task)
    task.alert_id = str(uuid.uuid4())
    session.add(Alert(
        id=task.alert_id, record_id=outcome.id, kind=UNREACHABLE_KIND, form=CALL_FORM,
        person_id=task.person_id, raised_by=outcome.recorded_by, raised_at=outcome.recorded_at,
        received_at=utcnow(), status="nouvelle", change_seq=sequence.reserve(session, 1),
        detail=(f"{plan_title(plan)} : ni {who['name']} ni la personne à prévenir n'ont répondu "
                f"après deux appels. Visite à domicile à faire : {who['address'] or '?'}."),
    ))


def entry_changed(session: Session, entry_id: str) -> None:
    """Send a changed registration's open calls to the tablets again (a phone corrected).

    A person who left the register during the plan is not called any more: calls not concluded
    leave the tablets (a call already made keeps its outcome).
    """
    tasks = session.scalars(
        select(CallTask).join(AlertPlan, AlertPlan.id == CallTask.plan_id)
        .where(CallTask.entry_id == entry_id, AlertPlan.closed_at.is_(None))).all()
    withdrawn = _withdrawn(session, entry_id)
    for task in tasks:
        if withdrawn and task.status in NOT_CONCLUDED:
            task.status = "retire"
        task.revision += 1
        task.change_seq = sequence.reserve(session, 1)


def _withdrawn(session: Session, entry_id: str | None) -> bool:
    """Tell whether a registration has left the register (withdrawn, or erased since)."""
    if entry_id is None:
        return False
    found = session.execute(select(record.c.data, record.c.deleted)
                            .where(record.c.id == entry_id)).first()
    return found is None or found.deleted or bool(found.data.get("date_retrait"))


def called_person(session: Session, task: CallTask, source: dict | None = None) -> dict:
    """Return what a caller needs about the person of a task, from the register or the file."""
    data = source if source is not None else _source(session, [task]).get(task.id, {})
    if task.entry_id:
        # A registration erased after its withdrawal keeps no name (outreach.register).
        name = f"{data['nom'].upper()} {data.get('prenoms', '')}".strip() if data.get("nom") \
            else "Inscription effacée"
        return {"name": name,
                "phone": data.get("telephone"), "address": data.get("adresse"),
                "contact": data.get("contact_urgence"),
                "contact_phone": data.get("telephone_urgence"),
                "home_care": data.get("service_domicile"), "notes": data.get("notes"),
                "category": data.get("categorie"), "source": "registre"}
    return {"name": catalog.person_label(data) if data else "?",
            "phone": data.get("telephone"), "address": data.get("adresse"),
            "contact": data.get("contact_urgence"), "contact_phone": data.get("telephone_urgence"),
            "home_care": None, "notes": None, "category": None, "source": "planning"}


def _source(session: Session, tasks: list[CallTask]) -> dict[str, dict]:
    """Return each task's registration or person file data, read in one query."""
    wanted = {task.entry_id or task.person_id for task in tasks}
    rows = dict(session.execute(
        select(record.c.id, record.c.data).where(record.c.id.in_(wanted))).all())
    return {task.id: rows.get(task.entry_id or task.person_id, {}) for task in tasks}


def people_of(session: Session, tasks: list[CallTask]) -> dict[str, dict]:
    """Return called_person() for many tasks at once."""
    sources = _source(session, tasks)
    return {task.id: called_person(session, task, sources[task.id]) for task in tasks}


def call_changes(session: Session, actor: Actor, seen: int, upper: int,
                 limit: int) -> list[tuple[int, dict]]:
    """Return this agent's calls changed in (seen, upper] for the tablet (the pull kind `calls`).

    Only the calls given to them, only while the plan is open: a closed plan's calls, and a
    call given to someone else, leave the tablet as tombstones.
    """
    tasks = session.scalars(
        select(CallTask).where(CallTask.agent_id == actor.id, CallTask.change_seq > seen,
                               CallTask.change_seq <= upper)
        .order_by(CallTask.change_seq).limit(limit)).all()
    released = session.scalars(
        select(CallRelease).where(CallRelease.agent_id == actor.id, CallRelease.change_seq > seen,
                                  CallRelease.change_seq <= upper)
        .order_by(CallRelease.change_seq).limit(limit)).all()
    plans = {plan.id: plan for plan in session.scalars(
        select(AlertPlan).where(AlertPlan.id.in_({task.plan_id for task in tasks})))}
    people = people_of(session, [t for t in tasks if plans[t.plan_id].closed_at is None
                                 and t.status != "retire"
                                 and t.series == plans[t.plan_id].series])
    categories = catalog.labels_for(catalog.registry().current(REGISTER_FORM)).get("categorie", {})
    changes = [(r.change_seq, {"id": r.task_id, "deleted": True}) for r in released]
    for task in tasks:
        plan = plans[task.plan_id]
        if plan.closed_at is not None or task.status == "retire" or task.series < plan.series:
            changes.append((task.change_seq, {"id": task.id, "deleted": True}))
        else:
            changes.append((task.change_seq, _call_item(session, plan, task, people[task.id],
                                                        categories)))
    return sorted(changes, key=lambda change: change[0])[:limit]


def _call_item(session: Session, plan: AlertPlan, task: CallTask, person: dict,
               categories: dict[str, str]) -> dict:

    return {"id": task.id, "revision": task.revision, "data": {
        "plan_id": plan.id, "message": plan.message,
        "plan_title": " — ".join(part for part in (plan_title(plan), series_title(plan)) if part),
        "status": task.status, "status_label": STATUSES[task.status],
        "attempts": task.attempts, "secteur": task.secteur,
        "last_call_at": task.last_call_at.isoformat() if task.last_call_at else None,
        "needs": task.needs,
        "step_ids": {step: step_id(task.id, step) for step in STEPS},
        **{key: person[key] for key in ("name", "phone", "address", "contact", "contact_phone",
                                        "home_care", "notes")},
        "category": categories.get(person["category"]) if person["category"] else None,
        "last_visit": last_visit(session, task.person_id) if task.person_id else None,
    }}


def may_record(session: Session, item: dict, actor: Actor) -> dict[str, list[str]]:
    """Say why a call outcome may not be stored (empty: it may).

    It must name a task of its plan, by the id that task and step give, and come from the agent
    the call is (or was) given to, or from the office.
    """
    data = item["data"]
    task = session.get(CallTask, data.get("tache"))
    if task is None or task.plan_id != data.get("plan"):
        return {"tache": ["Cet appel ne correspond à aucun appel d'un plan d'alerte."]}
    if str(item["id"]) != step_id(task.id, data["etape"]):
        return {"id": ["Identifiant d'appel inattendu : l'appel doit venir de « Mes appels »."]}
    if actor.role in OFFICE_ROLES or is_callers(session, task, actor.id):
        return {}
    return {"tache": ["Cet appel n'a pas été confié à votre compte."]}


def is_callers(session: Session, task: CallTask, user_id: int) -> bool:
    """Tell whether a call is, or was before it was given to another, this user's."""
    return task.agent_id == user_id or session.scalar(
        select(CallRelease.id).where(CallRelease.task_id == task.id,
                                     CallRelease.agent_id == user_id).limit(1)) is not None

