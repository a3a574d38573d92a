"""activity_fact: each record's author, and an index of the named records with companions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00.000000

The figures count the volunteers and agents active in a period (their records' authors), and
every person met: the companions of a named person are found through `ix_activity_fact_groups`
(few rows: a named record with more than one person). The facts are summed up again at the next
run (their watermark back to 0), so that the authors of the records already counted are known.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GROUPS = "person_id IS NOT NULL AND people > 1"


def upgrade():
    with op.batch_alter_table("activity_fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_activity_fact_groups", ["form", "day"], unique=False,
                              sqlite_where=sa.text(GROUPS), postgresql_where=sa.text(GROUPS))
    op.execute("UPDATE app_state SET value = '0' WHERE key = 'facts_seq'")


def downgrade():
    with op.batch_alter_table("activity_fact", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_fact_groups")
        batch_op.drop_column("recorded_by")
