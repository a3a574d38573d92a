"""The tablets the office sees: each one's contacts, its escrow keys, and cutting a lost one off.

A tablet is a browser profile, known by the device id it draws once and sends with every API
call (`X-Outreach-Device`). Its row says who used it last, when it last called and synced, and
how many records it said were waiting. Declared lost, every call it makes is refused with 403
`{"code": "tablette_perdue"}` (with or without a session: the tablet then erases what it
holds), its sessions are revoked and its escrow keys deleted.
"""

from __future__ import annotations

import base64
import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import request
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from outreach.core import audit, sessions
from outreach.core.db import db
from outreach.core.errors import api_error
from outreach.core.models import Tablet, TabletKey, User, utcnow

LOST = "Cette tablette a été déclarée perdue : ses données ont été effacées. Appelez le CCAS."


def refuse_lost() -> tuple | None:
    """Answer 403 `tablette_perdue` when the call comes from a tablet declared lost."""
    device = sessions.device_from_request()
    if device is None:
        return None
    # Loaded whole: `contact` then finds the same row in the session, with no second query.
    tablet = db.session.get(Tablet, device)
    if tablet is None or tablet.lost_at is None:
        return None
    return api_error(403, LOST, code="tablette_perdue")


def contact(user: User, *, synced: bool = False) -> Tablet | None:
    """Note that the tablet this call names was used by `user` now; return its row.

    Written at once (it runs at a request's start or after its work is committed): a tablet's
    first call, a new person, a new waiting count, a sync, or a minute since the last write.
    """
    device = sessions.device_from_request()
    if device is None:
        return None
    now = utcnow()
    waiting = sessions.waiting_from_request()
    tablet = db.session.get(Tablet, device)
    if tablet is None:
        tablet = Tablet(device_id=device, first_seen_at=now, last_seen_at=now)
        db.session.add(tablet)
    elif not (synced or tablet.user_id != user.id
              or (waiting is not None and waiting != tablet.waiting)
              # Written at most this often, as sessions are (not one write per call).
              or now - tablet.last_seen_at >= sessions.TOUCH_EVERY):
        return tablet
    tablet.last_seen_at, tablet.user_id = now, user.id
    tablet.user_agent = (request.user_agent.string or "")[:120] or tablet.user_agent
    if waiting is not None:
        tablet.waiting = waiting
    if synced:
        tablet.last_sync_at = now
    try:
        db.session.commit()
    except IntegrityError:
        # The same new tablet's other call wrote it first: that one's contact stands.
        db.session.rollback()
        return db.session.get(Tablet, device)
    return tablet


def escrow_key(user: User) -> str | None:
    """Return this person's escrow key on the tablet the call names (made at first login).

    Only the login that person makes from that tablet is handed it (POST /api/v1/session):
    with it, their data key comes back when both the code and the password are forgotten.
    """
    device = sessions.device_from_request()
    if device is None or contact(user) is None:
        return None
    found = db.session.scalar(select(TabletKey.key).where(
        TabletKey.device_id == device, TabletKey.user_id == user.id))
    if found:
        return found
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    db.session.add(TabletKey(device_id=device, user_id=user.id, key=key))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(TabletKey.key).where(
            TabletKey.device_id == device, TabletKey.user_id == user.id))
    audit.log("tablet.key", f"device:{device}")
    db.session.commit()
    return key


class SealedExportError(ValueError):
    """An export file whose seal this server cannot open (in French, for the admin)."""


def open_export(body: dict) -> list:
    """Return the records of a tablet's last-resort export (keep.js), opening its seal.

    A tablet whose code is on seals its export with the author's escrow key for that tablet
    (AES-GCM, the author's id bound to it): the file names no one, and only this server opens it.
    An export made with the code turned off carries its records in clear.
    """
    if "sealed" not in body:
        return body["records"]
    key = db.session.scalar(select(TabletKey.key).where(
        TabletKey.device_id == str(body["device_id"]), TabletKey.user_id == int(body["user_id"])))
    if key is None:
        raise SealedExportError("La clé de cette tablette n'existe plus (tablette déclarée"
                                " perdue ?) : ce fichier ne peut pas être ouvert.")
    try:
        clear = AESGCM(base64.b64decode(key)).decrypt(
            base64.b64decode(body["sealed"]["iv"]), base64.b64decode(body["sealed"]["box"]),
            f"export:{int(body['user_id'])}".encode())
    except (InvalidTag, ValueError) as error:
        raise SealedExportError(
            "Ce fichier a été modifié ou ne vient pas de cette tablette.") from error
    return json.loads(clear)


def declare_lost(tablet: Tablet) -> int:
    """Cut a tablet off: its sessions end, its escrow keys go; return the sessions revoked.

    Added to the current transaction, with the audit event; the caller commits.
    """
    tablet.lost_at = utcnow()
    tablet.lost_by = current_user.id if current_user.is_authenticated else None
    db.session.execute(delete(TabletKey).where(TabletKey.device_id == tablet.device_id))
    ended = sessions.revoke_sessions(device_id=tablet.device_id, reason="lost_device")
    audit.log("tablet.lost", f"device:{tablet.device_id}", waiting=tablet.waiting,
              sessions=ended)
    return ended
