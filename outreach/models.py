"""The tables of the central database."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync import schema
from sync.schema import UTCDateTime, utcnow

from .db import db


class User(UserMixin, db.Model):
    """A person who logs in: an agent, a volunteer, a social worker, a coordinateur or an admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No longer read: sessions live in login_session (outreach.sessions). Kept so that an
    # upgraded database needs no rebuild of the accounts table.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_active(self) -> bool:
        """Tell Flask-Login whether the account may hold a session."""
        return self.active

    def get_id(self) -> str:
        """Return the identity Flask-Login keeps; the session row decides whether it holds."""
        return str(self.id)


class LoginSession(db.Model):
    """One login: the cookie carries only its random key, the row says whether it still holds.

    Revoked on logout, a new password, a disabled account, a changed role and a lost tablet;
    `token_hash` is the key's SHA-256, so a copy of the database opens no session.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(36), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(64))


class Record(db.Model):
    """One filled form: a rencontre, a visite, an accueil… at its current revision."""

    __table__ = schema.record

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[schema.record.c.recorded_by])


class ReferenceItem(db.Model):
    """One entry of a reference list a form's choices come from (sites, lieux…)."""

    __tablename__ = "reference_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_reference_item_list_value", "list_key", "value", unique=True),)


class LoginAttempt(db.Model):
    """One login attempt, kept for throttling and as the connection log (one year)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempt_login_at", "login", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )


class AuditEvent(db.Model):
    """Who did what to which record or account, and when; never the personal data itself."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(80), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # From which tablet (X-Outreach-Device, else the session's) and which login session.
    device_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[int | None] = mapped_column(Integer)


class AppState(db.Model):
    """A small key-value store for facts about this installation (demo loaded, and so on)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def take_watermark(session, key: str) -> int:
    """Lock a "done up to" mark of the server sequence and return it (0 the first time).

    Taking the row first makes two runs of the same follower wait for each other (SQLite and
    PostgreSQL alike); the caller moves the mark and commits.
    """
    locked = session.execute(
        update(AppState).where(AppState.key == key).values(value=AppState.value)
    ).rowcount
    if not locked:
        session.add(AppState(key=key, value="0"))
        session.flush()
    return int(session.get(AppState, key).value)


class VisitAssignment(db.Model):
    """A senior given to a visiteur, with a rhythm: what "Mes visites" and the planning show.

    A senior may have several visiteurs (one row each). `next_due` and `last_visit_id` follow the
    visites as they sync (outreach.follow); `change_seq` is the server sequence of the last change,
    so the pull sends an assignment again when it moved.
    """

    __tablename__ = "visit_assignment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    visiteur_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    rhythm: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date] = mapped_column(Date)
    next_due: Mapped[date] = mapped_column(Date)
    last_visit_id: Mapped[str | None] = mapped_column(String(36))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    visiteur: Mapped[User] = relationship(foreign_keys=[visiteur_id], lazy="joined")


class Alert(db.Model):
    """An alert raised by a record from the field (a fall at a visite, an urgent rencontre…).

    One per record and kind, whatever path stored the record; followed from "nouvelle" to
    "prise en charge" to "close" by the coordinateur, and sent back to whoever raised it.
    """

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="nouvelle", index=True)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    raiser: Mapped[User] = relationship(foreign_keys=[raised_by], lazy="joined")
    taker: Mapped[User | None] = relationship(foreign_keys=[taken_by], lazy="joined")
    closer: Mapped[User | None] = relationship(foreign_keys=[closed_by], lazy="joined")

    __table_args__ = (Index("uq_alert_record_kind", "record_id", "kind", unique=True),)


class AccessChange(db.Model):
    """A person this user started or stopped seeing (an assignment made or ended, a merge).

    The pull resends such a person, or a tombstone when it is no longer theirs.
    """

    __tablename__ = "access_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[str] = mapped_column(String(36))
    change_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_access_change_user_seq", "user_id", "change_seq"),)


class PersonMerge(db.Model):
    """Two files of one person made one: what moved, so that the merge can be undone."""

    __tablename__ = "person_merge"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kept_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    # Ids only: the records, assignments and alerts that pointed at the merged file.
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    merged_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlannedSession(db.Model):
    """A permanence délocalisée planned in the calendar: site, day, hours, travailleur social.

    It appears on their tablet; the session itself is recorded there when it is held.
    """

    __tablename__ = "planned_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str | None] = mapped_column(String(5))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id], lazy="joined")


class FormVersion(db.Model):
    """A version of a form an admin made at /admin/formulaires (shipped versions are files).

    Rows are never changed nor deleted: records made with a version are read with it for ever.
    """

    __tablename__ = "form_definition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (Index("uq_form_definition_key_version", "key", "version", unique=True),)


class AlertPlan(db.Model):
    """A plan canicule, grand froid or other the préfet triggered: the calls it gives out.

    Open while `closed_at` is empty; closing it keeps `figures` (counts only, no names) as they
    stood, so last summer's plan still reads the same when the register has changed since.
    """

    __tablename__ = "alert_plan"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    sharing: Mapped[str] = mapped_column(String(16))
    with_visited: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    figures: Mapped[dict | None] = mapped_column(JSON)
    # A long episode is called in series (each person again, the next day): the one in progress.
    series: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    series_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    opener: Mapped[User] = relationship(foreign_keys=[opened_by], lazy="joined")
    closer: Mapped[User | None] = relationship(foreign_keys=[closed_by], lazy="joined")


class CallTask(db.Model):
    """One person to call during a plan, given to one agent: where the calls stand.

    The person is a registration (`entry_id`) or a senior of the visit planning (`person_id`,
    also set when a registration is tied to a person file). `status` and the rest follow the
    call outcomes (`plan.appel` records) as they sync (outreach.plans.call_recorded).
    """

    __tablename__ = "call_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("alert_plan.id"), index=True)
    series: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    entry_id: Mapped[str | None] = mapped_column(String(36))
    person_id: Mapped[str | None] = mapped_column(String(36))
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    secteur: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(24), default="a_appeler")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    needs: Mapped[list] = mapped_column(JSON, default=list)
    need_detail: Mapped[str | None] = mapped_column(Text)
    last_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_id: Mapped[str | None] = mapped_column(String(36))
    action_done_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    action_note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
    action_taker: Mapped[User | None] = relationship(foreign_keys=[action_done_by], lazy="joined")


class CallRelease(db.Model):
    """A call task taken from an agent (given to another): their tablet forgets it at next pull."""

    __tablename__ = "call_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("call_task.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    change_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_call_release_agent_seq", "agent_id", "change_seq"),)


class ActivityFact(db.Model):
    """One stored record as the figures count it: its day, person, how many people, its kind.

    A summary of `record` kept by outreach.facts (rebuilt for a record each time it changes), so
    that a year of a large CCAS is counted with indexed columns instead of reading JSON.
    `day` is the CCAS's local day of the activity (a rencontre takes its tournée's date, so a
    tournée past midnight stays one evening); `until` is a registration's withdrawal.
    """

    __tablename__ = "activity_fact"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    form: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    person_id: Mapped[str | None] = mapped_column(String(36))
    people: Mapped[int] = mapped_column(Integer, default=1)
    women: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    flag: Mapped[bool] = mapped_column(Boolean, default=False)
    until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_activity_fact_form_day", "form", "day", "person_id"),
        # The people named: who was met in a period, and whether they were met before it.
        Index("ix_activity_fact_named", "form", "person_id", "day", "outcome",
              sqlite_where=text("person_id IS NOT NULL"),
              postgresql_where=text("person_id IS NOT NULL")),
    )


class ActivityChoice(db.Model):
    """One value chosen in a multiple-choice field of a record (a prestation, a need, a motif)."""

    __tablename__ = "activity_choice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    form: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    weight: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_activity_choice_form_day", "form", "day", "field", "value"),)


class ActivityDay(db.Model):
    """The facts added up by form, day and measure: what most figures sum over a period.

    `measure` is what is counted (records, anonymous people, a kind, an outcome, a choice…) and
    `value` which one; `n` the total that day. Rebuilt for the days whose facts changed.
    """

    __tablename__ = "activity_day"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(80))
    value: Mapped[str] = mapped_column(String(200))
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_activity_day_day_form", "day", "form", "measure", "value", "n"),)
