"""The figures feature's tables."""


from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import db


class ActivityFact(db.Model):
    """One stored record as the figures count it: its day, person, how many people, its kind.

    A summary of `record` kept by outreach.facts (rebuilt for a record each time it changes), so
    that a year of a large CCAS is counted with indexed columns instead of reading JSON.
    `day` is the CCAS's local day of the activity (a rencontre takes its tournée's date, so a
    tournée past midnight stays one evening); `until` is a registration's withdrawal. `people`
    counts the named person too: a named record's companions are `people - 1`.
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
    # Whose record it is: the volunteers and agents active in a period (migration 0013).
    recorded_by: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # With the outcome: the seniors seen in a period are read from the index alone.
        Index("ix_activity_fact_form_day", "form", "day", "person_id", "outcome"),
        # Who recorded something in a period: a probe per account.
        Index("ix_activity_fact_author", "recorded_by", "day", "form"),
        # A named person met with others: their companions are counted like anonymous people
        # (read from the index alone).
        Index("ix_activity_fact_groups", "form", "day", "person_id", "people", "women", "men",
              "outcome",
              sqlite_where=text("person_id IS NOT NULL AND people > 1"),
              postgresql_where=text("person_id IS NOT NULL AND people > 1")),
        # The people named: who was met in a period, and whether they were met before it.
        Index("ix_activity_fact_named", "form", "person_id", "day", "outcome",
              sqlite_where=text("person_id IS NOT NULL"),
              postgresql_where=text("person_id IS NOT NULL")),
    )


class ActivityChoice(db.Model):
    """One value chosen in a multiple-choice field of a record (a prestation, a need, a motif).

    No key of its own in the database (a record's values are distinct, and nothing refers to a
    row): the first build writes hundreds of thousands of them (migration 0012).
    """

    __tablename__ = "activity_choice"

    record_id: Mapped[str] = mapped_column(String(36), index=True)
    form: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    weight: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_activity_choice_form_day", "form", "day", "field", "value"),)
    __mapper_args__ = {"primary_key": ["record_id", "field", "value"]}


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


class ActivityPersonMonth(db.Model):
    """The people named in a form's records, month by month: who was met or visited when.

    `month` is YYYY-MM of the facts' local days; `records` how many of their records that
    month, `seen` how many visites saw them (the person was there). Added up again from the
    facts for the months whose facts changed, like `activity_day`: the seniors seen in a year
    are a few thousand rows here, against tens of thousands of visites (migration 0014).
    No key of its own in the database, like `activity_choice`.
    """

    __tablename__ = "activity_person_month"

    form: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    person_id: Mapped[str] = mapped_column(String(36))
    records: Mapped[int] = mapped_column(Integer)
    seen: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The months of a period, read from the index alone.
        Index("ix_activity_person_month_month", "form", "month", "person_id", "seen"),
        # Each person once: who was met in a period.
        Index("ix_activity_person_month_person", "form", "person_id", "month"),
    )
    __mapper_args__ = {"primary_key": ["form", "month", "person_id"]}


class ActivityMonth(db.Model):
    """The daily totals added up by month: what a year's sums read (twelve rows a measure).

    Made from `activity_day` for the months whose days changed (migration 0014); a period's
    days outside its whole months are summed from `activity_day` itself.
    """

    __tablename__ = "activity_month"

    form: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    measure: Mapped[str] = mapped_column(String(80))
    value: Mapped[str] = mapped_column(String(200))
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_activity_month_month", "month", "form", "measure", "value", "n"),
    )
    __mapper_args__ = {"primary_key": ["form", "month", "measure", "value"]}
