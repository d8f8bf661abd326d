"""asked questions: what the knowledge base answered or declined, and "Was this helpful?"

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asked_questions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('passage_id', sa.String(length=64), nullable=True),
    sa.Column('asked_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=True),
    sa.Column('rated_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('question', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asked_questions'))
    )
    op.create_index(op.f('ix_asked_questions_asked_at'), 'asked_questions', ['asked_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_asked_questions_asked_at'), table_name='asked_questions')
    op.drop_table('asked_questions')
