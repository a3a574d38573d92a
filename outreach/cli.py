"""The `outreach` command: serve, set up the database, load the demo, manage accounts."""

from __future__ import annotations

import gc
import sqlite3
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import waitress
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import select

from outreach import create_app, figures
from outreach.core import accounts, audit
from outreach.core.db import db, upgrade_schema
from outreach.core.errors import CommandError
from outreach.core.models import User
from outreach.demo import use_demo_settings
from outreach.people import retention
from outreach.register import erase_withdrawn, withdrawn_before

# Below this many records the first build of the figures takes a second: nothing to say.
SAY_PROGRESS_FROM = 10_000

main = FlaskGroup(
    create_app=create_app,
    add_default_commands=False,
    help="Outreach : l'application des maraudes, visites et permanences du CCAS.",
)
main.add_command(shell_command)
main.add_command(routes_command)


@main.command("run", help="Démarre le serveur (crée ou met à jour la base d'abord).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port d'écoute.")
@click.option("--threads", default=8, show_default=True, type=int, help="Requêtes à la fois.")
@click.option("--debug", is_flag=True, help="Mode développement (rechargement automatique).")
@with_appcontext
def run(host: str, port: int, threads: int, debug: bool) -> None:
    """Start the server (creates or updates the database first)."""
    upgrade_schema()
    _sum_up_figures()
    app = current_app._get_current_object()
    if use_demo_settings(app):
        click.echo("Démonstration : numéro de la coordination "
                   f"{app.config['COORDINATION_PHONE']}.")
    click.echo(f"Outreach écoute sur http://{host}:{port}/  (Ctrl+C pour arrêter)")
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return

    _spare_the_collector()
    waitress.serve(app, host=host, port=port, threads=threads, ident="outreach")


def _spare_the_collector() -> None:
    """Keep what lives as long as the server (modules, forms, mappings) out of the collector.

    Measured in-process on a push of 10,000 rencontres in batches of 500 (half urgent): the
    collections that a batch's thousands of objects set off took 0.45 s of 2.1 s, the full ones
    going over the whole started app each time; frozen, and with young collections spaced out,
    0.16-0.22 s.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@main.command("purge", help="Efface ce que les règles de conservation ne gardent plus.")
@click.option("--registre-apres-jours", default=0, show_default=True, type=int,
              help="Jours de conservation d'une inscription au registre après son retrait.")
@click.option("--personnes-apres-mois", default=None, type=int,
              help="Mois après le dernier contact avant d'anonymiser une fiche "
                   "(défaut : OUTREACH_PERSON_RETENTION_MONTHS, 24).")
@click.option("--journaux-apres-mois", default=None, type=int,
              help="Mois de conservation des journaux de connexion, d'audit et de "
                   "synchronisation (défaut : OUTREACH_LOG_RETENTION_MONTHS, 12).")
@click.option("--dry-run", is_flag=True,
              help="Dit ce qui partirait (nombres et identifiants), sans rien changer.")
@with_appcontext
def purge(registre_apres_jours: int, personnes_apres_mois: int | None,
          journaux_apres_mois: int | None, dry_run: bool) -> None:
    """Erase what the retention rules no longer keep (run it every day)."""
    months = current_app.config["PERSON_RETENTION_MONTHS"] if personnes_apres_mois is None \
        else personnes_apres_mois
    log_months = current_app.config["LOG_RETENTION_MONTHS"] if journaux_apres_mois is None \
        else journaux_apres_mois
    if registre_apres_jours < 0:
        raise CommandError("--registre-apres-jours doit être positif ou nul.")
    if months < 1 or log_months < 1:
        raise CommandError("--personnes-apres-mois et --journaux-apres-mois : 1 mois au moins.")
    on = date.today()
    if dry_run:
        entries = withdrawn_before(db.session, on, registre_apres_jours)
        due = retention.due_for_anonymisation(db.session, on, months)
        logs = retention.old_logs(db.session, on, log_months)
        db.session.rollback()
        click.echo("Simulation (--dry-run) : rien n'a changé.")
        click.echo(f"Registre : {len(entries)} inscription(s) retirée(s) à effacer.")
        for row in entries:
            click.echo(f"  inscription {row.id}")
        click.echo(f"Personnes : {len(due)} fiche(s) à anonymiser (dernier contact avant le "
                   f"{retention.months_before(on, months):%d/%m/%Y}).")
        for ident, _last in due:
            click.echo(f"  fiche {ident}")
        _say_logs(logs, retention.months_before(on, log_months), "à supprimer")
        return
    erased = erase_withdrawn(db.session, on, registre_apres_jours)
    click.echo(f"Registre : {erased} inscription(s) retirée(s) effacée(s).")
    due = retention.due_for_anonymisation(db.session, on, months)
    retention.anonymise_due(db.session, [ident for ident, _last in due], on)
    click.echo(f"Personnes : {len(due)} fiche(s) anonymisée(s), sans contact depuis plus de "
               f"{months} mois.")
    _say_logs(retention.delete_old_logs(db.session, on, log_months),
              retention.months_before(on, log_months), "supprimée(s)")
    db.session.commit()
    retention.forget_on_disk(db.session)


def _say_logs(counts: dict[str, int], limit, done: str) -> None:
    names = {"login_attempt": "connexions", "login_session": "sessions", "audit_event": "audit",
             "sync_log": "synchronisations"}
    told = ", ".join(f"{names[key]} {count}" for key, count in counts.items())
    click.echo(f"Journaux d'avant le {limit:%d/%m/%Y} : {told} ligne(s) {done}.")


@main.command("init-db", help="Crée la base de données ou la met à jour (sans risque si relancé).")
@with_appcontext
def init_db() -> None:
    """Create the database or bring it to the latest schema (safe to run again)."""
    revision = upgrade_schema()
    _sum_up_figures()
    click.echo(f"Base de données à jour (schéma {revision}).")


def _sum_up_figures() -> None:
    """Bring the figures' summary tables up to date (long only once, after an upgrade)."""
    figures.catch_up(db.session, ZoneInfo(current_app.config["TIMEZONE"]),
                     progress=_say_progress)


def _say_progress(done: int, total: int) -> None:
    """Say how far the first build of the figures is, on one line (a large CCAS waits for it)."""
    if total < SAY_PROGRESS_FROM:
        return
    terminal = sys.stderr.isatty()
    line = f"Chiffres : {done:,} / {total:,} fiches résumées".replace(",", "\u202f")
    ending = "\n" if done == total or not terminal else ""
    click.echo(("\r" if terminal else "") + line + ending, err=True, nl=False)


@main.command(
    "backup", help="Copie la base SQLite dans FICHIER sans arrêter le serveur (à chaud)."
)
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(file: str) -> None:
    """Copy the live SQLite database to a file with SQLite's online backup."""
    if db.engine.dialect.name != "sqlite":
        raise CommandError("la sauvegarde intégrée est pour SQLite ; avec PostgreSQL, pg_dump.")
    target = Path(file)
    if target.exists():
        raise CommandError(f"«{file}» existe déjà : choisissez un nouveau fichier.")
    source = db.engine.raw_connection()
    try:
        with sqlite3.connect(target) as copy:
            source.driver_connection.backup(copy)
    finally:
        source.close()
    click.echo(f"Sauvegarde écrite dans {target} ({target.stat().st_size // 1024} Ko).")


@main.group("user", help="Gère les comptes : create, list, set-password, disable.")
def user() -> None:
    """Manage accounts."""


def _audited(action: str, login: str, change) -> None:
    """Change an account found by its login and write the change to the audit log."""
    account = accounts.find(login)
    change(account)
    audit.log(action, f"user:{account.id}", via="commande")


def _commit_or_refuse(change) -> None:
    try:
        change()
    except accounts.AccountError as error:
        db.session.rollback()
        raise CommandError(str(error)) from None
    db.session.commit()


@user.command("create", help="Crée un compte avec son rôle et son mot de passe.")
@click.option("--login", required=True, help="Identifiant de connexion (minuscules).")
@click.option("--password", required=True, help="Mot de passe (10 caractères au moins).")
@click.option("--role", required=True, help="maraude, visiteur, travailleur_social, "
              "coordinateur ou admin.")
@click.option("--name", default=None, help="Nom affiché (par défaut l'identifiant).")
@with_appcontext
def user_create(login: str, password: str, role: str, name: str | None) -> None:
    """Create an account."""
    upgrade_schema()
    _commit_or_refuse(lambda: accounts.create_user(login, password, role, name))
    click.echo(f"Compte «{login.strip().lower()}» créé ({role}).")


@user.command("list", help="Liste les comptes : identifiant, rôle, état, nom.")
@with_appcontext
def user_list() -> None:
    """List the accounts: login, role, state, name."""
    for account in db.session.scalars(select(User).order_by(User.login)):
        state = "actif" if account.active else "désactivé"
        click.echo(f"{account.login:<20} {account.role:<20} {state:<10} {account.name}")


@user.command("set-password", help="Change le mot de passe d'un compte (ses sessions se ferment).")
@click.option("--login", required=True, help="Identifiant du compte.")
@click.option("--password", required=True, help="Nouveau mot de passe (10 caractères au moins).")
@with_appcontext
def user_set_password(login: str, password: str) -> None:
    """Give an account a new password (its open sessions end)."""
    _commit_or_refuse(lambda: _audited("user.password", login,
                                       lambda user: accounts.set_password(user, password)))
    click.echo(f"Mot de passe de «{login}» changé.")


@user.command(
    "disable", help="Désactive un compte : il ne peut plus se connecter, ses fiches restent."
)
@click.option("--login", required=True, help="Identifiant du compte.")
@with_appcontext
def user_disable(login: str) -> None:
    """Disable an account: it can no longer log in; its records stay."""
    _commit_or_refuse(lambda: _audited("user.disable", login,
                                       lambda user: accounts.set_active(user, False)))
    click.echo(f"Compte «{login}» désactivé.")

