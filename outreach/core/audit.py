"""The audit log: who read, changed or exported what. Identifiers only, never personal data.

Each row says who (the user), what (an action of ACTIONS), on what (a target id), when, from
which tablet (X-Outreach-Device, else the tablet the session is tied to) and in which login
session. /admin/journal reads it for the DPO.
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import String, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from outreach.core import signals
from outreach.core.db import db
from outreach.core.models import AuditEvent
from outreach.core.sessions import device_from_request
from sync.schema import record

# Every action written, in the words the journal shows (a test checks none is missing).
ACTIONS = {
    "person.read": "Lecture du dossier d'une personne",
    "person.search": "Recherche de personnes",
    "person.merge": "Fusion de deux dossiers",
    "person.merge_undo": "Fusion annulée",
    "person.export": "Export des données d'une personne (droit d'accès)",
    "person.anonymise": "Personne anonymisée (conservation échue ou demande)",
    "person.erase": "Personne effacée à sa demande",
    "record.read": "Lecture d'une fiche",
    "record.change": "Modification d'une fiche",
    "records.list": "Liste des fiches",
    "records.read": "Lecture des fiches par l'API",
    "records.import": "Import de fiches en attente d'une tablette",
    "register.list": "Consultation du registre",
    "register.read": "Lecture d'une inscription au registre",
    "register.acknowledgement": "Accusé de réception d'une inscription",
    "register.erase": "Inscription retirée effacée",
    "register.prefect_export": "Registre transmis au préfet",
    "figures.export": "Export des fiches d'une période (CSV)",
    "figures.anonymous_extract": "Extrait anonymisé d'une année",
    "journal.export": "Export du journal",
    "sync.push": "Synchronisation : fiches envoyées",
    "sync.pull": "Synchronisation : données reçues",
    "alert.list": "Boîte des alertes consultée",
    "alert.take": "Alerte prise en charge",
    "alert.close": "Alerte close",
    "quarantine.correct": "Fiche refusée corrigée",
    "quarantine.discard": "Fiche refusée abandonnée",
    "conflict.resolve": "Conflit résolu",
    "plan.open": "Plan d'alerte déclenché",
    "plan.board": "Tableau d'un plan consulté",
    "plan.close": "Plan d'alerte clos",
    "plan.new_series": "Nouvelle série d'appels",
    "plan.call_given": "Appel confié à un agent",
    "plan.need_done": "Suite donnée à un besoin",
    "planning.assign": "Senior confié à un visiteur",
    "planning.reassign": "Senior confié à un autre visiteur",
    "planning.end": "Visites d'un senior arrêtées",
    "session.plan": "Permanence planifiée",
    "session.cancel": "Permanence annulée",
    "tablet.key": "Clé de secours d'une personne sur une tablette créée",
    "tablet.lost": "Tablette déclarée perdue",
    "user.create": "Compte créé",
    "user.role": "Rôle d'un compte changé",
    "user.disable": "Compte désactivé",
    "user.enable": "Compte réactivé",
    "user.password": "Mot de passe d'un compte changé",
    "form.version": "Nouvelle version d'un formulaire",
    "reference.add": "Entrée ajoutée à une liste",
    "reference.change": "Entrée d'une liste modifiée",
    "reference.retire": "Entrée d'une liste retirée",
    "reference.restore": "Entrée d'une liste remise",
}


def label(action: str) -> str:
    """Name an action in French (its code when it has no label yet)."""
    return ACTIONS.get(action, action)


def _origin() -> tuple[int | None, str | None, int | None]:
    """Return who acts, from which tablet and in which session, as the request says."""
    if not has_request_context():
        return None, None, None
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    device = device_from_request() or g.get("login_session_device")
    return user_id, device, g.get("login_session_id")


def log(action: str, target: str | None = None, *, device_id: str | None = None,
        **details: object) -> None:
    """Add one audit event to the current transaction (committed with the change it records).

    `device_id` names the tablet when the call says it otherwise (a push's envelope).
    """
    user_id, device, session_id = _origin()
    db.session.add(AuditEvent(user_id=user_id, action=action, target=target, details=details,
                              device_id=device_id or device, session_id=session_id))


def about_person(person_id: str) -> ColumnElement[bool]:
    """Return the condition that selects the audit rows about a person.

    A row is about the person when its target is their file, a record (a visite, a rencontre,
    a register entry…) whose `personne` is them, or a feature's row about them (an alert, a visit
    assignment: `signals.person_rows`).
    """
    target = AuditEvent.target
    naming = select(record.c.id).where(record.c.data["personne"].as_string() == person_id)
    prefixed = select(literal("record:", String) + record.c.id).where(
        record.c.data["personne"].as_string() == person_id)
    return or_(
        target.in_([person_id, f"record:{person_id}"]),
        target.in_(naming),
        target.in_(prefixed),
        *(target.in_(rows) for rows in signals.gathered(signals.person_rows.send(person_id))),
    )
