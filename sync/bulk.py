"""Many rows into one table in one executemany, without SQLAlchemy's work for each value.

A push stores 500 records and, on a hard night, as many alerts. SQLAlchemy's insert runs every
value of every row through its type's processors and builds multi-row statements; here each
column that needs it is converted by one plain function, the driver gets tuples, and a record's
data that the push has already encoded (for its fingerprint) is not encoded again. Measured
in-process on 10,000 rencontres: the batch's writes went from 0.30 s to 0.17-0.19 s. The SQL is
the same on SQLite and PostgreSQL ("ON CONFLICT … DO NOTHING" is in both).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from .schema import UTCDateTime


class EncodedJSON(str):
    """A JSON document already encoded: stored as it is in a JSON column."""


def insert_rows(session: Session, table: Table, rows: list[dict],
                skip_existing: tuple[str, ...] = ()) -> int:
    """Insert rows that all have the same keys; return how many the database took.

    `skip_existing` names the columns of a unique index: a row whose values are there already
    is left out silently (and not counted), as SQLAlchemy's `on_conflict_do_nothing` would.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    names = list(rows[0])
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
           f"VALUES ({', '.join([mark] * len(names))})")
    if skip_existing:
        sql += f" ON CONFLICT ({', '.join(quote(name) for name in skip_existing)}) DO NOTHING"
    converting = [(position, convert) for position, name in enumerate(names)
                  if (convert := _converter(table.c[name].type, dialect)) is not None]
    values = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    params = []
    for row in rows:
        found = values(row)
        if converting:
            found = list(found)
            for position, convert in converting:
                found[position] = convert(found[position])
        params.append(tuple(found))
    return session.connection().exec_driver_sql(sql, params).rowcount


def _converter(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """Return what a value of this column type becomes for the driver (None: itself)."""
    if isinstance(kind, UTCDateTime):
        # A batch's rows share their time of receipt: converted once.
        return _last_remembered(_sqlite_time if dialect.name == "sqlite" else _utc_time)
    if isinstance(kind, JSON):
        return _json
    return None


def _last_remembered(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    last: list[Any] = [None, None]

    def remembered(value: Any) -> Any:
        """Convert a value, or give back the last one's result when it is the same object."""
        if value is not last[0]:
            last[:] = value, convert(value)
        return last[1]

    return remembered


def _utc_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: give it a timezone")
    return value.astimezone(UTC)


def _sqlite_time(value: datetime | None) -> str | None:
    # SQLAlchemy's own text for a SQLite DATETIME, microseconds always written: the rows it
    # writes and these compare and sort alike.
    value = _utc_time(value)
    return None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(value: Any) -> str:
    return value if type(value) is EncodedJSON else json.dumps(value)
