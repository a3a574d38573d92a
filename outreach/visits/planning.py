"""Visites de convivialité at the office: who visits whom, at what rhythm, week by week.

The coordinateur assigns each senior to one or more visiteurs (`assign`), ends an assignment
(`end`), moves a senior to another visiteur (`reassign`) or every senior of a volunteer who stops
(`reassign_all`), and reads the planning: per week, the visits done, planned and missed.

Each change takes a server sequence number and notes who started or stopped seeing whom
(AccessChange), so tablets receive the senior, or forget them, at their next pull. The service
functions check everything before they write anything, and never commit: the caller does, once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import audit, catalog
from outreach.core.db import db
from outreach.core.models import AccessChange, Record, User
from outreach.core.roles import OFFICE_ROLES, restrict
from outreach.visits import rules as visits
from outreach.visits.models import VisitAssignment
from sync import sequence

bp = Blueprint("planning", __name__, url_prefix="/planning", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
WEEKS_BEFORE, WEEKS_AFTER = 4, 4
ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")
DONE, PLANNED, MISSED = "fait", "prévue", "manquée"
# A visite where the senior was not seen, as its week says it ("Personne vue" not "Oui").
NOT_SEEN = {"absente": "absente", "refus": "refus"}


class PlanningError(ValueError):
    """A planning change that cannot be made: which field, and why, in French."""

    def __init__(self, field: str, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field, self.message = field, message
        self.errors = errors or {field: message}


def today() -> date:
    """Return today's date (the tests set it)."""
    return date.today()


# --- Changing who visits whom -----------------------------------------------------------------


def problems(session: Session, person_id: str | None, visiteur_id: int | None, rhythm: str | None,
             mode: str | None) -> dict[str, str]:
    """Return the French error of each field of a new assignment (empty when it may be made)."""
    errors: dict[str, str] = {}
    person = session.get(Record, person_id) if person_id else None
    if person is None or person.form != "personne" or person.deleted:
        errors["personne"] = "Choisissez un senior."
    try:
        _visiteur(session, visiteur_id, "visiteur")
    except PlanningError as refused:
        errors.update(refused.errors)
    if rhythm not in visits.RHYTHMS:
        errors["rythme"] = "Choisissez un rythme."
    if mode not in visits.MODES:
        errors["mode"] = "Choisissez à domicile ou par téléphone."
    if not errors and _active(session, person_id, visiteur_id) is not None:
        errors["visiteur"] = "Ce senior est déjà confié à ce visiteur."
    return errors


def assign(session: Session, person_id: str, visiteur_id: int, rhythm: str, mode: str,
           starts_on: date, by_user_id: int) -> VisitAssignment:
    """Give a senior to a visiteur at a rhythm; the first visit is due on `starts_on`.

    :raises PlanningError: for the first field that is wrong (`errors` holds them all); nothing
        is written then.
    """
    errors = problems(session, person_id, visiteur_id, rhythm, mode)
    if errors:
        field, message = next(iter(errors.items()))
        raise PlanningError(field, message, errors)
    return _make(session, person_id, visiteur_id, rhythm, mode, starts_on, starts_on, by_user_id)


def end(session: Session, assignment: VisitAssignment, on_day: date, by_user_id: int) -> None:
    """End an assignment: the visiteur's tablet forgets the senior at its next pull."""
    if not assignment.active:
        raise PlanningError("affectation", "Cette affectation est déjà terminée.")
    _end(session, assignment, on_day)


def reassign(session: Session, assignment: VisitAssignment, new_visiteur_id: int | None,
             by_user_id: int, on_day: date | None = None) -> VisitAssignment:
    """Give a senior to another visiteur, keeping the rhythm, the mode and the next visit due.

    The old assignment ends on `on_day` (today by default) and the new one starts then (or at
    the old start, when it is still to come).
    """
    target = _check_move(session, assignment.visiteur_id, new_visiteur_id)
    if not assignment.active:
        raise PlanningError("affectation", "Cette affectation est déjà terminée.")
    if _active(session, assignment.person_id, new_visiteur_id) is not None:
        raise PlanningError("nouveau_visiteur", f"Ce senior est déjà confié à {target.name} : "
                            "terminez plutôt cette affectation.")
    return _move(session, assignment, target.id, on_day or today(), by_user_id)


def reassign_all(session: Session, from_visiteur_id: int, to_visiteur_id: int | None,
                 by_user_id: int, on_day: date | None = None
                 ) -> list[tuple[VisitAssignment, VisitAssignment | None]]:
    """Give every senior of a visiteur who stops to another one.

    Return (old assignment, new assignment) pairs; the new one is None where the other visiteur
    already visited that senior (the old assignment only ends).
    """
    target = _check_move(session, from_visiteur_id, to_visiteur_id)
    rows = list(session.scalars(select(VisitAssignment).where(
        VisitAssignment.visiteur_id == from_visiteur_id, VisitAssignment.active.is_(True))
        .order_by(VisitAssignment.id)))
    if not rows:
        raise PlanningError("affectation", "Ce visiteur n'a aucun senior à réaffecter.")
    day = on_day or today()
    moved: list[tuple[VisitAssignment, VisitAssignment | None]] = []
    for row in rows:
        if _active(session, row.person_id, target.id) is not None:
            _end(session, row, day)
            moved.append((row, None))
        else:
            moved.append((row, _move(session, row, target.id, day, by_user_id)))
    return moved


def _visiteur(session: Session, user_id: int | None, field: str) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None or user.role != "visiteur":
        raise PlanningError(field, "Choisissez un visiteur.")
    if not user.active:
        raise PlanningError(field, f"Le compte de {user.name} est désactivé : choisissez un "
                            "visiteur actif.")
    return user


def _check_move(session: Session, from_id: int, to_id: int | None) -> User:
    if to_id is not None and to_id == from_id:
        raise PlanningError("nouveau_visiteur", "Choisissez un autre visiteur.")
    return _visiteur(session, to_id, "nouveau_visiteur")


def _active(session: Session, person_id: str | None, visiteur_id: int | None) -> str | None:
    return session.scalar(select(VisitAssignment.id).where(
        VisitAssignment.person_id == person_id, VisitAssignment.visiteur_id == visiteur_id,
        VisitAssignment.active.is_(True)))


def _seen_by(session: Session, user_id: int, person_id: str) -> None:
    session.add(AccessChange(user_id=user_id, person_id=person_id,
                             change_seq=sequence.reserve(session, 1)))


def _make(session: Session, person_id: str, visiteur_id: int, rhythm: str, mode: str,
          starts_on: date, next_due: date, by_user_id: int) -> VisitAssignment:
    assignment = VisitAssignment(
        id=str(uuid.uuid4()), person_id=person_id, visiteur_id=visiteur_id, rhythm=rhythm,
        mode=mode, starts_on=starts_on, next_due=next_due, active=True, created_by=by_user_id,
        revision=1, change_seq=sequence.reserve(session, 1))
    session.add(assignment)
    _seen_by(session, visiteur_id, person_id)
    # An assignment is the office's decision: a visiteur who made the file, if another, loses it.
    creator = session.scalar(select(Record.recorded_by).join(User, User.id == Record.recorded_by)
                             .where(Record.id == person_id, User.role == "visiteur"))
    if creator is not None and creator != visiteur_id:
        _seen_by(session, creator, person_id)
    return assignment


def _end(session: Session, assignment: VisitAssignment, on_day: date) -> None:
    assignment.active, assignment.ended_on = False, on_day
    assignment.revision += 1
    assignment.change_seq = sequence.reserve(session, 1)
    _seen_by(session, assignment.visiteur_id, assignment.person_id)


def _move(session: Session, assignment: VisitAssignment, visiteur_id: int, on_day: date,
          by_user_id: int) -> VisitAssignment:
    _end(session, assignment, on_day)
    moved = _make(session, assignment.person_id, visiteur_id, assignment.rhythm, assignment.mode,
                  max(on_day, assignment.starts_on), assignment.next_due, by_user_id)
    moved.last_visit_id = assignment.last_visit_id
    return moved


# --- The planning, week by week ---------------------------------------------------------------


def monday(day: date) -> date:
    """Return the Monday of a day's week."""
    return day - timedelta(days=day.weekday())


@dataclass
class Cell:
    """What one week says for one senior: a state ("" when nothing), and the visite it names.

    `due` tells a week the plan expects a visit in (this week or later) and no visite saw the
    senior in.
    """

    state: str = ""
    visit_id: str | None = None
    due: bool = False


def week_cells(assignment: VisitAssignment, done: list[tuple[date, str, str]],
               weeks: list[date], now: date) -> list[Cell]:
    """Say for each week (its Monday) whether a visit was done, is planned, or was missed.

    - "fait": a visite that saw the senior that week, by anyone (the cell names the last one).
    - "absente" or "refus": visites that week, none of which saw the senior (the last one is
      named); the senior stays due (visits.follow), so the week can be both.
    - "manquée", past weeks only: the visits are due on `starts_on`, then at the rhythm after it
      (`visits.after`); a due day is missed when no visite saw the senior in its week or later
      before the next due day.
    - "prévue", this week and later: the week of the next visit due (today's when it is late),
      then at the rhythm after it; the plan follows the visits (visits.follow), as the tablet's
      "Mes visites" does.

    `done` holds the senior's visites as (day, record id, state), in order of day.
    """
    this_week = monday(now)
    missed = _missed_weeks(assignment, [day for day, _, state in done if state == DONE],
                           this_week)
    planned = _planned_weeks(assignment, weeks[-1], now)
    cells = []
    for week in weeks:
        that_week = [(ident, state) for day, ident, state in done
                     if week <= day < week + timedelta(days=7)]
        saw = [ident for ident, state in that_week if state == DONE]
        due = week >= this_week and week in planned and not saw
        if saw:
            cells.append(Cell(DONE, saw[-1]))
        elif that_week:
            cells.append(Cell(that_week[-1][1], that_week[-1][0], due))
        elif week < this_week and week in missed:
            cells.append(Cell(MISSED))
        elif due:
            cells.append(Cell(PLANNED, due=True))
        else:
            cells.append(Cell())
    return cells


def _missed_weeks(assignment: VisitAssignment, days: list[date], this_week: date) -> set[date]:
    missed, due = set(), assignment.starts_on
    while monday(due) < this_week:
        following = visits.after(due, assignment.rhythm)
        if not any(monday(due) <= day < following for day in days):
            missed.add(monday(due))
        due = following
    return missed


def _planned_weeks(assignment: VisitAssignment, last_week: date, now: date) -> set[date]:
    planned, due = set(), max(assignment.next_due, now)
    while monday(due) <= last_week:
        planned.add(monday(due))
        due = visits.after(due, assignment.rhythm)
    return planned


def window(args: Mapping[str, str], now: date) -> tuple[list[date], str | None]:
    """Return the Mondays of the weeks to show, and a French error for a wrong request.

    By default 4 weeks before this one to 4 after; `semaine=2026-W48` centres the window on that
    week, `du=2026-11-02` starts it on that day's week.
    """
    around, first = monday(now), None
    try:
        if args.get("semaine"):
            found = ISO_WEEK.fullmatch(args["semaine"])
            if not found:
                raise ValueError
            around = date.fromisocalendar(int(found[1]), int(found[2]), 1)
        elif args.get("du"):
            first = monday(date.fromisoformat(args["du"]))
        if not date(1900, 1, 1) <= (first or around) <= date(2200, 1, 1):
            raise ValueError
    except ValueError:
        what = "Semaine invalide (AAAA-Wss, par exemple 2026-W48)" if args.get("semaine") \
            else "Date invalide (AAAA-MM-JJ)"
        around, first = monday(now), None
        error = f"{what} : voici les semaines autour d'aujourd'hui."
    else:
        error = None
    first = first or around - timedelta(weeks=WEEKS_BEFORE)
    return [first + timedelta(weeks=n) for n in range(WEEKS_BEFORE + WEEKS_AFTER + 1)], error


@dataclass
class Row:
    """One senior of one visiteur, with a cell for each week of the window."""

    assignment: VisitAssignment
    name: str
    cells: list[Cell]
    overdue: bool


def _visites(person_ids: set[str], start: date,
             end: date) -> dict[str, list[tuple[date, str, str]]]:
    """Return each senior's visites between two days (both included), in order of day.

    Each is (day, record id, state): "fait" when the senior was seen, else "absente" or "refus".
    """
    done: dict[str, list[tuple[date, str, str]]] = {ident: [] for ident in person_ids}
    day_of = Record.data["date"].as_string()
    rows = db.session.execute(select(Record.id, Record.data).where(
        Record.form == "visite.visite", Record.deleted.is_(False),
        Record.data["personne"].as_string().in_(person_ids),
        day_of >= start.isoformat(), day_of <= end.isoformat()))
    for ident, data in rows:
        state = DONE if visits.seen(data) else NOT_SEEN.get(data.get("personne_vue"), "absente")
        try:
            done[data["personne"]].append((date.fromisoformat(data["date"]), ident, state))
        except (KeyError, TypeError, ValueError):
            continue
    for found in done.values():
        found.sort()
    return done


def _visiteurs() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == "visiteur", User.active.is_(True)).order_by(User.name)))


@bp.route("")
def index():
    """Show every visiteur's seniors, and per week the visits done, planned and missed."""
    now = today()
    weeks, error = window(request.args, now)
    this_week = monday(now)
    assignments = list(db.session.scalars(
        select(VisitAssignment).where(VisitAssignment.active.is_(True))))
    person_ids = {a.person_id for a in assignments}
    names = {ident: catalog.person_label(data) for ident, data in db.session.execute(
        select(Record.id, Record.data).where(Record.id.in_(person_ids)))}
    # A missed due day looks at the visites up to the next one: a month after the window at most.
    done = _visites(person_ids, min(weeks[0], this_week),
                    max(weeks[-1], this_week) + timedelta(days=6 + 31))

    by_visiteur: dict[int, tuple[User, list[Row]]] = {}
    due_now = 0
    for assignment in assignments:
        name = names.get(assignment.person_id, "?")
        by_visiteur.setdefault(assignment.visiteur_id, (assignment.visiteur, []))[1].append(Row(
            assignment, name, week_cells(assignment, done[assignment.person_id], weeks, now),
            assignment.next_due < now))
        [current] = week_cells(assignment, done[assignment.person_id], [this_week], now)
        due_now += current.due
    week_end = this_week + timedelta(days=7)
    counts = {
        "due": due_now,
        "done": len({ident for found in done.values() for day, ident, state in found
                     if this_week <= day < week_end and state == DONE}),
        "overdue": sum(1 for a in assignments if a.next_due < now),
    }
    groups = sorted(by_visiteur.values(), key=lambda pair: pair[0].name.lower())
    for _, rows in groups:
        rows.sort(key=lambda row: (row.name.lower(), row.assignment.id))
    return render_template(
        "planning.html", weeks=weeks, this_week=this_week, groups=groups, counts=counts,
        error=error, visiteurs=_visiteurs(), rhythms=visits.RHYTHMS, modes=visits.MODES,
        first=weeks[0], previous=weeks[0] - timedelta(weeks=len(weeks)),
        following=weeks[0] + timedelta(weeks=len(weeks)), last_day=weeks[-1] + timedelta(days=6),
        # After a change, come back to the weeks shown, when they were asked for.
        kept=weeks[0] if not error and (request.args.get("semaine") or request.args.get("du"))
        else None,
    )


@bp.route("/affecter", methods=["GET", "POST"])
def new():
    """Give a senior to a visiteur."""
    errors: dict[str, str] = {}
    if request.method == "GET":
        values = {"personne": request.args.get("personne", ""),
                  "visiteur": request.args.get("visiteur", ""), "debut": today().isoformat()}
    else:
        values = request.form.to_dict()
        starts_on = None
        try:
            starts_on = date.fromisoformat(values.get("debut", ""))
        except ValueError:
            errors["debut"] = ("Indiquez la date de la première visite." if not values.get("debut")
                               else "Date invalide (AAAA-MM-JJ).")
        errors = {**problems(db.session, values.get("personne"),
                             request.form.get("visiteur", type=int), values.get("rythme"),
                             values.get("mode")), **errors}
        if not errors:
            try:
                assignment = assign(db.session, values["personne"],
                                    request.form.get("visiteur", type=int), values["rythme"],
                                    values["mode"], starts_on, current_user.id)
            except PlanningError as refused:
                db.session.rollback()
                errors = refused.errors
            else:
                audit.log("planning.assign", assignment.id, person=assignment.person_id,
                          visiteur=assignment.visiteur_id)
                db.session.commit()
                flash(f"Senior affecté à {db.session.get(User, assignment.visiteur_id).name}.")
                return redirect(url_for("planning.index"))
    return render_template(
        "planning_assign.html", people=catalog.visible_people(), visiteurs=_visiteurs(),
        rhythms=visits.RHYTHMS, modes=visits.MODES, values=values, errors=errors,
    ), 400 if errors else 200


def _assignment(assignment_id: str) -> VisitAssignment:
    found = db.session.get(VisitAssignment, assignment_id)
    if found is None:
        abort(404, "Affectation introuvable.")
    return found


def _back():
    """Return to the planning, on the weeks it showed."""
    shown = request.form.get("du", "")
    try:
        return redirect(url_for("planning.index", du=date.fromisoformat(shown).isoformat()))
    except ValueError:
        return redirect(url_for("planning.index"))


def _refused(refused: PlanningError):
    db.session.rollback()
    flash(f"Rien n'a changé : {refused.message}")
    return _back()


@bp.post("/<assignment_id>/reaffecter")
def move(assignment_id: str):
    """Give one senior to another visiteur."""
    assignment = _assignment(assignment_id)
    try:
        moved = reassign(db.session, assignment, request.form.get("nouveau_visiteur", type=int),
                         current_user.id)
    except PlanningError as refused:
        return _refused(refused)
    audit.log("planning.reassign", moved.id, previous=assignment.id, person=moved.person_id,
              visiteur=moved.visiteur_id, before=assignment.visiteur_id)
    db.session.commit()
    flash(f"Senior réaffecté à {moved.visiteur.name}.")
    return _back()


@bp.post("/<assignment_id>/terminer")
def stop(assignment_id: str):
    """End the visits of one senior by one visiteur."""
    assignment = _assignment(assignment_id)
    try:
        end(db.session, assignment, today(), current_user.id)
    except PlanningError as refused:
        return _refused(refused)
    audit.log("planning.end", assignment.id, person=assignment.person_id,
              visiteur=assignment.visiteur_id)
    db.session.commit()
    flash(f"Affectation terminée : {assignment.visiteur.name} ne visite plus ce senior.")
    return _back()


@bp.post("/visiteur/<int:user_id>/tout-reaffecter")
def move_all(user_id: int):
    """Give all the seniors of a volunteer who stops to another visiteur."""
    leaving = db.session.get(User, user_id)
    if leaving is None or leaving.role != "visiteur":
        abort(404, "Visiteur introuvable.")
    try:
        moved = reassign_all(db.session, leaving.id,
                             request.form.get("nouveau_visiteur", type=int), current_user.id)
    except PlanningError as refused:
        return _refused(refused)
    target = db.session.get(User, request.form.get("nouveau_visiteur", type=int))
    for old, new_one in moved:
        if new_one is None:
            audit.log("planning.end", old.id, person=old.person_id, visiteur=old.visiteur_id,
                      all_of=leaving.id)
        else:
            audit.log("planning.reassign", new_one.id, previous=old.id, person=new_one.person_id,
                      visiteur=new_one.visiteur_id, before=old.visiteur_id, all_of=leaving.id)
    db.session.commit()
    count = len(moved)
    plural = "s" if count > 1 else ""
    message = f"{count} senior{plural} de {leaving.name} réaffecté{plural} à {target.name}."
    already = sum(1 for _, new_one in moved if new_one is None)
    if already:
        message += (f" {target.name} en visitait déjà {already} : seule l'affectation de "
                    f"{leaving.name} est terminée.")
    flash(message)
    return _back()
