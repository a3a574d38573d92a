"""The figures' command: `outreach export-anonyme`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from outreach.core.db import db
from outreach.core.errors import CommandError
from outreach.core.models import AuditEvent
from outreach.figures.anonymous import write_extract
from outreach.figures.dashboard import value_labels


@click.command("export-anonyme",
              help="Écrit l'extrait anonymisé d'une année (SQLite + metadata.json pour Datasette).")
@click.option("--annee", required=True, type=int, help="L'année à extraire.")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def export_anonymous(annee: int, file: str) -> None:
    """Write a year's anonymised extract for an observatoire (counts only, small ones hidden)."""
    path = Path(file)
    if not path.parent.is_dir():
        raise CommandError(f"le dossier {path.parent} n'existe pas.")

    counts = write_extract(db.session, annee, ZoneInfo(current_app.config["TIMEZONE"]), path,
                           value_labels, date.today())
    db.session.add(AuditEvent(action="figures.anonymous_extract", target=str(annee),
                              details={"file": path.name, "tables": len(counts)}))
    db.session.commit()
    click.echo(f"Extrait anonymisé {annee} : {path} ({len(counts)} tables) et "
               f"{path.parent / 'metadata.json'}.")
