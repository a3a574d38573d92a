"""activity_fact: each record's author, and an index of the named records with companions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00.000000

The figures count the volunteers and agents active in a period (their records' authors, found
by one probe of `ix_activity_fact_author` per account), and
every person met: the companions of a named person are found through `ix_activity_fact_groups`
(few rows: a named record with more than one person), and the seniors seen in a period through
`ix_activity_fact_form_day`, which now holds the outcome: both read from the index alone. The
facts are summed up again at the next run (their watermark back to 0), so that the authors of
the records already counted are known.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GROUPS = "person_id IS NOT NULL AND people > 1"
GROUP_COLUMNS = ["form", "day", "person_id", "people", "women", "men", "outcome"]


def upgrade():
    with op.batch_alter_table("activity_fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_activity_fact_author", ["recorded_by", "day", "form"],
                              unique=False)
        batch_op.create_index("ix_activity_fact_groups", GROUP_COLUMNS, unique=False,
                              sqlite_where=sa.text(GROUPS), postgresql_where=sa.text(GROUPS))
        batch_op.drop_index("ix_activity_fact_form_day")
        batch_op.create_index("ix_activity_fact_form_day", ["form", "day", "person_id", "outcome"],
                              unique=False)
    op.execute("UPDATE app_state SET value = '0' WHERE key = 'facts_seq'")


def downgrade():
    with op.batch_alter_table("activity_fact", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_fact_form_day")
        batch_op.create_index("ix_activity_fact_form_day", ["form", "day", "person_id"],
                              unique=False)
        batch_op.drop_index("ix_activity_fact_groups")
        batch_op.drop_index("ix_activity_fact_author")
        batch_op.drop_column("recorded_by")
