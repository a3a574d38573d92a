"""activity_choice without its surrogate id

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:30:00.000000

The table is derived from the records (the figures' summary): nothing refers to its rows by id,
and the serial key cost a sequence call and a B-tree insert for each of the ~950,000 choices of
a large CCAS's first build (PostgreSQL: 5.2 s against 2.4 s without, for as many rows).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "record_id, form, field, value, day, weight"


def _table(name, with_id):
    op.create_table(
        name,
        *([sa.Column("id", sa.Integer(), nullable=False),
           sa.PrimaryKeyConstraint("id", name=f"pk_{name}")] if with_id else []),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
    )


def _move(with_id):
    # Made anew beside the old one, filled, then put in its place: the same steps on SQLite,
    # which cannot drop a primary key in place, and on PostgreSQL.
    _table("activity_choice_new", with_id)
    op.execute(f"INSERT INTO activity_choice_new ({COLUMNS}) "
               f"SELECT {COLUMNS} FROM activity_choice")
    op.drop_table("activity_choice")
    op.rename_table("activity_choice_new", "activity_choice")
    if with_id and op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE activity_choice RENAME CONSTRAINT pk_activity_choice_new "
                   "TO pk_activity_choice")
    op.create_index("ix_activity_choice_form_day", "activity_choice",
                    ["form", "day", "field", "value"], unique=False)
    op.create_index("ix_activity_choice_record_id", "activity_choice", ["record_id"],
                    unique=False)


def upgrade():
    _move(with_id=False)


def downgrade():
    _move(with_id=True)
