"""leader leases: the one process that runs the daily jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leader_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('acquired_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leader_leases'))
    )


def downgrade() -> None:
    op.drop_table('leader_leases')
