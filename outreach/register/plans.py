"""/plans: a coordinateur opens a plan canicule or grand froid and follows its calls live.

/appels is the agents' side: their calls, on the tablet, offline (drawn from the pull kind
`calls` by static/js/calls.js). The rules live in outreach.alert_plans; these are the pages.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from outreach.core import audit, catalog
from outreach.core.clock import today
from outreach.core.db import db
from outreach.core.models import AuditEvent, User
from outreach.core.roles import OFFICE_ROLES, restrict
from outreach.core.spreadsheet import french_csv
from outreach.register import alert_plans
from outreach.register import entries as register
from outreach.register.alert_plans import PLAN_KINDS, SHARINGS, STATUSES, PlanRequest
from outreach.register.models import AlertPlan, CallTask
from sync.schema import record_conflict, utcnow

bp = Blueprint("plans", __name__, url_prefix="/plans", template_folder="templates")
restrict(bp, *OFFICE_ROLES)
calls_bp = Blueprint("calls", __name__, template_folder="templates")
NOTE_MAX = 1000
PREFECT_COLUMNS = (("nom", "Nom"), ("prenoms", "Prénoms"),
                   ("date_naissance", "Date de naissance"), ("categorie", "Qualité"),
                   ("adresse", "Adresse"), ("secteur", "Secteur"), ("telephone", "Téléphone"),
                   ("service_domicile", "Service intervenant à domicile"),
                   ("contact_urgence", "Personne à prévenir"),
                   ("telephone_urgence", "Téléphone de la personne à prévenir"),
                   ("date_demande", "Date de la demande"))


@calls_bp.get("/appels")
def my_calls():
    """Show this person's calls of the plan in progress (drawn on the tablet, offline too)."""
    return render_template("calls.html")


@bp.get("")
def index():
    """List the plans: the one in progress, then those closed, with their figures."""
    plans = db.session.scalars(select(AlertPlan).order_by(AlertPlan.opened_at.desc())).all()
    return render_template("plans.html", plans=plans, title=alert_plans.plan_title,
                           current=alert_plans.open_plan(db.session))


def _request_from(form) -> PlanRequest:
    return PlanRequest(
        kind=form.get("kind", ""), level=form.get("level", "")[:120],
        starts_on=form.get("starts_on", ""), message=form.get("message", "")[:NOTE_MAX],
        sharing=form.get("sharing", ""),
        agents=[int(v) for v in form.getlist("agents") if v.isdigit()],
        with_visited=form.get("with_visited") == "1")


@bp.route("/nouveau", methods=["GET", "POST"])
def new():
    """Open a plan: kind, level, start, the message read on calls, who calls."""
    errors: dict[str, list[str]] = {}
    asked = PlanRequest(kind="canicule", level="", starts_on=today().isoformat(), message="",
                        sharing="secteur", agents=[], with_visited=False)
    if request.method == "POST":
        asked = _request_from(request.form)
        errors = alert_plans.check_request(db.session, asked)
        if not errors:
            plan = alert_plans.start_plan(db.session, asked, current_user.id)
            audit.log("plan.open", f"plan:{plan.id}", kind=plan.kind,
                      calls=len(alert_plans.tasks_of(db.session, plan)))
            db.session.commit()
            flash("Plan ouvert : les appels partent sur les tablettes à leur prochaine "
                  "synchronisation.")
            return redirect(url_for(".board", plan_id=plan.id))
    return render_template(
        "plan_new.html", asked=asked, errors={k: " ".join(v) for k, v in errors.items()},
        kinds=PLAN_KINDS, sharings=SHARINGS, agents=alert_plans.calling_agents(db.session),
        registered=len(alert_plans.registered(db.session)),
    ), 400 if errors else 200


def _plan(plan_id: str) -> AlertPlan:
    return db.session.get(AlertPlan, plan_id) or abort(404, "Plan introuvable.")


@bp.get("/<plan_id>")
def board(plan_id: str):
    """Follow a plan's calls: reached, not yet called, not reached, needs (polled live)."""
    plan = _plan(plan_id)
    partial = request.args.get("partiel") == "1"
    if not partial:
        audit.log("plan.board", f"plan:{plan.id}")
        db.session.commit()
    return render_template("plan_board_part.html" if partial else "plan_board.html",
                           **_board(plan))


def _board(plan: AlertPlan) -> dict:
    every = alert_plans.all_tasks(db.session, plan)
    people = alert_plans.people_of(db.session, every)

    def by_name(tasks: list[CallTask]) -> list[CallTask]:
        """Sort calls by the name of the person called."""
        return sorted(tasks, key=lambda t: people[t.id]["name"].casefold())

    current = by_name([t for t in every if t.series == plan.series])
    # A need found in an earlier series waits for its follow-up like the others.
    needs = by_name([t for t in every if t.status == "besoin"])
    outcome_ids = [alert_plans.step_id(t.id, step) for t in every for step in alert_plans.STEPS]
    disagreements = db.session.scalar(
        select(func.count()).select_from(record_conflict)
        .where(record_conflict.c.record_id.in_(outcome_ids),
               record_conflict.c.resolved_at.is_(None))) if every else 0
    return {
        "plan": plan, "title": alert_plans.plan_title(plan), "tasks": current, "people": people,
        "series": alert_plans.series_title(plan),
        "earlier": plan.figures.get("series", []) if plan.closed_at and plan.figures
        else alert_plans.series_figures(every, plan.series),
        "figures": plan.figures if plan.closed_at else alert_plans.figures(current),
        "unreached": [t for t in current if t.status in alert_plans.TWICE_UNANSWERED],
        "needs": needs, "needs_waiting": sum(1 for t in needs if t.action_done_at is None),
        "statuses": STATUSES, "disagreements": disagreements,
        "need_labels": catalog.labels_of_every_version(alert_plans.CALL_FORM)["besoins"],
        "agents": alert_plans.calling_agents(db.session),
        "refresh_ms": current_app.config.get("PLAN_BOARD_REFRESH_MS", 10000), "now": utcnow(),
    }


@bp.route("/<plan_id>/clore", methods=["GET", "POST"])
def close(plan_id: str):
    """Close the plan once confirmed, after saying who was not reached; figures kept as they are.

    Closing takes the calls off every tablet at once: a tap by mistake left 35 of 38 people
    uncalled. So the page asks first, and a close without its confirmation is refused.
    """
    plan = _plan(plan_id)
    if plan.closed_at is not None:
        flash("Ce plan est déjà clos.")
        return redirect(url_for(".board", plan_id=plan.id))
    if request.method == "POST" and request.form.get("confirme") == "oui":
        alert_plans.close(db.session, plan, current_user.id)
        audit.log("plan.close", f"plan:{plan.id}")
        db.session.commit()
        flash("Plan clos : ses chiffres sont gardés, les appels quittent les tablettes.")
        return redirect(url_for(".board", plan_id=plan.id))
    refused = request.method == "POST"
    return render_template(
        "plan_board_close.html", plan=plan, title=alert_plans.plan_title(plan),
        series=alert_plans.series_title(plan), refused=refused,
        counts=alert_plans.before_closing(db.session, plan)), 400 if refused else 200


@bp.post("/<plan_id>/nouvelle-serie")
def new_series(plan_id: str):
    """Call everyone again (the next day of a long episode): a new series of calls."""
    plan = _plan(plan_id)
    if plan.closed_at is not None:
        abort(409, "Ce plan est clos.")
    calls = alert_plans.new_series(db.session, plan)
    audit.log("plan.new_series", f"plan:{plan.id}", series=plan.series, calls=calls)
    db.session.commit()
    flash(f"Série {plan.series} : {calls} appels partent sur les tablettes à leur prochaine "
          "synchronisation.")
    return redirect(url_for(".board", plan_id=plan.id))


def _task(plan: AlertPlan, task_id: str) -> CallTask:
    task = db.session.get(CallTask, task_id)
    if task is None or task.plan_id != plan.id:
        abort(404, "Appel introuvable.")
    return task


@bp.post("/<plan_id>/appels/<task_id>/agent")
def give(plan_id: str, task_id: str):
    """Give a call to another agent (one is away): it moves tablets at the next pulls."""
    plan = _plan(plan_id)
    task = _task(plan, task_id)
    agent = request.form.get("agent", type=int)
    if plan.closed_at is not None:
        abort(409, "Ce plan est clos.")
    if agent not in {user.id for user in alert_plans.calling_agents(db.session)}:
        abort(400, "Choisissez un agent qui peut passer des appels.")
    alert_plans.give_to(db.session, task, agent)
    audit.log("plan.call_given", f"plan:{plan.id}", task=task.id, agent=agent)
    db.session.commit()
    flash(f"Appel confié à {db.session.get(User, agent).name}.")
    return redirect(url_for(".board", plan_id=plan.id, _anchor="tous-les-appels"))


@bp.post("/<plan_id>/appels/<task_id>/suite")
def follow_up(plan_id: str, task_id: str):
    """Record what was done about a need a call found (water brought, a visit made…)."""
    plan = _plan(plan_id)
    task = _task(plan, task_id)
    note = (request.form.get("note") or "").strip()
    if not note:
        flash("Écrivez ce qui a été fait avant de marquer le besoin comme traité.", "error")
        return redirect(url_for(".board", plan_id=plan.id, _anchor="besoins"))
    alert_plans.action_done(db.session, task, current_user.id, note[:NOTE_MAX])
    audit.log("plan.need_done", f"plan:{plan.id}", task=task.id)
    db.session.commit()
    flash("Suite enregistrée.")
    return redirect(url_for(".board", plan_id=plan.id, _anchor="besoins"))


@bp.route("/<plan_id>/prefet", methods=["GET", "POST"])
def prefect(plan_id: str):
    """Hand the register to the préfet (CSV or print), only while the plan is open; logged."""
    plan = _plan(plan_id)
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register.prefect_export",
                                 AuditEvent.target == f"plan:{plan.id}")
        .order_by(AuditEvent.at.desc())).all()
    names = dict(db.session.execute(select(User.id, User.name)).all())

    def page(status: int = 200, error: str | None = None):
        """Render the export form, its refusal, or why it is closed, with past exports."""
        return render_template(
            "plan_prefect.html", plan=plan, exports=exports, names=names, error=error,
            title=alert_plans.plan_title(plan), closed=plan.closed_at is not None), status

    if plan.closed_at is not None:
        return page(409)
    if request.method == "GET":
        return page()
    reason = (request.form.get("motif") or "").strip()[:300]
    shape = request.form.get("format")
    if not reason or shape not in ("csv", "page"):
        return page(400, "Indiquez le motif de la transmission (la demande du préfet).")
    rows = _register_rows()
    audit.log("register.prefect_export", f"plan:{plan.id}", motif=reason, format=shape,
              people=len(rows))
    db.session.commit()
    if shape == "page":
        return render_template("plan_prefect_print.html", rows=rows, columns=PREFECT_COLUMNS,
                               title=alert_plans.plan_title(plan), today=today(),
                               ccas=current_app.config["CCAS_NAME"])
    return Response(prefect_csv(rows), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="registre-{today():%Y-%m-%d}.csv"'})


def _register_rows() -> list[dict]:
    labels = catalog.labels_for(catalog.registry().current(alert_plans.REGISTER_FORM))
    rows = []
    for entry in register.entries():
        if entry.data.get("date_retrait"):
            continue
        shown = dict(entry.data)
        shown["nom"] = shown["nom"].upper()
        shown["categorie"] = labels["categorie"].get(shown["categorie"], shown["categorie"])
        for key in ("date_naissance", "date_demande"):
            shown[key] = date.fromisoformat(shown[key]).strftime("%d/%m/%Y")
        rows.append({key: shown.get(key) or "" for key, _ in PREFECT_COLUMNS})
    return rows


def prefect_csv(rows: list[dict]) -> str:
    """Return the register as a French spreadsheet reads it: `;`, UTF-8 with its BOM."""
    return french_csv([label for _, label in PREFECT_COLUMNS],
                      ([row[key] for key, _ in PREFECT_COLUMNS] for row in rows))

