"""activity_person_month and activity_month: the people named, and the daily totals, by month

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:45:00.000000

The seniors seen in a year, and the people met, were read from every visite and rencontre of
the period (65,000 visites a year for a large CCAS: 36 ms to find 7,200 senior×month pairs);
added up by month they are read from an index of those pairs alone (1 ms). Derived from the
facts like `activity_day`: the facts are summed up again at the next run (their watermark back
to 0), which fills it. A year's sums likewise read twelve monthly totals of each measure
(`activity_month`, made from `activity_day`) rather than 21,500 daily ones grouped anew.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activity_person_month",
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("activity_person_month", schema=None) as batch_op:
        batch_op.create_index("ix_activity_person_month_month",
                              ["form", "month", "person_id", "seen"], unique=False)
        batch_op.create_index("ix_activity_person_month_person", ["form", "person_id", "month"],
                              unique=False)
    op.create_table(
        "activity_month",
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("measure", sa.String(length=80), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("activity_month", schema=None) as batch_op:
        batch_op.create_index("ix_activity_month_month",
                              ["month", "form", "measure", "value", "n"], unique=False)
    op.execute("UPDATE app_state SET value = '0' WHERE key = 'facts_seq'")


def downgrade():
    with op.batch_alter_table("activity_month", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_month_month")
    op.drop_table("activity_month")
    with op.batch_alter_table("activity_person_month", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_person_month_person")
        batch_op.drop_index("ix_activity_person_month_month")
    op.drop_table("activity_person_month")
