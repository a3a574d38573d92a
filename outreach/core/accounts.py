"""Managing accounts, shared by the `outreach user` commands and the admin page.

Each function checks everything first and changes nothing when it refuses.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from outreach.core.db import db
from outreach.core.models import User
from outreach.core.passwords import hash_password, weakness
from outreach.core.roles import ROLES
from outreach.core.sessions import revoke_sessions

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class AccountError(ValueError):
    """A refused account change, with a one-line French reason."""


def find(login: str) -> User:
    """Return the user with this login, or refuse."""
    user = db.session.scalar(select(User).where(User.login == login.strip().lower()))
    if user is None:
        raise AccountError(f"Aucun compte «{login}».")
    return user


def _check_role(role: str) -> None:
    if not role:
        raise AccountError("Choisissez un rôle pour ce compte.")
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu «{role}» : choisissez parmi {', '.join(ROLES)}.")


def _check_password(password: str, login: str) -> None:
    reason = weakness(password, login)
    if reason:
        raise AccountError(reason)


def create_user(login: str, password: str, role: str, name: str | None = None) -> User:
    """Create an account, or refuse (bad login, login taken, unknown role, weak password)."""
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise AccountError(
            "Identifiant invalide : 2 à 40 caractères, lettres minuscules, chiffres, . _ -"
        )
    _check_role(role)
    if db.session.scalar(select(User).where(User.login == login)) is not None:
        raise AccountError(f"L'identifiant «{login}» est déjà pris.")
    _check_password(password, login)
    user = User(
        login=login,
        name=(name or login).strip()[:120],
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Give a user a new password and end their open sessions."""
    _check_password(password, user.login)
    user.password_hash = hash_password(password)
    revoke_sessions(user.id, reason="password")


def _active_admins() -> int:
    query = select(func.count()).where(User.role == "admin", User.active.is_(True))
    return db.session.scalar(query)


def set_role(user: User, role: str) -> None:
    """Change a user's role; never leave the service without an active admin."""
    _check_role(role)
    if user.role == "admin" and role != "admin" and user.active and _active_admins() <= 1:
        raise AccountError("C'est le dernier administrateur actif : nommez-en un autre d'abord.")
    user.role = role
    revoke_sessions(user.id, reason="role")


def set_active(user: User, active: bool) -> None:
    """Disable or enable an account; a disabled one cannot log in and its sessions end."""
    if not active and user.role == "admin" and user.active and _active_admins() <= 1:
        raise AccountError("C'est le dernier administrateur actif : il ne peut pas être désactivé.")
    user.active = active
    if not active:
        revoke_sessions(user.id, reason="disabled")
