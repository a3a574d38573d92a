"""What a record's content is, and its fingerprint: how a replay is told from an edit."""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring as _string  # json.dumps of a str, UTF-8 kept
from typing import Any

CONTENT_KEYS = ("form", "form_version", "parent_id", "recorded_at", "data")


def canonical_json(value: Any) -> str:
    """Serialise as canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(record: dict) -> str:
    """Return the SHA-256 of a record's content (form, version, parent, recorded_at, data)."""
    content = {key: record.get(key) for key in CONTENT_KEYS}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def fingerprint_and_data(record: dict) -> tuple[str, str]:
    """Return a record's `content_hash` and its data as canonical JSON, the data encoded once.

    For a record whose keys passed their checks (form a string, version a positive integer,
    parent and time strings or null): the canonical text of its content is written around the
    data's text in sorted-key order, as `canonical_json` would, and the push stores that text
    rather than encoding the data a second time.
    """
    data = canonical_json(record["data"])
    parent = record.get("parent_id")
    text = (f'{{"data":{data},"form":{_string(record["form"])},'
            f'"form_version":{int(record["form_version"])},'
            f'"parent_id":{"null" if parent is None else _string(parent)},'
            f'"recorded_at":{_string(record["recorded_at"])}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), data
