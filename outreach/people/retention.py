"""How long the CCAS keeps what it holds about a person, and how it lets it go (RGPD).

A person's file is anonymised two years after their last contact (the CNIL's référentiel for
social action, 2021): their latest record, active visit assignment, open alert or register
entry. Anonymising keeps what the figures count — the file itself (so a person met twice stays
one person), its sex and age band, the records that name it with their choices and counts — and
removes the rest: names, birth date, contact, free text, in the file, in the records that name
it, in their earlier revisions, kept conflicts and quarantine rows, in alerts and plan calls.
Erasing on request does the same and also takes the file out of every list and tablet (a
tombstone whose sex and age band the figures still count), ends its visits and erases its
register entries. Connection, audit and sync logs are kept a year.

Nothing here imports Flask: the purge command and the office's pages call it alike.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import bindparam, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from outreach.alerts import Alert
from outreach.core import catalog
from outreach.core.models import AuditEvent, LoginAttempt, LoginSession
from outreach.figures import ERASED_FILE
from outreach.people.models import PersonMerge
from outreach.register import KEPT_AFTER_WITHDRAWAL, AlertPlan, CallTask, plan_title
from outreach.visits import VisitAssignment, end
from sync import sequence
from sync.content import content_hash
from sync.schema import quarantine, record, record_conflict, record_revision, sync_log

PERSON_FORM = "personne"
REGISTER_FORM = "registre.inscription"
CALL_FORM = "plan.appel"
# What an anonymised or erased file is called; the level is the lowest a file has.
ANONYMISED = "Personne anonymisée"
ERASED = ERASED_FILE
# What a file keeps for the figures (outreach.facts counts a file by its sex and age band).
KEPT_FOR_FIGURES = ("sexe", "tranche_age")
# Text fields the app reads as identifiers, not words someone typed.
ID_TEXT = {CALL_FORM: ("plan", "tache")}
FREE_TEXT_TYPES = ("text", "textarea")
# Why an office member anonymises or erases a file on request (a code, never free text: the
# audit log holds no personal data).
REASONS = {
    "effacement": "Demande d'effacement de la personne (art. 17 RGPD)",
    "opposition": "Opposition de la personne au traitement (art. 21 RGPD)",
    "fin_de_suivi": "Fin du suivi décidée par le service, données devenues inutiles",
    "deces": "Décès de la personne",
}
WAYS = {"anonymiser": "Anonymiser", "effacer": "Effacer"}


def months_before(day: date, months: int) -> date:
    """Return the same day `months` calendar months earlier (31 March − 1 month: 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_anonymised(data: dict) -> bool:
    """Tell whether a file's data is what anonymising or erasing left of it."""
    return data.get("alias_prenom") in (ANONYMISED, ERASED) and set(data) <= {
        "niveau", "alias_prenom", *KEPT_FOR_FIGURES}


def person_keys() -> set[str]:
    """Return the keys of every `person` field of every version of every form."""
    registry = catalog.registry()
    return {spec["key"] for key in registry.keys() for definition in registry.versions(key)
            for spec in definition.fields if spec["type"] == "person"}


def free_text_keys(form: str) -> set[str]:
    """Return the keys of a form's free-text fields, in any of its versions."""
    keys = {spec["key"] for definition in catalog.registry().versions(form)
            for spec in definition.fields if spec["type"] in FREE_TEXT_TYPES}
    return keys - set(ID_TEXT.get(form, ()))


def _strip(form: str, data: dict, keys: dict[str, set[str]] | None = None) -> dict:
    """Return a record's data without its free text (`keys`: free_text_keys read already)."""
    if keys is None:
        keys = {}
    if form not in keys:
        keys[form] = free_text_keys(form)
    dropped = keys[form]
    return {key: value for key, value in data.items() if key not in dropped}


def _hash(row, data: dict) -> str:
    return content_hash({"form": row.form, "form_version": row.form_version,
                         "parent_id": row.parent_id, "data": data,
                         "recorded_at": row.recorded_at.isoformat()})


# --- Whose data is whose ------------------------------------------------------------------------


def files_of(session: Session, person_id: str) -> list[str]:
    """Return a person's file and every file merged into it (a merge keeps the other file)."""
    found, todo = [person_id], [person_id]
    while todo:
        merged = session.scalars(select(PersonMerge.merged_id).where(
            PersonMerge.kept_id.in_(todo), PersonMerge.undone_at.is_(None))).all()
        todo = [ident for ident in merged if ident not in found]
        found += todo
    return found


def naming(session: Session, ids: Iterable[str]) -> list:
    """Return the records (tombstones too) whose person field names one of these files."""
    ids = list(ids)
    return naming_each(session, {ids[0]: ids})[ids[0]] if ids else []


def naming_each(session: Session, people: dict[str, list[str]]) -> dict[str, list]:
    """Return, for each person (given with their files), the records that name them.

    One reading of the records for many people: the purge's first run may have thousands.
    """
    owner = {ident: person for person, files in people.items() for ident in files}
    found: dict[str, dict] = {person: {} for person in people}
    keys = sorted(person_keys())
    wanted = list(owner)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for key in keys:
            for row in session.execute(select(record).where(
                    record.c.form != PERSON_FORM, record.c.data[key].as_string().in_(chunk))):
                found[owner[row.data[key]]][row.id] = row
    return {person: sorted(rows.values(), key=lambda row: row.recorded_at)
            for person, rows in found.items()}


def calls_of(session: Session, ids: list[str], entry_ids: list[str]) -> list[CallTask]:
    """Return the plan calls made for these files or these register entries."""
    return list(session.scalars(select(CallTask).where(
        CallTask.person_id.in_(ids) | CallTask.entry_id.in_(entry_ids or [""]))
        .order_by(CallTask.plan_id, CallTask.series)))


def call_outcomes(session: Session, tasks: list[CallTask]) -> list:
    """Return the `plan.appel` records of these calls."""
    if not tasks:
        return []
    return list(session.execute(select(record).where(
        record.c.form == CALL_FORM,
        record.c.data["tache"].as_string().in_([task.id for task in tasks]))
        .order_by(record.c.recorded_at)))


# --- What stops a file from going -------------------------------------------------------------


def refusal(session: Session, person_id: str) -> str | None:
    """Say, in French, what keeps this person's data for now (None: it may go).

    The law keeps the register's data while an alert plan calls them (art. L116-3 and
    L121-6-1 CASF); an alert still open is a duty to act on that cannot wait for a file.
    """
    ids = files_of(session, person_id)
    entries = [row.id for row in naming(session, ids) if row.form == REGISTER_FORM]
    plan = session.scalar(
        select(AlertPlan).join(CallTask, CallTask.plan_id == AlertPlan.id)
        .where(AlertPlan.closed_at.is_(None),
               CallTask.person_id.in_(ids) | CallTask.entry_id.in_(entries or [""])).limit(1))
    if plan is not None:

        return (f"Un plan d'alerte est en cours et appelle cette personne ({plan_title(plan)}) : "
                "la loi impose de garder ses données jusqu'à la clôture du plan (art. L116-3 et "
                "L121-6-1 du CASF). Recommencez après avoir clos le plan.")
    alert = session.scalar(select(Alert.id).where(Alert.person_id.in_(ids),
                                                  Alert.status != "close").limit(1))
    if alert is not None:
        return ("Une alerte la concernant est encore ouverte : traitez-la et closez-la dans "
                "« Alertes » d'abord, elle peut demander d'agir pour la personne.")
    return None


# --- Last contact, for the retention rule -----------------------------------------------------


def _as_day(moment: datetime | date | None) -> date | None:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    return moment


def _iso_day(raw) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def last_contacts(session: Session) -> tuple[dict[str, date], set[str]]:
    """Return each file's last contact day, and the files in contact today (never due).

    A contact is the file's making, a record that names it (a register entry at its latest
    date), a call of a plan, an assignment's end, an alert's closing; an active assignment, an
    open alert, a register entry not withdrawn and a call of an open plan are contacts today.
    """
    last: dict[str, date] = {}
    ongoing: set[str] = set()

    def seen(person: str | None, moment) -> None:
        """Move a file's last contact on to this moment, if later."""
        day = _as_day(moment)
        if person and day and (person not in last or day > last[person]):
            last[person] = day

    for ident, at in session.execute(select(record.c.id, record.c.recorded_at).where(
            record.c.form == PERSON_FORM, record.c.deleted.is_(False))):
        seen(ident, at)
    for key in sorted(person_keys()):
        named = record.c.data[key].as_string()
        for person, at in session.execute(
                select(named, func.max(record.c.recorded_at))
                .where(record.c.form.notin_((PERSON_FORM, REGISTER_FORM)),
                       record.c.deleted.is_(False), named.is_not(None))
                .group_by(named)):
            seen(person, at)
    for at, data in session.execute(select(record.c.recorded_at, record.c.data).where(
            record.c.form == REGISTER_FORM, record.c.deleted.is_(False))):
        person = data.get("personne")
        if not data.get("date_retrait"):
            ongoing.add(person)
        seen(person, at)
        for key in ("date_demande", "date_confirmation", "date_retrait"):
            seen(person, _iso_day(data.get(key)))
    for person, active, ended in session.execute(select(
            VisitAssignment.person_id, VisitAssignment.active, VisitAssignment.ended_on)):
        if active:
            ongoing.add(person)
        seen(person, ended)
    for person, status, closed in session.execute(select(
            Alert.person_id, Alert.status, Alert.closed_at).where(Alert.person_id.is_not(None))):
        if status != "close":
            ongoing.add(person)
        seen(person, closed)
    for person, called, closed in session.execute(
            select(CallTask.person_id, CallTask.last_call_at, AlertPlan.closed_at)
            .join(AlertPlan, AlertPlan.id == CallTask.plan_id)
            .where(CallTask.person_id.is_not(None))):
        if closed is None:
            ongoing.add(person)
        seen(person, called)
    ongoing.discard(None)
    return last, ongoing


def anonymise_due(session: Session, due: list[str], on: date, batch: int = 200) -> int:
    """Anonymise the files the retention rule lets go, a batch per transaction; return how many."""
    for start in range(0, len(due), batch):
        people = {person: files_of(session, person) for person in due[start:start + batch]}
        named = naming_each(session, people)
        for person in people:
            done = anonymise(session, person, None, "conservation", on=on, named=named[person])
            # By id and counts only, as every audit row (outreach.core.audit).
            session.add(AuditEvent(action="person.anonymise", target=person,
                                   details={"reason": "conservation", **done.counts()}))
        session.commit()
    return len(due)


def due_for_anonymisation(session: Session, on: date, months: int) -> list[tuple[str, date]]:
    """Return the files whose last contact is more than `months` months before `on`, oldest first.

    Files already anonymised are not due again; a merged file goes with the one it was merged
    into (whose last contact counts its records).
    """
    limit = months_before(on, months)
    last, ongoing = last_contacts(session)
    files = session.execute(select(record.c.id, record.c.data).where(
        record.c.form == PERSON_FORM, record.c.deleted.is_(False))).all()
    due = [(ident, last[ident]) for ident, data in files
           if ident not in ongoing and ident in last and last[ident] < limit
           and not is_anonymised(data)]
    return sorted(due, key=lambda pair: (pair[1], pair[0]))


# --- Anonymising and erasing -------------------------------------------------------------------


@dataclass
class Done:
    """What anonymising or erasing one person changed (counts, for the audit log)."""

    files: int = 0
    records: int = 0
    revisions: int = 0
    conflicts: int = 0
    quarantine: int = 0
    register: int = 0
    calls: int = 0
    alerts: int = 0
    assignments: int = 0
    ids: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return the counts (no ids, no data) as the audit log keeps them."""
        return {key: value for key, value in vars(self).items() if key != "ids"}


def anonymise(session: Session, person_id: str, by: int | None, reason: str,
              erase: bool = False, on: date | None = None, named: list | None = None,
              end_visits: bool | None = None) -> Done:
    """Anonymise (or erase) a person and everything naming them. The caller audits and commits.

    Keeps what the figures count; see the module's docstring for what goes. `named`: the
    records naming them, when already read (naming_each); `end_visits`: end their visit
    assignments too (on request: without a name or an address there is nobody to visit;
    erasing always does).
    """
    on = on or date.today()
    done = Done()
    ids = files_of(session, person_id)
    marker = ERASED if erase else ANONYMISED
    for row in session.execute(select(record).where(record.c.id.in_(ids))).all():
        kept = {"niveau": "alias", "alias_prenom": marker,
                **{key: row.data[key] for key in KEPT_FOR_FIGURES if row.data.get(key)}}
        _rewrite(session, row, kept, by, deleted=True if erase else row.deleted)
        done.files += 1
        done.ids.append(row.id)
        for table in (record_revision, record_conflict):
            done.revisions += session.execute(
                delete(table).where(table.c.record_id == row.id)).rowcount or 0
    named = naming(session, ids) if named is None else named
    entries = [row for row in named if row.form == REGISTER_FORM]
    tasks = calls_of(session, ids, [row.id for row in entries])
    for row in entries:
        if not row.deleted:
            _erase_entry(session, row, on, by)
            done.register += 1
    others = [*[r for r in named if r.form != REGISTER_FORM], *call_outcomes(session, tasks)]
    keys = {form: free_text_keys(form) for form in {row.form for row in others}}
    changed = [(row, stripped) for row in others
               if (stripped := _strip(row.form, row.data, keys)) != row.data]
    _rewrite_many(session, changed, by)
    done.records = len(changed)
    forms = {row.id: row.form for row in others}
    done.revisions += _strip_rows(session, record_revision, forms, keys)
    done.conflicts += _strip_rows(session, record_conflict, forms, keys)
    done.quarantine = _clean_quarantine(session, ids)
    for task in tasks:
        if task.need_detail or task.action_note:
            task.need_detail = task.action_note = None
            task.revision += 1
            task.change_seq = sequence.reserve(session, 1)
            done.calls += 1
    for alert in session.scalars(select(Alert).where(Alert.person_id.in_(ids))):
        if alert.detail or alert.outcome:
            alert.detail = alert.outcome = None
            alert.revision += 1
            alert.change_seq = sequence.reserve(session, 1)
            done.alerts += 1
    if erase or end_visits:

        for assignment in session.scalars(select(VisitAssignment).where(
                VisitAssignment.person_id.in_(ids), VisitAssignment.active.is_(True))):
            end(session, assignment, on, by or 0)
            done.assignments += 1
    return done


def _rewrite_many(session: Session, changed: list[tuple], by: int | None) -> None:
    """Store new data (without its free text) for many records in one statement."""
    if not changed:
        return
    seq = sequence.reserve(session, len(changed))
    statement = update(record).where(record.c.id == bindparam("b_id")).values(
        data=bindparam("b_data"), revision=bindparam("b_revision"), revised_by=by,
        change_seq=bindparam("b_seq"), content_hash=bindparam("b_hash"))
    session.connection().execute(statement, [
        {"b_id": row.id, "b_data": data, "b_revision": row.revision + 1, "b_seq": seq + offset,
         "b_hash": _hash(row, data)} for offset, (row, data) in enumerate(changed)])


def _rewrite(session: Session, row, data: dict, by: int | None, deleted: bool) -> None:
    """Store new data as the record's current revision, with no history of the old one.

    The revision moves on, so that a tablet's edit made on the old one is a conflict for the
    office rather than a silent return of what was removed; tablets pull the new version.
    """
    session.execute(update(record).where(record.c.id == row.id).values(
        data=data, deleted=deleted, revision=row.revision + 1, revised_by=by,
        change_seq=sequence.reserve(session, 1), content_hash=_hash(row, data)))


def _strip_rows(session: Session, table, forms: dict[str, str],
                keys: dict[str, set[str]]) -> int:
    """Remove the free text of these records' earlier revisions or kept conflicts (by id → form).

    Return how many rows changed.
    """
    changed, ids = 0, list(forms)
    for start in range(0, len(ids), 500):
        for ident, record_id, data in session.execute(
                select(table.c.id, table.c.record_id, table.c.data)
                .where(table.c.record_id.in_(ids[start:start + 500]))).all():
            stripped = _strip(forms[record_id], data, keys)
            if stripped != data:
                session.execute(update(table).where(table.c.id == ident).values(data=stripped))
                changed += 1
    return changed


def _clean_quarantine(session: Session, ids: list[str]) -> int:
    """Delete the refused versions of these files; strip the free text of refusals naming them."""
    keys = person_keys()
    changed = session.execute(delete(quarantine).where(quarantine.c.record_id.in_(ids))).rowcount
    naming_them = [quarantine.c.raw[("data", key)].as_string().in_(ids) for key in keys]
    for ident, raw in session.execute(select(quarantine.c.id, quarantine.c.raw)
                                      .where(or_(*naming_them))).all():
        data = raw.get("data") if isinstance(raw, dict) else None
        if not isinstance(data, dict) or not any(data.get(key) in ids for key in keys):
            continue
        form = raw.get("form") if isinstance(raw.get("form"), str) else ""
        stripped = _strip(form, data)
        if stripped != data:
            session.execute(update(quarantine).where(quarantine.c.id == ident)
                            .values(raw={**raw, "data": stripped}))
            changed += 1
    return changed or 0


def _erase_entry(session: Session, row, on: date, by: int | None) -> None:
    """Erase a register entry as a withdrawal's erasure does (withdrawn today if still on it)."""
    data = {**row.data, "date_retrait": row.data.get("date_retrait") or on.isoformat()}
    kept = {key: data[key] for key in KEPT_AFTER_WITHDRAWAL if key in data}
    _rewrite(session, row, kept, by, deleted=True)
    for table in (record_revision, record_conflict, quarantine):
        session.execute(delete(table).where(table.c.record_id == row.id))
    session.add(AuditEvent(user_id=by, action="register.erase", target=f"record:{row.id}",
                           details={"withdrawn_on": kept.get("date_retrait")}))


def forget_on_disk(session: Session) -> None:
    """Fold SQLite's write-ahead log into the file, so that no old page copy stays behind.

    Deleted content is overwritten with zeros (secure_delete, outreach.db); the log still holds
    earlier copies of the pages until a checkpoint empties it. Other engines: nothing to do.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


# --- Logs --------------------------------------------------------------------------------------

# Each log, and when one of its rows is over: a login session when it expired or was revoked.
LOGS = {
    "login_attempt": (LoginAttempt.__table__, lambda limit: LoginAttempt.at < limit),
    "login_session": (LoginSession.__table__, lambda limit: or_(
        LoginSession.expires_at < limit, LoginSession.revoked_at < limit)),
    "audit_event": (AuditEvent.__table__, lambda limit: AuditEvent.at < limit),
    "sync_log": (sync_log, lambda limit: sync_log.c.at < limit),
}


def old_logs(session: Session, on: date, months: int) -> dict[str, int]:
    """Count, per log, the rows older than `months` months before `on`."""
    limit = datetime.combine(months_before(on, months), time(), UTC)
    return {name: session.scalar(select(func.count()).select_from(table).where(over(limit)))
            for name, (table, over) in LOGS.items()}


def delete_old_logs(session: Session, on: date, months: int) -> dict[str, int]:
    """Delete the connection, session, audit and sync log rows older than `months` months."""
    limit = datetime.combine(months_before(on, months), time(), UTC)
    return {name: session.execute(delete(table).where(over(limit))).rowcount or 0
            for name, (table, over) in LOGS.items()}
