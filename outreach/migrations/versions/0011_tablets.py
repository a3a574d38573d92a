"""tablets and their escrow keys

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from sync.schema import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tablet",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sync_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("waiting", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_agent", sa.String(length=120), nullable=True),
        sa.Column("lost_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_tablet_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["lost_by"], ["user_account.id"], name=op.f("fk_tablet_lost_by_user_account")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_tablet")),
    )
    with op.batch_alter_table("tablet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tablet_last_seen_at"), ["last_seen_at"], unique=False)
    op.create_table(
        "tablet_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["tablet.device_id"], name=op.f("fk_tablet_key_device_id_tablet")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_tablet_key_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tablet_key")),
    )
    with op.batch_alter_table("tablet_key", schema=None) as batch_op:
        batch_op.create_index("uq_tablet_key_device_user", ["device_id", "user_id"], unique=True)


def downgrade():
    op.drop_table("tablet_key")
    with op.batch_alter_table("tablet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tablet_last_seen_at"))
    op.drop_table("tablet")
