"""The register feature's tables."""


from __future__ import annotations

from datetime import date, datetime

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.db import db
from outreach.core.models import User
from sync.schema import UTCDateTime, utcnow


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
