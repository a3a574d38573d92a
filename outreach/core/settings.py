"""Every setting Outreach reads from the environment, declared once with its default and help."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One environment setting: its name, default and the help the README repeats."""

    name: str
    default: str | None
    help: str


SETTINGS = (
    Setting(
        "OUTREACH_DATABASE_URL",
        None,
        "SQLAlchemy URL of the central database; default: the SQLite file outreach.db in the "
        "instance folder, created on first start.",
    ),
    Setting(
        "OUTREACH_DB_POOL_SIZE",
        "10",
        "PostgreSQL only: connections each app server keeps open (one per `outreach run` "
        "thread, 8 by default, and room for the follow-up); as many again may open at a peak.",
    ),
    Setting(
        "OUTREACH_DB_POOL_RECYCLE_SECONDS",
        "1800",
        "PostgreSQL only: a connection older than this is replaced before use (a firewall or "
        "pgbouncer closing idle connections); each is also checked before use (pre-ping).",
    ),
    Setting(
        "OUTREACH_SECRET_KEY",
        None,
        "Key that signs session cookies and CSRF tokens; default: generated once and kept in "
        "the file secret_key of the instance folder.",
    ),
    Setting(
        "OUTREACH_INSTANCE_PATH",
        None,
        "Folder for the SQLite database, the secret key and backups; default: ./instance.",
    ),
    Setting(
        "OUTREACH_LOGIN_ATTEMPTS_PER_MINUTE",
        "10",
        "Failed logins allowed per minute for one login, and for one address, before refusing.",
    ),
    Setting(
        "OUTREACH_SESSION_HOURS",
        "12",
        "How long a login lasts without activity, in hours (a field shift).",
    ),
    Setting(
        "OUTREACH_TABLET_PIN",
        "on",
        "« on »: each person's data on a tablet is encrypted and opened with their code (PIN, "
        "4 to 6 digits) or their password; « off » on tablets the CCAS manages itself (a "
        "locked device with its own disk encryption): then the tablet's data is stored in clear.",
    ),
    Setting(
        "OUTREACH_LOCK_MINUTES",
        "5",
        "Minutes without a touch after which a tablet locks and asks for the person's code.",
    ),
    Setting(
        "OUTREACH_SILENT_TABLET_DAYS",
        "7",
        "Days without contact after which /admin/tablettes marks a tablet as silent.",
    ),
    Setting(
        "OUTREACH_STALE_SYNC_DAYS",
        "1",
        "Days after a tablet's last successful sync beyond which its home page warns, in red, "
        "while records wait on it (« Dernière synchronisation il y a 3 jours »).",
    ),
    Setting(
        "OUTREACH_COORDINATION_PHONE",
        "",
        "The coordination's phone number, shown on the tablets when a senior does not answer "
        "at a visite (with the senior's person to alert).",
    ),
    Setting(
        "OUTREACH_CCAS_NAME",
        "CCAS",
        "The CCAS's name and town as letters sign them (the register's acknowledgement): "
        "« CCAS de Saint-Aubin ».",
    ),
    Setting(
        "OUTREACH_TIMEZONE",
        "Europe/Paris",
        "The CCAS's time zone, for the times shown on pages (Indian/Reunion, America/Cayenne…); "
        "the database keeps UTC.",
    ),
    Setting(
        "OUTREACH_PERSON_RETENTION_MONTHS",
        "24",
        "Months after a person's last contact (latest record, active visit assignment, open "
        "alert, register entry) after which `outreach purge` anonymises their file (CNIL "
        "référentiel for social action: two years).",
    ),
    Setting(
        "OUTREACH_LOG_RETENTION_MONTHS",
        "12",
        "Months the connection log (login_attempt), the audit log (audit_event), the sync "
        "log (sync_log) and ended login sessions (login_session) are kept before "
        "`outreach purge` deletes their rows (one year).",
    ),
    Setting(
        "OUTREACH_PROXY_COUNT",
        "0",
        "Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted; "
        "above 0, session cookies are also marked Secure (HTTPS only).",
    ),
)


def read(name: str) -> str | None:
    """Return the environment value of a declared setting, or its default."""
    setting = next(s for s in SETTINGS if s.name == name)
    return os.environ.get(name) or setting.default


def instance_path() -> str:
    """Return the instance folder: OUTREACH_INSTANCE_PATH, or ./instance."""
    return os.path.abspath(read("OUTREACH_INSTANCE_PATH") or "instance")


def secret_key(instance: str) -> str:
    """Return OUTREACH_SECRET_KEY, or the key kept in the instance folder (made on first use)."""
    given = read("OUTREACH_SECRET_KEY")
    if given:
        return given
    path = Path(instance) / "secret_key"
    if not path.exists():
        # Written with owner-only rights: the key signs every session.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip()


def engine_options(url: str) -> dict:
    """Return SQLAlchemy's engine options for the database at `url` (a pool on PostgreSQL)."""
    if url.startswith("sqlite"):
        return {}
    size = int(read("OUTREACH_DB_POOL_SIZE"))
    return {"pool_size": size, "max_overflow": size, "pool_pre_ping": True,
            "pool_recycle": int(read("OUTREACH_DB_POOL_RECYCLE_SECONDS"))}


def database_url(instance: str) -> str:
    """Return OUTREACH_DATABASE_URL, or the SQLite file in the instance folder."""
    return read("OUTREACH_DATABASE_URL") or "sqlite:///" + os.path.join(instance, "outreach.db")
