"""Outcome confirmations: a survey answer's reported agreement confirmed as an Agreement
record by a partner manager.

Revision ID: 0014_outcome_confirmations
Revises: 0013_surveys
Create Date: 2026-12-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_outcome_confirmations'
down_revision = '0013_surveys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outcome_confirmations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                                name=op.f('fk_outcome_confirmations_agreement_id_agreements'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'],
                                name=op.f('fk_outcome_confirmations_confirmed_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'],
                                name=op.f('fk_outcome_confirmations_response_id_survey_responses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_confirmations')),
        sa.UniqueConstraint('response_id', 'agreement_id',
                            name=op.f('uq_outcome_confirmations_response_id_agreement_id')),
    )
    with op.batch_alter_table('outcome_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_confirmations_agreement_id'),
                              ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_confirmations_response_id'),
                              ['response_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outcome_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_confirmations_response_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_confirmations_agreement_id'))
    op.drop_table('outcome_confirmations')
