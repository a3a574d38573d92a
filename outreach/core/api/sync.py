"""Push and pull (DESIGN §4): the tablet's outbox goes up, its working set comes down."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from outreach.core import audit, catalog, signals, storing, tablets
from outreach.core.api.common import NotJSON, actor, json_body
from outreach.core.db import db
from outreach.core.errors import api_error
from outreach.core.sessions import device_from_request, waiting_from_request
from sync import sequence
from sync.protocol import EnvelopeError, TooManyRecords, as_uuid, read_envelope
from sync.pull import BadCursor, build_pull, fingerprint, make_cursor

bp = Blueprint("api_sync", __name__, url_prefix="/api/v1/sync")


@bp.post("/push")
def push():
    """Apply a batch of records; answer one result per record, in request order."""
    try:
        device_id, items = read_envelope(json_body())
    except TooManyRecords as error:
        return api_error(413, str(error))
    except (NotJSON, EnvelopeError) as error:
        return api_error(400, str(error))
    results = storing.store(db.session, actor(), device_id, items,
                           waiting=waiting_from_request())
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    # The audit row beside the sync log: the journal, its export and the retention read one
    # table, and this one carries the login session.
    audit.log("sync.push", None, device_id=device_id, **counts)
    db.session.commit()
    forms = catalog.offline_forms(current_user)
    cursor = make_cursor(
        sequence.current(db.session), fingerprint(forms, catalog.offline_reference())
    )
    tablets.contact(current_user, synced=True)
    return {"results": results, "cursor": cursor}


@bp.get("/pull")
def pull():
    """Answer what this person may have offline, after the cursor given (none: everything)."""
    device_id = request.args.get("device_id")
    if device_id is not None and as_uuid(device_id) is None:
        return api_error(400, "«device_id» n'est pas un UUID.")
    device = as_uuid(device_id) if device_id else device_from_request()
    try:
        answer = build_pull(
            db.session, actor(), request.args.get("cursor"),
            catalog.offline_forms(current_user), catalog.offline_reference(),
            device_id=device, kinds=signals.every_pull_kind(), waiting=waiting_from_request(),
        )
    except BadCursor as error:
        return api_error(400, str(error))
    sent = {kind: len(items) for kind, items in answer.items()
            if kind not in ("forms", "reference") and isinstance(items, list) and items}
    # A pull that hands nothing out reads no one's data (the tablet's minute-by-minute check):
    # the sync log keeps it, the journal does not.
    if sent:
        audit.log("sync.pull", None, device_id=device, **sent)
        db.session.commit()
    tablets.contact(current_user, synced=True)
    return answer
