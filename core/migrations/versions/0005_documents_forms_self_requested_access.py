"""documents, forms, self-requested access

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 01:46:31.933800
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('published_by', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('telegram_file_id', sa.String(length=200), nullable=True),
    sa.Column('withdrawn_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=100), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_documents_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_documents_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_case', ['case_id', 'withdrawn_at', 'id'], unique=False)

    op.create_table('form_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('form_id', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.Column('assigned_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_form_assignments_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_form_assignments_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_form_assignments_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_assignments'))
    )
    with op.batch_alter_table('form_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_form_assignments_case', ['case_id', 'withdrawn_at'], unique=False)

    op.create_table('document_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('delivered_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_document_deliveries_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_deliveries_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_deliveries'))
    )
    with op.batch_alter_table('document_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_document_deliveries_account', ['account_id', 'document_id'], unique=False)

    op.create_table('form_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('form_id', sa.String(length=60), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('child_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('position', sa.String(length=60), nullable=False),
    sa.Column('from_review', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_form_responses_account_id_accounts')),
    sa.ForeignKeyConstraint(['assignment_id'], ['form_assignments.id'], name=op.f('fk_form_responses_assignment_id_form_assignments')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_form_responses_case_id_cases')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_form_responses_child_id_children')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_form_responses_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_responses')),
    sa.UniqueConstraint('assignment_id', 'account_id', name='uq_form_responses_assignment')
    )
    with op.batch_alter_table('form_responses', schema=None) as batch_op:
        batch_op.create_index('ix_form_responses_account', ['account_id', 'status'], unique=False)
        batch_op.create_index('ix_form_responses_submitted', ['status', 'submitted_at'], unique=False)

    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.alter_column('invitation_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.alter_column('invitation_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=False)

    with op.batch_alter_table('form_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_form_responses_submitted')
        batch_op.drop_index('ix_form_responses_account')

    op.drop_table('form_responses')
    with op.batch_alter_table('document_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_document_deliveries_account')

    op.drop_table('document_deliveries')
    with op.batch_alter_table('form_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_form_assignments_case')

    op.drop_table('form_assignments')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_case')

    op.drop_table('documents')
