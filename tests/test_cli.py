"""The `outreach` command: each command works, explains itself, and refuses bad arguments."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import select

from outreach.cli import main
from outreach.core.db import db
from outreach.core.models import AuditEvent, Record, User
from tests.conftest import on_postgresql, sqlite_only

COMMANDS = [
    ["run"], ["init-db"], ["demo"], ["backup"], ["user"], ["user", "create"], ["user", "list"],
    ["user", "set-password"], ["user", "disable"],
]


def invoke(runner, *args):
    return runner.invoke(main, list(args))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(runner, command):
    result = invoke(runner, *command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    description = result.output.split("\n\n")[1].strip()
    assert len(description) > 15, "each command says what it does in plain words"


def test_init_db_is_safe_to_run_twice(runner):
    first = invoke(runner, "init-db")
    second = invoke(runner, "init-db")
    assert first.exit_code == second.exit_code == 0
    assert "Base de données à jour" in second.output


def test_user_create_list_set_password_disable(app, runner):
    created = invoke(runner, "user", "create", "--login", "Lea", "--password",
                     "un-long-secret", "--role", "visiteur", "--name", "Léa Martin")
    assert created.exit_code == 0, created.output
    listed = invoke(runner, "user", "list")
    assert "lea" in listed.output and "visiteur" in listed.output and "Léa Martin" in listed.output
    changed = invoke(runner, "user", "set-password", "--login", "lea", "--password",
                     "un-autre-secret")
    assert changed.exit_code == 0
    disabled = invoke(runner, "user", "disable", "--login", "lea")
    assert disabled.exit_code == 0
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "lea"))
        assert not user.active
        # The sessions themselves end in the session store (tests/test_sessions.py); both
        # changes are in the journal.
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.target == f"user:{user.id}").order_by(AuditEvent.id)).all()
        assert actions == ["user.password", "user.disable"]
    assert "désactivé" in invoke(runner, "user", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--login", "x1", "--password", "un-long-secret", "--role", "chef"], "Rôle inconnu"),
        (["--login", "x1", "--password", "court", "--role", "maraude"], "10 caractères"),
        (["--login", "x1", "--password", "aaaaaaaaaaaa", "--role", "maraude"], "répète"),
        (["--login", "x1", "--password", "mon-x1-secret", "--role", "maraude"],
         "contenir l'identifiant « x1 »"),
        (["--login", "Pas Bon!", "--password", "un-long-secret", "--role", "maraude"],
         "Identifiant invalide"),
        (["--login", "pris", "--password", "un-long-secret", "--role", "maraude"], "déjà pris"),
    ],
)
def test_user_create_refusals_change_nothing(app, runner, args, message):
    assert invoke(runner, "user", "create", "--login", "pris", "--password", "un-long-secret",
                  "--role", "admin").exit_code == 0
    result = invoke(runner, "user", "create", *args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur :") and message in lines[0]
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_missing_option_is_a_usage_error(runner):
    result = invoke(runner, "user", "create", "--login", "x1")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["user", "set-password", "--login", "personne", "--password", "un-long-secret"],
         "Aucun compte"),
        (["user", "set-password", "--login", "seul", "--password", "court"], "10 caractères"),
        (["user", "disable", "--login", "personne"], "Aucun compte"),
        (["user", "disable", "--login", "seul"], "dernier administrateur"),
    ],
)
def test_account_refusals(app, runner, command, message):
    invoke(runner, "user", "create", "--login", "seul", "--password", "un-long-secret",
           "--role", "admin")
    result = invoke(runner, *command)
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "seul"))
        assert user.active and user.session_version == 1


def test_demo_loads_once(app, runner):
    first = invoke(runner, "demo")
    assert first.exit_code == 0, first.output
    assert "Démonstration chargée" in first.output and "coordinateur" in first.output
    with app.app_context():
        count = db.session.query(Record).count()
    assert count > 1000
    second = invoke(runner, "demo")
    assert second.exit_code == 0
    assert "déjà chargée" in second.output
    with app.app_context():
        assert db.session.query(Record).count() == count


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_creates_the_database_and_serves_with_waitress(tmp_path):
    port = _free_port()
    env = {**os.environ, "OUTREACH_INSTANCE_PATH": str(tmp_path)}
    env.pop("OUTREACH_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "outreach", "run", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion") as response:
                    page = response.read().decode()
                    server_header = response.headers["Server"]
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert "Se connecter" in page
        assert server_header == "outreach"
        assert (tmp_path / "outreach.db").exists()
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    finally:
        server.terminate()
        server.wait(10)


@sqlite_only
def test_backup_copies_the_live_database(app, runner, tmp_path):
    invoke(runner, "user", "create", "--login", "lea", "--password", "un-long-secret",
           "--role", "visiteur")
    target = tmp_path / "copie.db"
    result = invoke(runner, "backup", str(target))
    assert result.exit_code == 0, result.output
    import sqlite3

    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT login FROM user_account").fetchall() == [("lea",)]
    again = invoke(runner, "backup", str(target))
    assert again.exit_code == 1 and "existe déjà" in again.output


@pytest.mark.skipif(not on_postgresql, reason="PostgreSQL's answer")
def test_backup_on_postgresql_says_to_use_pg_dump_and_writes_nothing(app, runner, tmp_path):
    target = tmp_path / "copie.db"
    result = invoke(runner, "backup", str(target))
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not target.exists()


def test_init_db_says_how_far_the_first_build_of_the_figures_is(app, runner, monkeypatch):
    from outreach import cli
    from outreach.core.models import AppState
    from outreach.figures import facts

    assert invoke(runner, "demo").exit_code == 0
    with app.app_context():
        # As after an upgrade from before the summary tables: nothing summed up yet.
        db.session.get(AppState, facts.WATERMARK).value = "0"
        db.session.commit()
        counted = db.session.query(Record).filter(Record.form.in_(facts.COUNTED_FORMS)).count()
    monkeypatch.setattr(cli, "SAY_PROGRESS_FROM", 1)  # the demo is smaller than a large CCAS
    result = invoke(runner, "init-db")
    assert result.exit_code == 0, result.output
    total = f"{counted:,}".replace(",", "\u202f")
    assert f"Chiffres : 0 / {total} fiches résumées" in result.stderr
    assert f"Chiffres : {total} / {total} fiches résumées" in result.stderr
    assert "Base de données à jour" in result.output
    with app.app_context():
        assert db.session.get(AppState, facts.WATERMARK).value != "0"
