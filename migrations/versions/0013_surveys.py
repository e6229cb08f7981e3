"""Follow-up surveys: one invitation per attended delegate and round, and the answers.

Revision ID: 0013_surveys
Revises: 0012_agreements
Create Date: 2026-12-01 11:25:12

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_surveys'
down_revision = '0012_agreements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Enum('first', 'six_months', name='survey_round', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('remind_at', sa.DateTime(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('reminder_skipped', sa.Boolean(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_survey_invitations_outbox_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_survey_invitations_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('registration_id', 'round', name='uq_survey_invitations_once')
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_remind_at'), ['remind_at'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('b2b_meetings', sa.Integer(), nullable=False),
    sa.Column('leads', sa.Integer(), nullable=False),
    sa.Column('agreements_in_negotiation', sa.Integer(), nullable=False),
    sa.Column('agreements_signed', sa.Integer(), nullable=False),
    sa.Column('agreement_parties', sa.String(length=500), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('agreements_in_negotiation BETWEEN 0 AND 100', name=op.f('ck_survey_responses_agreements_in_negotiation_bounded')),
    sa.CheckConstraint('agreements_signed BETWEEN 0 AND 100', name=op.f('ck_survey_responses_agreements_signed_bounded')),
    sa.CheckConstraint('b2b_meetings BETWEEN 0 AND 500', name=op.f('ck_survey_responses_b2b_meetings_bounded')),
    sa.CheckConstraint('leads BETWEEN 0 AND 1000', name=op.f('ck_survey_responses_leads_bounded')),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_survey_responses_satisfaction_1_to_5')),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_survey_responses_invitation_id'))
    )


def downgrade():
    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitations_remind_at'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_registration_id'))

    op.drop_table('survey_invitations')
