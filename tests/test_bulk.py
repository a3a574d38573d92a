"""The push's own insert (sync.bulk) writes what SQLAlchemy's insert writes, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from outreach.core.db import db
from sync.bulk import EncodedJSON, insert_rows
from sync.content import canonical_json, content_hash, fingerprint_and_data
from sync.schema import record
from tests.conftest import add_user

PARIS_WINTER = timezone(timedelta(hours=1))


def record_row(ident: str, author: int, **changes) -> dict:
    row = {
        "id": ident, "form": "maraude.rencontre", "form_version": 1, "revision": 1,
        "parent_id": None, "data": {"nombre_personnes": 2, "lieu": {"label": "Gare é"}},
        "recorded_at": datetime(2025, 1, 31, 23, 30, 0, tzinfo=PARIS_WINTER),
        "received_at": datetime(2025, 2, 1, 8, 0, 0, 123456, tzinfo=UTC),
        "recorded_by": author, "revised_by": None, "device_id": None,
        "content_hash": "0" * 64, "change_seq": 7, "deleted": False,
    }
    return row | changes


def test_rows_written_by_the_bulk_insert_read_back_as_sqlalchemy_s(app):
    author = add_user(app, "bulk", "maraude")
    with app.app_context():
        db.session.execute(insert(record), [record_row("a" * 8 + "-0000-4000-8000-" + "0" * 12,
                                                       author)])
        encoded = record_row("b" * 8 + "-0000-4000-8000-" + "0" * 12, author)
        encoded["data"] = EncodedJSON(canonical_json(encoded["data"]))
        assert insert_rows(db.session, record, [encoded], skip_existing=("id",)) == 1
        db.session.commit()
        first, second = db.session.execute(select(record).order_by(record.c.id)).all()
        assert dict(first._mapping) | {"id": None} == dict(second._mapping) | {"id": None}
        assert second.recorded_at == datetime(2025, 1, 31, 22, 30, tzinfo=UTC)
        assert second.data == {"nombre_personnes": 2, "lieu": {"label": "Gare é"}}
        # In the file itself: the same time text, so that both sort and compare alike.
        stored = db.session.execute(
            text("SELECT recorded_at, received_at FROM record ORDER BY id")).all()
        assert stored[0] == stored[1]


def test_rows_already_there_are_left_out_and_not_counted(app):
    author = add_user(app, "bulk", "maraude")
    ident = "c" * 8 + "-0000-4000-8000-" + "0" * 12
    with app.app_context():
        assert insert_rows(db.session, record, [record_row(ident, author)]) == 1
        again = [record_row(ident, author, form_version=2),
                 record_row("d" * 8 + "-0000-4000-8000-" + "0" * 12, author)]
        assert insert_rows(db.session, record, again, skip_existing=("id",)) == 1
        db.session.commit()
        assert db.session.execute(
            select(record.c.form_version).where(record.c.id == ident)).scalar_one() == 1
        assert insert_rows(db.session, record, []) == 0


def test_a_time_without_a_timezone_is_refused(app):
    author = add_user(app, "bulk", "maraude")
    with app.app_context(), pytest.raises(ValueError, match="naive"):
        insert_rows(db.session, record, [record_row(
            "e" * 8 + "-0000-4000-8000-" + "0" * 12, author, recorded_at=datetime(2025, 1, 1))])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
       form=st.text(min_size=1, max_size=10), version=st.integers(1, 9),
       parent=st.none() | st.uuids().map(str), moment=st.text(max_size=12))
def test_the_fingerprint_made_with_the_data_is_the_content_hash(data, form, version, parent,
                                                                moment):
    found = {"id": "x", "form": form, "form_version": version, "parent_id": parent,
             "recorded_at": moment, "data": data, "base_revision": None}
    fingerprint, encoded = fingerprint_and_data(found)
    assert fingerprint == content_hash(found)
    assert json.loads(encoded) == data and encoded == canonical_json(data)
