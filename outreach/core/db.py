"""The central database: the SQLAlchemy handle, SQLite tuning, and schema migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask_migrate import Migrate, upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from sync import schema


class Base(DeclarativeBase):
    """Base class of every table; the sync engine's tables share its metadata."""

    metadata = schema.metadata


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
MIGRATIONS = str(Path(__file__).parent.parent / "migrations")


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the office read while tablets push; the busy timeout makes concurrent writers wait
    # for each other instead of failing at once.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and replaced rows are overwritten with zeros, so that an anonymised or erased
        # person's data does not stay readable in the file's free space (`outreach purge`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def init_app(app: Flask) -> None:
    """Wire the database and its migrations into the app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)


def upgrade_schema() -> str:
    """Bring the database to the latest schema (safe to repeat) and return its revision."""
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""
