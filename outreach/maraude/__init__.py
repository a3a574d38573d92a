"""The maraude: tournées, their rencontres and the rencontre rapide, the lieux a team goes back to.

Public names: `team_rounds` (the team's rounds not yet closed), `ROUND_FORM`.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from outreach.core import catalog, signals
from outreach.core.models import User
from outreach.core.roles import OFFICE_ROLES
from outreach.maraude import pull, quick, rounds
from outreach.maraude.rounds import ROUND_FORM, team_rounds

__all__ = ["ROUND_FORM", "init_app", "team_rounds"]
PLACE_FORM = "maraude.lieu"


def init_app(app: Flask) -> None:
    """Serve the tournée pages and the rencontre rapide."""
    app.register_blueprint(rounds.bp)
    app.register_blueprint(quick.bp)


@signals.records_stored.connect
def _places_named(session: Session, records, **_kwargs) -> None:
    """Add a lieu a team named on a tablet to the list every team's tablets offer."""
    for row in records:
        if row.form != PLACE_FORM or row.deleted:
            continue
        details = " — ".join(part for part in (row.data.get("secteur"), row.data.get("reperes"))
                             if part)
        if catalog.add_reference_entry(session, "lieux", row.data["nom"], details):
            session.flush()


@signals.record_shared.connect_via(ROUND_FORM)
def _round_shared(form: str, session: Session, stored: dict, actor, **_kwargs) -> bool:
    """Share a round with its team: any agent closes a tournée the team or the office made."""
    if actor.role != "maraude":
        return False
    author = session.get(User, stored["recorded_by"])
    return author is not None and author.role in ("maraude", *OFFICE_ROLES)


@signals.pull_kinds.connect
def _pull_kinds(_sender, **_kwargs) -> dict:
    return {"encounters": pull.encounter_changes}


@signals.offline_pages.connect
def _offline_pages(user: User, forms: list[str], **_kwargs) -> list[str]:
    """Keep the rencontre rapide and the rounds in progress (closed in the car park) offline."""
    if "maraude.rencontre" not in forms:
        return []
    return ["/saisie/maraude.rencontre/rapide",
            *(f"/tournees/{tournee.id}" for tournee in team_rounds(exclude=set()))]


@signals.in_progress.connect
def _planned_rounds(user: User, exclude: set[str], open_forms: list[str], **_kwargs) -> list:
    # Only for whom a round is open: they may fill the tournée and a form under it.
    return team_rounds(exclude=exclude) if ROUND_FORM in open_forms else []


@signals.home_sections.connect
def _home_sections(user: User, **_kwargs) -> signals.Section | None:
    if user.role != "maraude":
        return None
    return signals.Section(50, "home_known.html", {})
