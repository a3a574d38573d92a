"""The audit log: who read, changed or exported what. Identifiers only, never personal data."""

from __future__ import annotations

from flask_login import current_user

from .db import db
from .models import AuditEvent


def log(action: str, target: str | None = None, **details: object) -> None:
    """Add one audit event to the current transaction (committed with the change it records)."""
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    db.session.add(AuditEvent(user_id=user_id, action=action, target=target, details=details))
