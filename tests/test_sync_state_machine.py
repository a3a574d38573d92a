"""A hypothesis state machine over push, replay, edits and resolutions (issue 5).

Random sequences of: push a new record, replay one exactly as last sent, edit one on its current
revision, edit one on a stale revision, resolve an open conflict with its incoming data (or, as a
coordinateur may, keeping the current data as a new revision). A model
predicts every status; after each step the database must hold one row per id, nothing lost, the
model's revision (strictly growing) and data, and every conflict kept until it is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from outreach.core.catalog import EngineForms
from outreach.core.db import db
from sync.content import canonical_json
from sync.decisions import resolve_conflict
from sync.push import Actor
from sync.schema import quarantine, record, record_conflict, record_revision
from tests.conftest import add_user, make_app
from tests.sync_helpers import Tablet, item, rencontre


def answers(count: int, notes: str | None) -> dict:
    """Return a rencontre's data."""
    return rencontre(nombre_personnes=count, **({"notes": notes} if notes else {}))


# A small space of contents, so that an "edit" often brings back a known version (a replay).
contents = st.builds(answers, st.integers(min_value=1, max_value=4),
                     st.sampled_from([None, "abri", "soupe"]))
revisions = st.one_of(st.none(), st.integers(min_value=1, max_value=12))
# Tablets write their local offset: a resolution must hash the content as a push does.
moments = st.sampled_from([
    "2026-11-20T21:30:00+00:00", "2026-11-20T22:30:00+01:00", "2026-11-20T21:30:00Z",
    "2026-11-20T21:30:00.250000+00:00", "2026-11-20T16:30:00-05:00",
])


def key(data: dict) -> str:
    return canonical_json(data)


@dataclass
class Known:
    """What the model knows of one record."""

    revision: int
    data: dict
    last_sent: dict
    kept: set[str] = field(default_factory=set)  # every content ever kept in conflict


class SyncMachine(RuleBasedStateMachine):
    """One fresh app per example: a maraude agent's tablet and an office actor."""

    migrated_database = None
    tmp_path_factory = None
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.app = make_app(self.tmp_path_factory.mktemp("machine"), self.migrated_database)
        add_user(self.app, "agent", "maraude")
        office = add_user(self.app, "bureau", "coordinateur")
        self.office = Actor(id=office, role="coordinateur", office=True)
        self.forms = EngineForms(self.app.extensions["outreach.forms"])
        self.tablet = Tablet(self.app.test_client(), "agent")
        self.model: dict[str, Known] = {}
        self.open: set[tuple[str, str]] = set()  # (record id, content) of unresolved conflicts
        self.seen_revision: dict[str, int] = {}

    def teardown(self) -> None:
        with self.app.app_context():
            db.engine.dispose()

    # The model's prediction, then the push, then the comparison.

    def predict(self, sent: dict) -> tuple[str, int]:
        known = self.model.get(sent["id"])
        if known is None:
            self.model[sent["id"]] = Known(1, sent["data"], sent)
            return "created", 1
        known.last_sent = sent
        if sent["data"] == known.data or key(sent["data"]) in known.kept:
            return "unchanged", known.revision
        if sent["base_revision"] == known.revision:
            known.revision += 1
            known.data = sent["data"]
            return "updated", known.revision
        known.kept.add(key(sent["data"]))
        self.open.add((sent["id"], key(sent["data"])))
        return "conflict", known.revision

    def push(self, *sent: dict) -> None:
        expected = [(s["id"], *self.predict(s)) for s in sent]
        results = self.tablet.push(*sent)
        assert [(r["id"], r["status"], r["revision"]) for r in results] == expected
        assert all(r["errors"] == {} for r in results)

    # Rules.

    @rule(target=records, data=contents, recorded_at=moments)
    def push_new(self, data, recorded_at):
        sent = item(data=data, recorded_at=recorded_at)
        self.push(sent)
        return sent["id"]

    @rule(ident=records, base_revision=revisions)
    def replay(self, ident, base_revision):
        self.push({**self.model[ident].last_sent, "base_revision": base_revision})

    @precondition(lambda self: self.model)
    @rule(base_revision=revisions)
    def replay_everything_in_one_batch(self, base_revision):
        self.push(*({**known.last_sent, "base_revision": base_revision}
                    for known in self.model.values()))

    @rule(ident=records, data=contents)
    def edit_on_current_revision(self, ident, data):
        known = self.model[ident]
        self.push({**known.last_sent, "data": data, "base_revision": known.revision})

    @rule(ident=records, data=contents, choice=st.data())
    def edit_on_stale_revision(self, ident, data, choice):
        known = self.model[ident]
        stale = st.none() if known.revision == 1 else st.one_of(
            st.none(), st.integers(min_value=1, max_value=known.revision - 1))
        base_revision = choice.draw(stale, label="stale base_revision")
        self.push({**known.last_sent, "data": data, "base_revision": base_revision})

    def resolve(self, choice, keep_current: bool) -> None:
        ident, content = choice.draw(st.sampled_from(sorted(self.open)), label="conflict")
        known = self.model[ident]
        with self.app.app_context():
            unresolved = db.session.execute(
                select(record_conflict.c.id, record_conflict.c.data)
                .where(record_conflict.c.record_id == ident,
                       record_conflict.c.resolved_at.is_(None))).all()
            [(conflict_id, incoming)] = [row for row in unresolved if key(row.data) == content]
            data = known.data if keep_current else incoming
            revision, errors = resolve_conflict(db.session, self.office, conflict_id, data,
                                                self.forms)
        assert (revision, errors) == (known.revision + 1, {})
        known.revision += 1
        known.data = data
        self.open.remove((ident, content))
        # A tablet that pulled the resolution and sends it back, as it is, changes nothing.
        self.push({**known.last_sent, "data": data, "base_revision": known.revision})

    @rule(ident=records, base_revision=revisions)
    def send_the_current_version(self, ident, base_revision):
        known = self.model[ident]
        self.push({**known.last_sent, "data": known.data, "base_revision": base_revision})

    @precondition(lambda self: self.open)
    @rule(choice=st.data())
    def resolve_with_the_incoming_data(self, choice):
        self.resolve(choice, keep_current=False)

    @precondition(lambda self: self.open)
    @rule(choice=st.data())
    def resolve_keeping_the_current_data(self, choice):
        self.resolve(choice, keep_current=True)

    # Invariants, checked after every step.

    @invariant()
    def the_database_agrees_with_the_model(self):
        with self.app.app_context():
            rows = db.session.execute(select(record.c.id, record.c.revision, record.c.data)).all()
            history = dict(db.session.execute(
                select(record_revision.c.record_id, func.count())
                .group_by(record_revision.c.record_id)).all())
            conflicts = db.session.execute(
                select(record_conflict.c.record_id, record_conflict.c.data,
                       record_conflict.c.resolved_at)).all()
            rejected = db.session.scalar(select(func.count()).select_from(quarantine))
        ids = [row.id for row in rows]
        assert len(ids) == len(set(ids)), "one row per id"
        assert set(ids) == set(self.model), "no record lost, none made up"
        for row in rows:
            known = self.model[row.id]
            assert row.revision == known.revision
            assert row.revision >= self.seen_revision.get(row.id, 1), "revisions only grow"
            self.seen_revision[row.id] = row.revision
            assert row.data == known.data
            assert history.get(row.id, 0) == row.revision - 1, "every earlier revision kept"
        unresolved = [(c.record_id, key(c.data)) for c in conflicts if c.resolved_at is None]
        assert len(unresolved) == len(set(unresolved)) and set(unresolved) == self.open
        assert sorted((c.record_id, key(c.data)) for c in conflicts) == sorted(
            (ident, content) for ident, known in self.model.items() for content in known.kept
        ), "every conflict kept, resolved or not"
        assert rejected == 0


def test_push_replay_edit_and_resolve_keep_the_invariants(migrated_database, tmp_path_factory):
    machine = type("Machine", (SyncMachine,), {
        "migrated_database": migrated_database, "tmp_path_factory": tmp_path_factory})
    # Seeded: one CI run met hypothesis' FlakyStrategyDefinition (a replay drawing differently),
    # seven runs alone did not; the same 25 walks each run keep CI's answer a property of the code.
    run_state_machine_as_test(machine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, database=None, derandomize=True))
