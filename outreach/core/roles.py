"""Who may do what: the roles, who may fill which form, and the checks views rely on.

Every page needs a login unless its view is marked `public`; a blueprint that belongs to some
roles only says so once with `restrict(bp, ...)`. No view checks a role with an `if` of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, abort
from flask_login import current_user

ROLES = {
    "maraude": "Maraude",
    "visiteur": "Visiteur",
    "travailleur_social": "Travailleur social",
    "coordinateur": "Coordinateur",
    "admin": "Administrateur",
}
OFFICE_ROLES = ("coordinateur", "admin")
# Files of the office alone, whoever filled them: the register (DESIGN §6, §9).
OFFICE_FILES = ("registre.",)
# Default form families of the field roles (DESIGN §9); a definition's "roles" overrides them.
FIELD_FORMS = {
    "maraude": ("maraude.",),
    "visiteur": ("visite.",),
    "travailleur_social": ("permanence.",),
}


def may_fill(role: str, form_key: str, definition_roles: Iterable[str] | None = None) -> bool:
    """Tell whether a role may fill a form: the one rule for entry pages, push and pull."""
    if role in OFFICE_ROLES:
        return True
    if definition_roles is not None:
        return role in definition_roles
    if form_key == "personne":
        return role in FIELD_FORMS
    return any(form_key.startswith(prefix) for prefix in FIELD_FORMS.get(role, ()))


def public(view: Callable) -> Callable:
    """Mark a view as open without a login (the login page, the manifest, static files)."""
    view.is_public = True
    return view


def restrict(blueprint: Blueprint, *roles: str) -> None:
    """Allow a blueprint's views to the given roles only (403 for anyone else)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    @blueprint.before_request
    def _check_role() -> None:
        if current_user.is_authenticated and current_user.role not in roles:
            abort(403)
