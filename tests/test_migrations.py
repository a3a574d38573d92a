"""Migrations of tables that already hold rows keep them, both ways, on both engines."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from outreach.core.db import MIGRATIONS, db

CHOICE = ("INSERT INTO activity_choice (record_id, form, field, value, day, weight) "
          "VALUES ('r1', 'maraude.rencontre', 'prestations', 'repas', '2026-01-02', 2)")
COLUMNS = "SELECT record_id, form, field, value, weight FROM activity_choice"


def migrate(step, revision: str) -> None:
    db.session.remove()  # PostgreSQL: no open transaction may hold the tables being moved
    step(directory=MIGRATIONS, revision=revision)


def test_the_choices_lose_their_surrogate_id_and_keep_their_rows(app):
    with app.app_context():
        migrate(downgrade, "0011")
        db.session.execute(text(CHOICE))
        db.session.commit()
        migrate(upgrade, "0012")
        assert db.session.execute(text(COLUMNS)).all() == [
            ("r1", "maraude.rencontre", "prestations", "repas", 2)]
        columns = db.session.execute(text("SELECT * FROM activity_choice")).keys()
        assert "id" not in columns
        migrate(downgrade, "0011")
        assert db.session.execute(text("SELECT id FROM activity_choice")).scalars().all() \
            == [1]
        migrate(upgrade, "head")
        assert db.session.execute(text(COLUMNS)).all() == [
            ("r1", "maraude.rencontre", "prestations", "repas", 2)]
