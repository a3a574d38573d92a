"""Visites de convivialité at the office: who visits whom, at what rhythm, week by week.

The coordinateur assigns each senior to one or more visiteurs (`assign`), moves them when a
volunteer stops (`reassign`, `reassign_all`), and reads the planning: per week, the visits done,
planned and missed. Each change takes a server sequence number and notes who started or stopped
seeing whom (AccessChange), so tablets receive the senior, or forget them, at their next pull.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import sequence

from . import audit, catalog, visits
from .db import db
from .models import AccessChange, Record, User, VisitAssignment
from .roles import OFFICE_ROLES, restrict

bp = Blueprint("planning", __name__, url_prefix="/planning")
restrict(bp, *OFFICE_ROLES)
WEEKS_BEFORE, WEEKS_AFTER = 4, 4


class PlanningError(ValueError):
    """A planning change that cannot be made; says which field and why, in French."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def today() -> date:
    """Return today's date (tests set it)."""
    return date.today()


def _seen_by(session: Session, user_id: int, person_id: str) -> None:
    session.add(AccessChange(user_id=user_id, person_id=person_id,
                             change_seq=sequence.reserve(session, 1)))


def _visiteur(session: Session, user_id: int | None, field: str = "visiteur") -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None or user.role != "visiteur":
        raise PlanningError(field, "Choisissez un visiteur.")
    if not user.active:
        raise PlanningError(field, f"Le compte de {user.name} est désactivé.")
    return user


def assign(session: Session, person_id: str, visiteur_id: int, rhythm: str, mode: str,
           starts_on: date, by_user_id: int) -> VisitAssignment:
    """Give a senior to a visiteur at a rhythm; the first visit is due on `starts_on`."""
    person = session.get(Record, person_id) if person_id else None
    if person is None or person.form != "personne" or person.deleted:
        raise PlanningError("personne", "Choisissez un senior.")
    _visiteur(session, visiteur_id)
    if rhythm not in visits.RHYTHMS:
        raise PlanningError("rythme", "Choisissez un rythme.")
    if mode not in visits.MODES:
        raise PlanningError("mode", "Choisissez à domicile ou par téléphone.")
    already = session.scalar(select(VisitAssignment.id).where(
        VisitAssignment.person_id == person_id, VisitAssignment.visiteur_id == visiteur_id,
        VisitAssignment.active.is_(True)))
    if already:
        raise PlanningError("visiteur", "Ce senior est déjà confié à ce visiteur.")
    assignment = VisitAssignment(
        id=str(uuid.uuid4()), person_id=person_id, visiteur_id=visiteur_id, rhythm=rhythm,
        mode=mode, starts_on=starts_on, next_due=starts_on, active=True,
        created_by=by_user_id, revision=1, change_seq=sequence.reserve(session, 1))
    session.add(assignment)
    _seen_by(session, visiteur_id, person_id)
    return assignment


def end(session: Session, assignment: VisitAssignment, on_day: date, by_user_id: int) -> None:
    """End an assignment: the visiteur's tablet forgets the senior at its next pull."""
    if not assignment.active:
        raise PlanningError("affectation", "Cette affectation est déjà terminée.")
    assignment.active, assignment.ended_on = False, on_day
    assignment.revision += 1
    assignment.change_seq = sequence.reserve(session, 1)
    _seen_by(session, assignment.visiteur_id, assignment.person_id)


def reassign(session: Session, assignment: VisitAssignment, new_visiteur_id: int,
             by_user_id: int) -> VisitAssignment:
    """Move a senior to another visiteur, keeping the rhythm and the next visit due."""
    if not assignment.active:
        raise PlanningError("affectation", "Cette affectation est déjà terminée.")
    if new_visiteur_id == assignment.visiteur_id:
        raise PlanningError("nouveau_visiteur", "Choisissez un autre visiteur.")
    _visiteur(session, new_visiteur_id, "nouveau_visiteur")
    next_due, last = assignment.next_due, assignment.last_visit_id
    end(session, assignment, today(), by_user_id)
    moved = assign(session, assignment.person_id, new_visiteur_id, assignment.rhythm,
                   assignment.mode, assignment.starts_on, by_user_id)
    moved.next_due, moved.last_visit_id = next_due, last
    return moved


def reassign_all(session: Session, from_visiteur_id: int, to_visiteur_id: int,
                 by_user_id: int) -> int:
    """Move every senior of a visiteur who stops to another; return how many moved."""
    if from_visiteur_id == to_visiteur_id:
        raise PlanningError("nouveau_visiteur", "Choisissez un autre visiteur.")
    _visiteur(session, to_visiteur_id, "nouveau_visiteur")
    rows = list(session.scalars(select(VisitAssignment).where(
        VisitAssignment.visiteur_id == from_visiteur_id, VisitAssignment.active.is_(True))))
    for row in rows:
        already = session.scalar(select(VisitAssignment).where(
            VisitAssignment.person_id == row.person_id,
            VisitAssignment.visiteur_id == to_visiteur_id, VisitAssignment.active.is_(True)))
        if already:
            end(session, row, today(), by_user_id)  # already visited by the other: one is enough
        else:
            reassign(session, row, to_visiteur_id, by_user_id)
    return len(rows)


# --- The planning, week by week -----------------------------------------------------------


def monday(day: date) -> date:
    """Return the Monday of the week of a day."""
    return day - timedelta(days=day.weekday())


@dataclass
class Row:
    """One senior of one visiteur, with a word for each week of the window."""

    assignment: VisitAssignment
    name: str
    cells: list[tuple[str, str | None]]  # (state, id of the visite done that week)
    overdue: bool


def week_states(assignment: VisitAssignment, done: dict[date, str], weeks: list[date],
                now: date) -> list[tuple[str, str | None]]:
    """Say for each week: "fait" (a visite that week), "prévue", "manquée", or nothing.

    A visit is expected at the rhythm after the last one (or on the first day); a past week where
    an expected visit fell without one is "manquée" — each week of a long silence counts; a week
    from this one on where the next due visit, or one at the rhythm after it, falls is "prévue".
    """
    days = sorted(d for d in done if d >= assignment.starts_on)
    this_week = monday(now)
    states = []
    for start in weeks:
        finish = start + timedelta(days=6)
        in_week = [d for d in days if start <= d <= finish]
        if in_week:
            states.append(("fait", done[in_week[-1]]))
            continue
        if start >= this_week:
            due = assignment.next_due
            while due < start:
                due = visits.after(due, assignment.rhythm)
            states.append(("prévue" if due <= finish or (start == this_week and
                                                         assignment.next_due < start)
                           else "", None))
            continue
        before = [d for d in days if d < start]
        expected = visits.after(before[-1], assignment.rhythm) if before \
            else assignment.starts_on
        while expected < start:
            expected = visits.after(expected, assignment.rhythm)
        states.append(("manquée" if expected <= finish and expected <= now else "", None))
    return states


def _window() -> tuple[list[date], str | None]:
    raw = request.args.get("du")
    error, around = None, today()
    if raw:
        try:
            around = date.fromisoformat(raw)
        except ValueError:
            error = "Date invalide (AAAA-MM-JJ) : semaine en cours affichée."
    first = monday(around) - timedelta(weeks=WEEKS_BEFORE)
    return [first + timedelta(weeks=n) for n in range(WEEKS_BEFORE + WEEKS_AFTER + 1)], error


@bp.route("")
def index():
    """Show every visiteur's seniors, and per week the visits done, planned and missed."""
    weeks, error = _window()
    now = today()
    assignments = list(db.session.scalars(
        select(VisitAssignment).where(VisitAssignment.active.is_(True))))
    person_ids = {a.person_id for a in assignments}
    people = {r.id: r.data for r in db.session.scalars(
        select(Record).where(Record.id.in_(person_ids)))}
    done: dict[str, dict[date, str]] = {ident: {} for ident in person_ids}
    for row in db.session.scalars(select(Record).where(
            Record.form == "visite.visite", Record.deleted.is_(False),
            Record.data["personne"].as_string().in_(person_ids))):
        try:
            done[row.data["personne"]][date.fromisoformat(row.data["date"])] = row.id
        except (KeyError, ValueError):
            continue
    by_visiteur: dict[User, list[Row]] = {}
    for assignment in sorted(assignments, key=lambda a: catalog.person_label(
            people.get(a.person_id, {})).lower()):
        by_visiteur.setdefault(assignment.visiteur, []).append(Row(
            assignment, catalog.person_label(people.get(assignment.person_id, {})),
            week_states(assignment, done[assignment.person_id], weeks, now),
            assignment.next_due < now))
    this_week = monday(now)
    sunday = this_week + timedelta(days=6)
    counts = {
        "due": sum(1 for a in assignments if this_week <= a.next_due <= sunday),
        "done": sum(1 for a in assignments for d in done[a.person_id]
                    if this_week <= d <= sunday),
        "overdue": sum(1 for a in assignments if a.next_due < now),
    }
    return render_template(
        "planning.html", weeks=weeks, this_week=this_week, by_visiteur=sorted(
            by_visiteur.items(), key=lambda pair: pair[0].name), counts=counts, error=error,
        visiteurs=_visiteurs(), rhythms=visits.RHYTHMS, modes=visits.MODES,
        previous=(weeks[WEEKS_BEFORE] - timedelta(weeks=len(weeks))).isoformat(),
        following=(weeks[WEEKS_BEFORE] + timedelta(weeks=len(weeks))).isoformat(),
    )


def _visiteurs() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == "visiteur", User.active.is_(True)).order_by(User.name)))


@bp.route("/affecter", methods=["GET", "POST"])
def new():
    """Give a senior to a visiteur."""
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {"debut": today().isoformat()}
    if request.method == "POST":
        try:
            starts_on = date.fromisoformat(request.form.get("debut", ""))
        except ValueError:
            errors["debut"] = "Date invalide (AAAA-MM-JJ)."
        if not errors:
            try:
                assignment = assign(
                    db.session, request.form.get("personne", ""),
                    request.form.get("visiteur", type=int), request.form.get("rythme", ""),
                    request.form.get("mode", ""), starts_on, current_user.id)
            except PlanningError as refused:
                db.session.rollback()
                errors[refused.field] = refused.message
            else:
                audit.log("planning.assign", assignment.id, person=assignment.person_id,
                          visiteur=assignment.visiteur_id)
                db.session.commit()
                flash(f"Senior affecté à {db.session.get(User, assignment.visiteur_id).name}.")
                return redirect(url_for("planning.index"))
    people = catalog.visible_people()
    return render_template("planning_assign.html", people=people, visiteurs=_visiteurs(),
                           rhythms=visits.RHYTHMS, modes=visits.MODES, values=values,
                           errors=errors), 400 if errors else 200


def _assignment(assignment_id: str) -> VisitAssignment:
    return db.session.get(VisitAssignment, assignment_id) or abort(404, "Affectation introuvable.")


@bp.post("/<assignment_id>/reaffecter")
def move(assignment_id: str):
    """Give one senior to another visiteur."""
    assignment = _assignment(assignment_id)
    try:
        moved = reassign(db.session, assignment, request.form.get("nouveau_visiteur", type=int),
                         current_user.id)
    except PlanningError as refused:
        db.session.rollback()
        flash(f"Rien n'a changé : {refused.message}")
        return redirect(url_for("planning.index"))
    audit.log("planning.reassign", moved.id, previous=assignment.id)
    db.session.commit()
    flash(f"Senior confié à {moved.visiteur.name}.")
    return redirect(url_for("planning.index"))


@bp.post("/<assignment_id>/terminer")
def stop(assignment_id: str):
    """End the visits of one senior by one visiteur."""
    assignment = _assignment(assignment_id)
    try:
        end(db.session, assignment, today(), current_user.id)
    except PlanningError as refused:
        db.session.rollback()
        flash(f"Rien n'a changé : {refused.message}")
        return redirect(url_for("planning.index"))
    audit.log("planning.end", assignment.id)
    db.session.commit()
    flash("Visites terminées pour ce senior avec ce visiteur.")
    return redirect(url_for("planning.index"))


@bp.post("/visiteur/<int:user_id>/tout-reaffecter")
def move_all(user_id: int):
    """Give all the seniors of a volunteer who stops to another visiteur."""
    leaving = db.session.get(User, user_id)
    if leaving is None or leaving.role != "visiteur":
        abort(404, "Visiteur introuvable.")
    try:
        count = reassign_all(db.session, leaving.id,
                             request.form.get("nouveau_visiteur", type=int), current_user.id)
    except PlanningError as refused:
        db.session.rollback()
        flash(f"Rien n'a changé : {refused.message}")
        return redirect(url_for("planning.index"))
    audit.log("planning.reassign_all", f"user:{leaving.id}", count=count)
    db.session.commit()
    flash(f"{count} senior{'s' if count != 1 else ''} de {leaving.name} réaffecté"
          f"{'s' if count != 1 else ''}.")
    return redirect(url_for("planning.index"))
