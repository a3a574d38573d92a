"""One house with a room per feature: a new feature plugs in without touching the core.

A "distribution alimentaire" desk is written here as a feature of its own would be (its form,
its table, a receiver of the stored records, a kind of the pull), registered in the test's app
only, and followed end to end through the real push and pull.
"""

import ast
import importlib
import json
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session

from outreach.core import signals
from outreach.core.db import db
from outreach.core.forms import FORMS_DIR
from sync import sequence
from sync.push import Actor
from sync.schema import record
from tests.conftest import add_user, make_app
from tests.sync_helpers import Tablet, item

FORM = "distribution.colis"
DEFINITION = {
    "key": FORM, "version": 1, "title": "Distribution alimentaire",
    "description": "Les colis donnés à une distribution.", "roles": ["travailleur_social"],
    "fields": [
        {"key": "lieu", "label": "Lieu", "type": "text", "required": True},
        {"key": "date", "label": "Date", "type": "date", "required": True},
        {"key": "colis", "label": "Colis donnés", "type": "integer", "required": True,
         "min": 0},
    ],
}
# The desk's own table: the parcels given at each place each day, as its tablets read them.
parcels_given = Table(
    "test_parcels_given", MetaData(),
    Column("id", String(36), primary_key=True),
    Column("place", String(120)), Column("day", Date), Column("parcels", Integer),
    Column("revision", Integer), Column("change_seq", Integer, index=True),
)
DESK = uuid.UUID("0b7c2f4e-41a6-4d0b-9d53-6a2f1f0e8c11")


class FoodDesk:
    """The throwaway feature: what a package `outreach/distribution/` would hold."""

    followed: list[int] = []

    @staticmethod
    def init_app(app: Flask) -> None:
        parcels_given.create(db.engine, checkfirst=True)
        signals.records_stored.connect(FoodDesk.stored)
        signals.pull_kinds.connect(FoodDesk.kinds)

    @staticmethod
    def close() -> None:
        signals.records_stored.disconnect(FoodDesk.stored)
        signals.pull_kinds.disconnect(FoodDesk.kinds)

    @staticmethod
    def stored(session: Session, records, **_kwargs) -> None:
        """Add up again, in one query, the places and days this batch touched."""
        touched = {(row.data["lieu"], row.data["date"]) for row in records if row.form == FORM}
        FoodDesk.followed.append(len(touched))
        if not touched:
            return
        place, day = record.c.data["lieu"].as_string(), record.c.data["date"].as_string()
        totals = session.execute(
            select(place, day, func.sum(record.c.data["colis"].as_integer()))
            .where(record.c.form == FORM, record.c.deleted.is_(False))
            .where(place.in_({p for p, _ in touched}), day.in_({d for _, d in touched}))
            .group_by(place, day)).all()
        first = sequence.reserve(session, len(totals))
        for offset, (where, when, parcels) in enumerate(totals):
            ident = str(uuid.uuid5(DESK, f"{where}|{when}"))
            before = session.execute(select(parcels_given.c.revision)
                                     .where(parcels_given.c.id == ident)).scalar()
            values = {"place": where, "day": date.fromisoformat(when), "parcels": parcels,
                      "revision": (before or 0) + 1, "change_seq": first + offset}
            if before is None:
                session.execute(parcels_given.insert().values(id=ident, **values))
            else:
                session.execute(parcels_given.update().where(parcels_given.c.id == ident)
                                .values(**values))

    @staticmethod
    def kinds(_sender, **_kwargs) -> dict:
        return {"parcels": FoodDesk.parcel_changes}

    @staticmethod
    def parcel_changes(session: Session, actor: Actor, seen: int, upper: int,
                       limit: int) -> list[tuple[int, dict]]:
        rows = session.execute(
            select(parcels_given).where(parcels_given.c.change_seq > seen,
                                        parcels_given.c.change_seq <= upper)
            .order_by(parcels_given.c.change_seq).limit(limit)).all()
        return [(row.change_seq, {"id": row.id, "revision": row.revision, "data": {
            "lieu": row.place, "date": row.day.isoformat(), "colis": row.parcels}})
            for row in rows]


@pytest.fixture
def desk_app(tmp_path, migrated_database):
    forms = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, forms, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (forms / f"{FORM}.v1.json").write_text(json.dumps(DEFINITION), encoding="utf-8")
    app = make_app(tmp_path, migrated_database, FORMS_DIR=str(forms))
    FoodDesk.followed.clear()
    with app.app_context():
        FoodDesk.init_app(app)
    add_user(app, "assia", "travailleur_social")
    yield app
    FoodDesk.close()
    with app.app_context():
        parcels_given.drop(db.engine, checkfirst=True)
        db.engine.dispose()


def colis(lieu: str, colis: int, **fields) -> dict:
    return item(FORM, {"lieu": lieu, "date": "2026-11-20", "colis": colis}, **fields)


def test_a_new_feature_follows_its_records_and_adds_a_pull_kind(desk_app):
    tablet = Tablet(desk_app.test_client(), "assia")
    first, second = colis("Salle des fêtes", 3), colis("Salle des fêtes", 2)
    assert [r["status"] for r in tablet.push(first, second)] == ["created", "created"]
    assert [r["status"] for r in tablet.push(first)] == ["unchanged"]  # a replay: same totals

    page = tablet.pull()
    assert [entry["data"] for entry in page["parcels"]] == [
        {"lieu": "Salle des fêtes", "date": "2026-11-20", "colis": 5}]

    corrected = {**first, "base_revision": 1, "data": {**first["data"], "colis": 4}}
    assert [r["status"] for r in tablet.push(corrected)] == ["updated"]
    later = tablet.pull(page["cursor"])
    assert [(entry["revision"], entry["data"]["colis"]) for entry in later["parcels"]] == [(2, 6)]
    # One signal per stored batch, each with the whole batch (the replay stored nothing).
    assert FoodDesk.followed == [1, 1]


def test_without_the_feature_the_pull_carries_none_of_it(desk_app):
    tablet = Tablet(desk_app.test_client(), "assia")
    assert "parcels" in tablet.pull()
    FoodDesk.close()
    tablet.push(colis("Mairie", 1))
    assert "parcels" not in tablet.pull()
    assert FoodDesk.followed == []


def test_the_core_names_no_feature():
    # The rule import-linter checks (pyproject.toml) seen from the words: the core's modules say
    # nothing of the desk, and nothing of the features that ship either.
    core = Path(__file__).parent.parent / "outreach" / "core"
    sources = "\n".join(path.read_text() for path in core.rglob("*.py"))
    assert "distribution" not in sources
    for feature in ("maraude", "visits", "permanences", "alerts", "people", "register",
                    "figures", "fixes", "admin", "demo", "fiches"):
        assert f"outreach.{feature}" not in sources, feature


def test_a_feature_reaches_another_only_through_its_public_names():
    # `from outreach.visits import VisitAssignment`, never `from outreach.visits.models import …`
    # from another package: what a feature offers is what its __init__.py says.
    package = Path(__file__).parent.parent / "outreach"
    features = {path.parent.name for path in package.glob("*/__init__.py")} - {"core",
                                                                               "migrations"}
    public = {name: set(importlib.import_module(f"outreach.{name}").__all__) for name in features}
    assert all("init_app" in names for names in public.values())
    reached = []
    for path in package.rglob("*.py"):
        inside = path.relative_to(package).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                continue
            parts = node.module.split(".")
            if parts[0] != "outreach" or len(parts) < 2 or parts[1] not in features \
                    or parts[1] == inside:
                continue
            unknown = {alias.name for alias in node.names} - public[parts[1]]
            if len(parts) > 2 or unknown:
                reached.append(f"{path.relative_to(package)}: {node.module} {sorted(unknown)}")
    assert reached == []


def test_the_readme_layout_names_every_package():
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    layout = readme[readme.index("## Layout"):].split("```")[1]
    for package in sorted(path.parent.name for path in (root / "outreach").glob("*/__init__.py")):
        assert f"  {package}/" in layout, package
