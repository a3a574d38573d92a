"""Failed-login throttling, per login and per address, kept in the database.

Kept in the database rather than in memory so that several app servers behind a load balancer
count the same attempts.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from outreach.core.db import db
from outreach.core.models import LoginAttempt, utcnow

WINDOW = timedelta(minutes=1)


def too_many_failures(login: str, address: str) -> bool:
    """Tell whether this login or this address failed too often in the last minute."""
    limit = current_app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    since = utcnow() - WINDOW
    recent = (LoginAttempt.at >= since) & (LoginAttempt.succeeded.is_(False))
    by_login = select(func.count()).where(recent, LoginAttempt.login == login)
    by_address = select(func.count()).where(recent, LoginAttempt.address == address)
    return (
        db.session.scalar(by_login) >= limit or db.session.scalar(by_address) >= limit
    )


def record_attempt(login: str, address: str, succeeded: bool) -> None:
    """Keep one attempt, as the throttle's count and as the connection log."""
    db.session.add(LoginAttempt(login=login[:40], address=address[:64], succeeded=succeeded))
    db.session.commit()

