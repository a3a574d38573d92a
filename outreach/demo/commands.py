"""The demonstration's command: `outreach demo`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from outreach.core.catalog import registry
from outreach.core.db import db, upgrade_schema
from outreach.core.models import User
from outreach.demo.load import DEMO_PASSWORD, load_demo


@click.command(
    "demo",
    help="Charge un CCAS fictif pour essayer l'application (sans risque si relancé).",
)
@with_appcontext
def demo() -> None:
    """Load an invented CCAS to try the app (users, two years of records); safe to run again."""
    upgrade_schema()
    made = load_demo(registry())
    if made is None:
        click.echo("La démonstration est déjà chargée : rien n'a changé.")
    else:
        click.echo("Démonstration chargée.")
    click.echo(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
    for user in db.session.scalars(select(User).order_by(User.id)):
        click.echo(f"  {user.login:<14} {user.role}")
