"""accounts, onboarding and page links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:37:52.756768
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_rate_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_rate_events'))
    )
    with op.batch_alter_table('account_rate_events', schema=None) as batch_op:
        batch_op.create_index('ix_account_rate_events_at', ['at'], unique=False)
        batch_op.create_index('ix_account_rate_events_scope', ['scope', 'kind', 'at'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('forename', sa.String(length=100), nullable=False),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('house', sa.String(length=100), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=100), nullable=True),
    sa.Column('town', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_confirmed_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('password_changed_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    op.create_table('children',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('forename', sa.String(length=100), nullable=False),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    op.create_table('one_time_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('code_hmac', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('email_key', sa.String(length=64), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('wrong_tries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes')),
    sa.UniqueConstraint('purpose', 'request_key', name='uq_one_time_codes_purpose_key')
    )
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.create_index('ix_one_time_codes_expires', ['expires_at'], unique=False)

    op.create_table('page_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('opened_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('submitted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('verified_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('completed_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_links')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_page_links_token_digest'))
    )
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_links_chat_id'), ['chat_id'], unique=False)

    op.create_table('account_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('decoy', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('verified_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('completed_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_requests_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_requests')),
    sa.UniqueConstraint('purpose', 'request_key', name='uq_account_requests_purpose_key')
    )
    with op.batch_alter_table('account_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_requests_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_account_requests_expires', ['expires_at'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_reference', sa.String(length=50), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_cases_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('case_reference', name=op.f('uq_cases_case_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_child_id'), ['child_id'], unique=False)

    op.create_table('chat_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('active_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('linked_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('unlinked_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('unlink_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_chat_links_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_links')),
    sa.UniqueConstraint('active_chat_id', name=op.f('uq_chat_links_active_chat_id'))
    )
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_links_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_links_chat_id'), ['chat_id'], unique=False)

    op.create_table('password_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_password_history_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_history_account_id'), ['account_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('forename', sa.String(length=100), nullable=False),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('code_hmac', sa.String(length=64), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('bound_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('bound_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('wrong_tries', sa.Integer(), nullable=False),
    sa.Column('locked_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('verified_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('verified_by', sa.String(length=16), nullable=True),
    sa.Column('response', sa.String(length=16), nullable=True),
    sa.Column('responded_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('responded_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('token_used_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_invitations_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_invitations_child_id_children')),
    sa.ForeignKeyConstraint(['responded_account_id'], ['accounts.id'], name=op.f('fk_invitations_responded_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code_hmac', name=op.f('uq_invitations_code_hmac')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_invitations_token_digest'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_bound_chat_id'), ['bound_chat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_responded_account_id'), ['responded_account_id'], unique=False)

    op.create_table('access_grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invitation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('responded_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('activated_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('activated_by', sa.String(length=100), nullable=True),
    sa.Column('revoked_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_access_grants_account_id_accounts')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_access_grants_child_id_children')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_access_grants_invitation_id_invitations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_grants')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_access_grants_invitation_id'))
    )
    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_grants_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_access_grants_account_status', ['account_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_grants_child_id'), ['child_id'], unique=False)

    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_by', sa.String(length=64), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_chat'))
        batch_op.create_index('ix_outbox_chat_status', ['chat_id', 'status'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat_status')
        batch_op.create_index(batch_op.f('ix_outbox_chat'), ['chat_id'], unique=False)

    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_column('locked_by')

    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_grants_child_id'))
        batch_op.drop_index('ix_access_grants_account_status')
        batch_op.drop_index(batch_op.f('ix_access_grants_account_id'))

    op.drop_table('access_grants')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_responded_account_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_email'))
        batch_op.drop_index(batch_op.f('ix_invitations_child_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_case_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_bound_chat_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_history_account_id'))

    op.drop_table('password_history')
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_links_chat_id'))
        batch_op.drop_index(batch_op.f('ix_chat_links_account_id'))

    op.drop_table('chat_links')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_child_id'))

    op.drop_table('cases')
    with op.batch_alter_table('account_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_account_requests_expires')
        batch_op.drop_index(batch_op.f('ix_account_requests_account_id'))

    op.drop_table('account_requests')
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_links_chat_id'))

    op.drop_table('page_links')
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_one_time_codes_expires')

    op.drop_table('one_time_codes')
    op.drop_table('children')
    op.drop_table('accounts')
    with op.batch_alter_table('account_rate_events', schema=None) as batch_op:
        batch_op.drop_index('ix_account_rate_events_scope')
        batch_op.drop_index('ix_account_rate_events_at')

    op.drop_table('account_rate_events')
    # ### end Alembic commands ###
