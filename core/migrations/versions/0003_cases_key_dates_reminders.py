"""cases, key dates, reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:39:48.347218
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reminder_preferences',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('before_7', sa.Boolean(), nullable=False),
    sa.Column('before_1', sa.Boolean(), nullable=False),
    sa.Column('on_day', sa.Boolean(), nullable=False),
    sa.Column('missed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_reminder_preferences_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_reminder_preferences'))
    )
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('withdrawn_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('case_key_dates',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('party', sa.String(length=10), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('met_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_key_dates_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'key', name=op.f('pk_case_key_dates'))
    )
    with op.batch_alter_table('case_key_dates', schema=None) as batch_op:
        batch_op.create_index('ix_case_key_dates_open_due', ['open', 'due'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('send_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('done_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_reminders_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reminders_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('case_id', 'account_id', 'key', 'due', 'kind', name='uq_reminders_once')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_reminders_status_send_at', ['status', 'send_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('requestor', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('caseworker_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('caseworker_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('caseworker_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('updated_at', core.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('selected_child_id', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.drop_column('selected_child_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('caseworker_phone')
        batch_op.drop_column('caseworker_email')
        batch_op.drop_column('caseworker_name')
        batch_op.drop_column('requestor')
        batch_op.drop_column('request_date')

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_status_send_at')
        batch_op.drop_index(batch_op.f('ix_reminders_account_id'))

    op.drop_table('reminders')
    with op.batch_alter_table('case_key_dates', schema=None) as batch_op:
        batch_op.drop_index('ix_case_key_dates_open_due')

    op.drop_table('case_key_dates')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    op.drop_table('reminder_preferences')
