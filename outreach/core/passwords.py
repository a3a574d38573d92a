"""Password hashing and the rule a new password must meet."""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
COMMON = {"motdepasse", "password", "azertyuiop", "0123456789", "1234567890", "qwertyuiop",
          "motdepasse1", "soleil1234", "bonjour123", "outreach123"}


def hash_password(password: str) -> str:
    """Hash a password with scrypt (werkzeug's default)."""
    return generate_password_hash(password)


def check_password(password_hash: str, password: str) -> bool:
    """Tell whether a password matches its hash."""
    return check_password_hash(password_hash, password)


@cache
def dummy_hash() -> str:
    """Return a hash no password matches, checked for unknown logins to take the same time."""
    return hash_password(secrets.token_urlsafe(32))


def weakness(password: str, login: str = "") -> str | None:
    """Say in French, precisely, why a password is refused, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return (f"Le mot de passe doit faire au moins {MIN_LENGTH} caractères "
                f"({len(password)} saisi{'s' if len(password) > 1 else ''}).")
    if len(set(password)) < 4:
        return ("Le mot de passe répète trop les mêmes caractères : il en faut au moins "
                "4 différents.")
    if login and login.lower() in password.lower():
        return f"Le mot de passe ne doit pas contenir l'identifiant « {login} »."
    if password.lower() in COMMON:
        return "Ce mot de passe est parmi les plus courants : choisissez-en un autre."
    return None
