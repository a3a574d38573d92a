"""What a record's content is, and its fingerprint: how a replay is told from an edit."""

from __future__ import annotations

import hashlib
import json
from typing import Any

CONTENT_KEYS = ("form", "form_version", "parent_id", "recorded_at", "data")


def canonical_json(value: Any) -> str:
    """Serialise as canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(record: dict) -> str:
    """Return the SHA-256 of a record's content (form, version, parent, recorded_at, data)."""
    content = {key: record.get(key) for key in CONTENT_KEYS}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
