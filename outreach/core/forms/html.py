"""How a form definition meets HTML: reading a posted form into record data, and showing values.

The templates render one macro per field type (templates/fields.html); this reads what they post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

INTEGER = re.compile(r"^-?\d{1,9}$")
# Where the forms are filled: a browser's datetime-local value is a time in this zone.
LOCAL_ZONE = ZoneInfo("Europe/Paris")


def read_posted(fields: list[dict], form: MultiDict) -> dict[str, Any]:
    """Turn a posted HTML form into record data; leave checking to the form's schema."""
    data: dict[str, Any] = {}
    for spec in fields:
        key, kind = spec["key"], spec["type"]
        if kind == "multi":
            data[key] = form.getlist(key)
            if not data[key] and not spec.get("required"):
                del data[key]
            continue
        if kind == "place":
            value = _place(form, key)
        else:
            raw = form.get(key, "")
            value = _scalar(kind, raw) if raw.strip() else None
        if value is not None:
            data[key] = value
    return data


def _scalar(kind: str, raw: str) -> Any:
    if kind in ("integer", "counter"):
        # Anything not a whole number is passed on as text, so the schema names the mistake.
        return int(raw) if INTEGER.match(raw.strip()) else raw
    if kind == "boolean":
        return {"oui": True, "non": False}.get(raw, raw)
    if kind in ("text", "textarea"):
        return raw
    if kind == "datetime":
        return _with_offset(raw.strip())
    return raw.strip()


def _with_offset(raw: str) -> str:
    """Give a browser's local date and time (no offset) the CCAS's time zone."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.isoformat()


def _place(form: MultiDict, key: str) -> dict | None:
    label = form.get(f"{key}.label", "").strip()
    lat, lon = form.get(f"{key}.lat", "").strip(), form.get(f"{key}.lon", "").strip()
    if not (label or lat or lon):
        return None
    return {"label": label, "lat": _number(lat), "lon": _number(lon)}


def _number(raw: str) -> float | str | None:
    if not raw:
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return raw


def choice_labels(spec: dict, reference: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return value → label for a choice field (inline choices, or a reference list's labels)."""
    if "choices" in spec:
        return {choice["value"]: choice["label"] for choice in spec["choices"]}
    return dict(reference or {})


def show_value(
    spec: dict,
    value: Any,
    labels: Mapping[str, str] | None = None,
    people: Mapping[str, str] | None = None,
) -> str:
    """Write a stored value as a person reads it: labels, not codes; dates as JJ/MM/AAAA."""
    if value is None or value == [] or value == "":
        return "—"
    kind = spec["type"]
    labels = labels or {}
    if kind == "choice":
        return labels.get(value, value)
    if kind == "multi":
        return ", ".join(labels.get(item, item) for item in value)
    if kind == "boolean":
        return "Oui" if value else "Non"
    if kind == "date":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if kind == "datetime":
        return datetime.fromisoformat(value).strftime("%d/%m/%Y à %H:%M")
    if kind == "person":
        return (people or {}).get(value, "Personne non encore synchronisée")
    if kind == "place":
        if value.get("lat") is None:
            return value["label"]
        return f"{value['label']} ({value['lat']:.5f}, {value['lon']:.5f})"
    return str(value)
