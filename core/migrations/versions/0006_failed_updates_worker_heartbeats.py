"""failed updates kept for the operator; delivery workers' heartbeats

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=64), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('seen_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
    with op.batch_alter_table('inbound_updates', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('failed_at')
