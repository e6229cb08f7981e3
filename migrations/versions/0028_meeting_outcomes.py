"""What meetings led to: a meeting held (scanned at its table or both sides tapping "we
met"), each side's tap, rating and follow-up, the follow-up naming the agreement it ended in.

Revision ID: 0028_meeting_outcomes
Revises: 0027_meetings
Create Date: 2026-12-05 17:43:20.970112

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_meeting_outcomes'
down_revision = '0027_meetings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Enum('no_further_contact', 'in_discussion', 'negotiation_started', 'agreement_reached', name='follow_up_answer', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_meeting_follow_ups_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_follow_ups_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_meeting_follow_ups_outbox_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_meeting_follow_ups_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_follow_ups')),
    sa.UniqueConstraint('meeting_id', 'participant_id', name='uq_meeting_follow_ups_once')
    )
    with op.batch_alter_table('meeting_follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_follow_ups_agreement', ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_follow_ups_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Enum('did_not_take_place', 'insufficient_interest', 'informative', 'cooperation_possible', name='meeting_rating_answer', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_ratings_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_meeting_ratings_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_ratings')),
    sa.UniqueConstraint('meeting_id', 'participant_id', name=op.f('uq_meeting_ratings_meeting_id_participant_id'))
    )
    with op.batch_alter_table('meeting_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_ratings_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_taps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('tapped_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_taps_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_meeting_taps_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_taps')),
    sa.UniqueConstraint('meeting_id', 'participant_id', name=op.f('uq_meeting_taps_meeting_id_participant_id'))
    )
    with op.batch_alter_table('meeting_taps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_taps_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meetings_held',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('how', sa.Enum('table_scan', 'both_met', name='held_how', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('scanned_participant_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_meetings_held_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meetings_held_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scanned_participant_id'], ['participants.id'], name=op.f('fk_meetings_held_scanned_participant_id_participants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings_held')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_meetings_held_meeting_id'))
    )


def downgrade():
    op.drop_table('meetings_held')
    with op.batch_alter_table('meeting_taps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_taps_meeting_id'))

    op.drop_table('meeting_taps')
    with op.batch_alter_table('meeting_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_ratings_meeting_id'))

    op.drop_table('meeting_ratings')
    with op.batch_alter_table('meeting_follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_follow_ups_meeting_id'))
        batch_op.drop_index('ix_meeting_follow_ups_agreement')

    op.drop_table('meeting_follow_ups')
