"""The schedule of accepted meetings: each meeting's slot and meeting point, one row per
side and slot so that nobody is booked twice (meeting_seats), the runs of "schedule all"
with what the solver reported, and how far each event's schedule is published.

Revision ID: 0027_meetings
Revises: 0026_stakeholder_invitations
Create Date: 2026-12-05 15:29:06.913099

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_meetings'
down_revision = '0026_stakeholder_invitations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('schedule_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('seconds_limit', sa.Integer(), nullable=False),
    sa.Column('placed', sa.Integer(), nullable=True),
    sa.Column('most', sa.Integer(), nullable=True),
    sa.Column('meetings_outcome', sa.String(length=20), nullable=True),
    sa.Column('idle', sa.Integer(), nullable=True),
    sa.Column('idle_bound', sa.Integer(), nullable=True),
    sa.Column('idle_outcome', sa.String(length=20), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('unplaced', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_schedule_runs_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_schedule_runs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_runs'))
    )
    with op.batch_alter_table('schedule_runs', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_runs_matchmaking_started', ['matchmaking_id', 'started_at'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('point_id', sa.Integer(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(starts_at IS NULL) = (point_id IS NULL)', name=op.f('ck_meetings_slot_with_point')),
    sa.CheckConstraint('NOT locked OR starts_at IS NOT NULL', name=op.f('ck_meetings_locked_when_placed')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_meetings_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['meeting_points.id'], name=op.f('fk_meetings_point_id_meeting_points'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['meeting_requests.id'], name=op.f('fk_meetings_request_id_meeting_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('point_id', 'starts_at', name=op.f('uq_meetings_point_id_starts_at')),
    sa.UniqueConstraint('request_id', name=op.f('uq_meetings_request_id'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_event_id'), ['event_id'], unique=False)

    op.create_table('meeting_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_seats_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_meeting_seats_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_seats')),
    sa.UniqueConstraint('participant_id', 'starts_at', name=op.f('uq_meeting_seats_participant_id_starts_at'))
    )
    with op.batch_alter_table('meeting_seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_seats_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('matchmakings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_state', sa.Enum('draft', 'preliminary', 'final', name='schedule_state', native_enum=False, create_constraint=True), server_default='draft', nullable=False))
        batch_op.add_column(sa.Column('schedule_published_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('matchmakings', schema=None) as batch_op:
        # The enum's CHECK goes first: SQLite's rebuilt table would still name the column.
        batch_op.drop_constraint(op.f('ck_matchmakings_schedule_state'), type_='check')
        batch_op.drop_column('schedule_published_at')
        batch_op.drop_column('schedule_state')

    with op.batch_alter_table('meeting_seats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_seats_meeting_id'))

    op.drop_table('meeting_seats')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_event_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('schedule_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_runs_matchmaking_started')

    op.drop_table('schedule_runs')
