"""Alerts raised from what the field records: a fall at a visite, an urgent situation met.

One alert per record and kind, whatever path stored the record and however often it is followed.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from sqlalchemy.orm import Session

from outreach.alerts.models import Alert
from outreach.core import catalog
from sync import sequence
from sync.bulk import insert_rows
from sync.schema import utcnow

ALERT_KINDS = {
    "chute": "Chute",
    "absence_reponse": "Absence de réponse",
    "degradation": "Dégradation",
    "canicule_grand_froid": "Canicule / grand froid",
    "maltraitance": "Maltraitance",
    "autre": "Autre",
    "situation_urgente": "Situation urgente",
    "injoignable": "Injoignable pendant un plan d'alerte",
}
ALERT_STATUSES = {"nouvelle": "Nouvelle", "prise_en_charge": "Prise en charge", "close": "Close"}


def alert_kinds() -> dict[str, str]:
    """Return kind → French name of every alert, kinds an admin added to the visite included."""
    kinds = dict(ALERT_KINDS)
    for definition in catalog.registry().versions("visite.visite"):
        for choice in (definition.field("alerte") or {}).get("choices", ()):
            kinds.setdefault(choice["value"], choice["label"])
    return kinds


def alert_of(form: str, data: dict) -> tuple[str, str | None] | None:
    """Return the (kind, detail) of the alert a record raises, or None."""
    if form == "visite.visite" and data.get("alerte") not in (None, "aucune"):
        return data["alerte"], data.get("detail_alerte")
    if form in ("maraude.rencontre", "permanence.accueil") and data.get("situation_urgente"):
        return "situation_urgente", data.get("detail_urgence")
    return None


def raise_alerts(session: Session, rows) -> None:
    """Raise the alert each record says, unless it was raised already (one statement for all).

    `rows` have the record's `id, form, data, recorded_by, recorded_at, received_at`.
    """
    wanted = {}
    for row in rows:
        raised = alert_of(row.form, row.data)
        if raised:
            wanted.setdefault((row.id, raised[0]), (row, raised[1]))
    if not wanted:
        return
    first = sequence.reserve(session, len(wanted))
    # One statement for the batch's alerts (the unit of work would flush them one by one); an
    # alert raised before is left as it is by the unique index, its number left unused.
    insert_rows(session, Alert.__table__, [
        {"id": str(uuid.uuid4()), "record_id": record_id, "kind": kind, "form": row.form,
         "person_id": row.data.get("personne"), "detail": detail, "raised_by": row.recorded_by,
         "raised_at": row.recorded_at, "received_at": row.received_at or utcnow(),
         "status": "nouvelle", "revision": 1, "change_seq": first + offset}
        for offset, ((record_id, kind), (row, detail)) in enumerate(wanted.items())
    ], skip_existing=("record_id", "kind"))


def on_records_stored(session: Session, records, **_kwargs) -> None:
    """Raise the alerts of the records just stored."""
    raise_alerts(session, [row for row in records if not row.deleted])


def on_records_refused(session: Session, items: list[dict], author: int, **_kwargs) -> None:
    """Raise the alert of a record kept apart only for whom it names: the office still hears."""
    rows = []
    for item in items:
        recorded_at = catalog.moment(item["recorded_at"])
        if recorded_at is not None:
            rows.append(SimpleNamespace(id=str(item["id"]), form=item["form"], data=item["data"],
                               recorded_by=author, recorded_at=recorded_at,
                               received_at=utcnow()))
    raise_alerts(session, rows)
