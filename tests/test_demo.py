"""The demonstration CCAS: loaded once, plausible, and valid against the forms."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.db import db
from outreach.demo import DEMO_USERS, load_demo
from outreach.models import Record, ReferenceItem, User

TODAY = date(2026, 11, 20)


@pytest.fixture
def demo(app):
    with app.app_context():
        made = load_demo(app.extensions["outreach.forms"], today=TODAY)
        records = list(db.session.scalars(select(Record)))
    return made, records


def test_one_account_per_role_and_a_second_load_changes_nothing(app, demo):
    made, records = demo
    assert {role for _, role, _ in made} == {
        "maraude", "visiteur", "travailleur_social", "coordinateur", "admin"
    }
    with app.app_context():
        assert load_demo(app.extensions["outreach.forms"], today=TODAY) is None
        assert db.session.query(Record).count() == len(records)
        assert db.session.query(User).count() == len(DEMO_USERS)


def test_every_record_is_valid_and_in_the_past(app, demo):
    _, records = demo
    registry = app.extensions["outreach.forms"]
    with app.app_context():
        for record in records:
            assert registry.validate(record.form, record.form_version, record.data)[1] == {}
    end = datetime.combine(TODAY + timedelta(days=1), datetime.min.time(), UTC)
    assert max(r.recorded_at for r in records) < end


def test_children_are_tied_to_parents_of_the_right_form(demo):
    _, records = demo
    forms = {r.id: r.form for r in records}
    parents = {"maraude.rencontre": "maraude.tournee", "permanence.accueil": "permanence.session"}
    for record in records:
        if record.form in parents:
            assert forms[record.parent_id] == parents[record.form]
        else:
            assert record.parent_id is None


def test_two_years_of_activity_of_plausible_size(app, demo):
    _, records = demo
    counts = Counter(r.form for r in records)
    assert 180 <= counts["maraude.tournee"] <= 320
    assert counts["maraude.rencontre"] > 500
    assert counts["permanence.session"] > 100 and counts["permanence.accueil"] > 300
    with app.app_context():
        assert db.session.query(ReferenceItem).filter_by(list_key="sites").count() == 3
    seniors = {r.data["personne"] for r in records if r.form == "visite.visite"}
    visitors = {r.recorded_by for r in records if r.form == "visite.visite"}
    assert len(seniors) == 30 and len(visitors) == 4


def test_tournee_counts_are_the_sum_of_their_rencontres(demo):
    _, records = demo
    met = Counter()
    for record in records:
        if record.form == "maraude.rencontre":
            met[record.parent_id] += record.data["nombre_personnes"]
    for record in records:
        if record.form == "maraude.tournee":
            assert record.data["nombre_personnes"] == met[record.id]
