"""form versions made by an admin

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:00:00

"""

import sqlalchemy as sa
from alembic import op

from sync.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"],
            name=op.f("fk_form_definition_created_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_definition")),
    )
    with op.batch_alter_table("form_definition", schema=None) as batch_op:
        batch_op.create_index("uq_form_definition_key_version", ["key", "version"], unique=True)


def downgrade():
    with op.batch_alter_table("form_definition", schema=None) as batch_op:
        batch_op.drop_index("uq_form_definition_key_version")
    op.drop_table("form_definition")
