"""The server-side session store: a login holds only while its row says so.

The signed cookie carries a random key and nothing else that matters; the `login_session` row
(keyed by the key's hash) says whose it is, until when, and whether it was revoked. A cookie
copied before a logout, a new password, a disabled account or a lost tablet then opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import update

from outreach.core.db import db
from outreach.core.models import LoginSession, User, utcnow
from sync.protocol import as_uuid

DEVICE_HEADER = "X-Outreach-Device"
WAITING_HEADER = "X-Outreach-Waiting"
# A session's last activity is written at most this often (not one write per request).
TOUCH_EVERY = timedelta(minutes=1)
MAX_WAITING = 1_000_000
REASONS = {
    "logout": "Déconnexion",
    "replaced": "Nouvelle connexion sur le même navigateur",
    "password": "Nouveau mot de passe",
    "disabled": "Compte désactivé",
    "role": "Rôle changé",
    "lost_device": "Tablette perdue",
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_HOURS"])


def device_from_request() -> str | None:
    """Return the tablet's id the call carries in X-Outreach-Device (a UUID), or None."""
    raw = request.headers.get(DEVICE_HEADER)
    return as_uuid(raw) if raw else None


def waiting_from_request() -> int | None:
    """Return how many records wait on the tablet (X-Outreach-Waiting), or None if unsaid."""
    raw = (request.headers.get(WAITING_HEADER) or "").strip()
    # Only said for the log: a wrong value is ignored rather than failing a sync.
    if raw.isdigit() and len(raw) <= 7 and int(raw) <= MAX_WAITING:
        return int(raw)
    return None


def open_session(user: User) -> str:
    """Store a new session for a user who just proved who they are; return its cookie key."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = LoginSession(
        token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + _lifetime(), device_id=device_from_request(),
        user_agent=(request.user_agent.string or "")[:120] or None,
        address=(request.remote_addr or "")[:64] or None,
    )
    db.session.add(row)
    db.session.flush()
    g.login_session_id = row.id
    return token


def current(token: str | None, user_id: str) -> LoginSession | None:
    """Return the session a cookie key opens for this user, if it still holds; keep it alive.

    Holds: the row exists, belongs to the user, is neither revoked nor expired. Its expiry moves
    with activity (OUTREACH_SESSION_HOURS without activity ends it).
    """
    if not token:
        return None
    row = db.session.query(LoginSession).filter_by(token_hash=_digest(token)).one_or_none()
    now = utcnow()
    if (row is None or str(row.user_id) != user_id or row.revoked_at is not None
            or row.expires_at <= now):
        return None
    device = device_from_request()
    # Tied to its tablet: the same cookie sent by another tablet opens nothing.
    if device and row.device_id and device != row.device_id:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY or (device and row.device_id is None):
        row.last_seen_at, row.expires_at = now, now + _lifetime()
        # The tablet issue ties a session to its tablet: the first call that names it does.
        row.device_id = row.device_id or device
        # Written at once: this runs when the request starts, before anything else is pending.
        db.session.commit()
    g.login_session_id = row.id
    g.login_session_device = row.device_id
    return row


def revoke_current(token: str | None, reason: str = "logout") -> None:
    """Revoke the session a cookie key opened (logging out, or logging in again over it)."""
    if token:
        db.session.execute(update(LoginSession).where(
            LoginSession.token_hash == _digest(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason))
        db.session.commit()


def revoke_sessions(user_id: int | None = None, device_id: str | None = None, *,
                    reason: str) -> int:
    """Revoke every open session of a user, of a tablet, or of both; return how many.

    Added to the current transaction: the caller commits it with the change that asks for it
    (a new password, a disabled account, a lost tablet).
    """
    if user_id is None and device_id is None:
        raise ValueError("revoke_sessions needs a user or a device")
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    query = update(LoginSession).where(LoginSession.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(LoginSession.user_id == user_id)
    if device_id is not None:
        query = query.where(LoginSession.device_id == device_id)
    now: datetime = utcnow()
    return db.session.execute(query.values(revoked_at=now, revoked_reason=reason)).rowcount
