"""The main menu: each feature names its pages (`signals.navigation`), the core lays them out."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from outreach.core import signals


def menu() -> list[dict[str, str]]:
    """Return the entries of the main menu for the person logged in, in their order."""
    items = sorted(signals.gathered(signals.navigation.send(current_user._get_current_object())),
                   key=lambda item: item.position)
    return [{"label": item.label, "href": url_for(item.endpoint)} for item in items]
