"""messages, attachments, staff group

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:09:36.575675
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_members',
    sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('caseworker_name', sa.String(length=100), nullable=False),
    sa.Column('mapped_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('mapped_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('telegram_user_id', name=op.f('pk_staff_members'))
    )
    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('reply_to_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('sent_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('read_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('staff_posted_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_messages_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_messages_child_id_children')),
    sa.ForeignKeyConstraint(['reply_to_id'], ['messages.id'], name=op.f('fk_messages_reply_to_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('account_id', 'client_key', name='uq_messages_client_key')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_case', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_messages_thread', ['account_id', 'child_id', 'direction', 'id'], unique=False)

    op.create_table('staff_topics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('staff_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('thread_id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_staff_topics_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_staff_topics_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_topics')),
    sa.UniqueConstraint('staff_chat_id', 'case_id', 'account_id', name='uq_staff_topics_thread'),
    sa.UniqueConstraint('staff_chat_id', 'thread_id', name='uq_staff_topics_topic')
    )
    op.create_table('message_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('telegram_file_id', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_attachments_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_attachments'))
    )
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_attachments_message_id'), ['message_id'], unique=False)

    op.create_table('staff_posts',
    sa.Column('staff_chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('staff_message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_staff_posts_message_id_messages')),
    sa.PrimaryKeyConstraint('staff_chat_id', 'staff_message_id', name=op.f('pk_staff_posts'))
    )
    with op.batch_alter_table('staff_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_posts_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('staff_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_posts_message_id'))

    op.drop_table('staff_posts')
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_attachments_message_id'))

    op.drop_table('message_attachments')
    op.drop_table('staff_topics')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_thread')
        batch_op.drop_index('ix_messages_case')

    op.drop_table('messages')
    op.drop_table('staff_members')
