"""GET /api/v1/records: stored records for the office, in the order they last changed."""

from __future__ import annotations

from flask import Blueprint, request

from outreach.core import audit
from outreach.core.db import db
from outreach.core.errors import api_error
from outreach.core.roles import OFFICE_ROLES, restrict
from sync.records import BadCursor, list_records

bp = Blueprint("api_records", __name__, url_prefix="/api/v1")
restrict(bp, *OFFICE_ROLES)
DEFAULT_LIMIT = 100


@bp.get("/records")
def records():
    """List stored records of a form after a cursor (rejected ones are in quarantine)."""
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if limit < 1:
        return api_error(400, "«limit» doit être un entier d'au moins 1.")
    form = request.args.get("form") or None
    try:
        page = list_records(db.session, form, request.args.get("after"), limit)
    except BadCursor as error:
        return api_error(400, str(error))
    audit.log("records.read", form, count=len(page["records"]))
    db.session.commit()
    return page
