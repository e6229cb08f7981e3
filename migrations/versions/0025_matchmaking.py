"""Matchmaking: an event's settings (meeting blocks and points, the request window and
mode, participant and opportunity types, the matrix of who may ask whom), the
participants who opted in with their opportunities, and the meeting requests, of which a
pair has at most one open at a time (a partial unique index, on SQLite and PostgreSQL).

Revision ID: 0025_matchmaking
Revises: 0024_sort_keys
Create Date: 2026-12-05 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_matchmaking'
down_revision = '0024_sort_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('matchmakings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('requests_open_at', sa.DateTime(), nullable=True),
    sa.Column('requests_close_at', sa.DateTime(), nullable=True),
    sa.Column('meeting_minutes', sa.Integer(), nullable=False),
    sa.Column('break_minutes', sa.Integer(), nullable=False),
    sa.Column('request_mode', sa.Enum('receiver_accepts', 'instant', name='request_mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('request_expiry_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('break_minutes >= 0', name=op.f('ck_matchmakings_break_minutes_not_negative')),
    sa.CheckConstraint('meeting_minutes > 0', name=op.f('ck_matchmakings_meeting_minutes_positive')),
    sa.CheckConstraint('request_expiry_hours > 0', name=op.f('ck_matchmakings_request_expiry_positive')),
    sa.CheckConstraint('requests_close_at IS NULL OR requests_open_at IS NULL OR requests_close_at > requests_open_at', name=op.f('ck_matchmakings_window_in_order')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_matchmakings_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matchmakings')),
    sa.UniqueConstraint('event_id', name=op.f('uq_matchmakings_event_id'))
    )
    op.create_table('meeting_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meeting_blocks_ends_after_start')),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_meeting_blocks_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_blocks'))
    )
    with op.batch_alter_table('meeting_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_blocks_matchmaking_id'), ['matchmaking_id'], unique=False)

    op.create_table('meeting_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('table', 'booth', 'online', name='meeting_point_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_meeting_points_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_points')),
    sa.UniqueConstraint('matchmaking_id', 'name', name=op.f('uq_meeting_points_matchmaking_id_name'))
    )
    with op.batch_alter_table('meeting_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_points_matchmaking_id'), ['matchmaking_id'], unique=False)

    op.create_table('opportunity_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_opportunity_types_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_types')),
    sa.UniqueConstraint('matchmaking_id', 'key', name=op.f('uq_opportunity_types_matchmaking_id_key'))
    )
    with op.batch_alter_table('opportunity_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_types_matchmaking_id'), ['matchmaking_id'], unique=False)

    op.create_table('participant_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_participant_types_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_types')),
    sa.UniqueConstraint('matchmaking_id', 'key', name=op.f('uq_participant_types_matchmaking_id_key'))
    )
    with op.batch_alter_table('participant_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_types_matchmaking_id'), ['matchmaking_id'], unique=False)

    op.create_table('request_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matchmaking_id', sa.Integer(), nullable=False),
    sa.Column('requester_type_id', sa.Integer(), nullable=False),
    sa.Column('receiver_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['matchmaking_id'], ['matchmakings.id'], name=op.f('fk_request_rules_matchmaking_id_matchmakings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiver_type_id'], ['participant_types.id'], name=op.f('fk_request_rules_receiver_type_id_participant_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_type_id'], ['participant_types.id'], name=op.f('fk_request_rules_requester_type_id_participant_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_rules')),
    sa.UniqueConstraint('requester_type_id', 'receiver_type_id', name=op.f('uq_request_rules_requester_type_id_receiver_type_id'))
    )
    with op.batch_alter_table('request_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_rules_matchmaking_id'), ['matchmaking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_rules_receiver_type_id'), ['receiver_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_rules_requester_type_id'), ['requester_type_id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('participant_type_id', sa.Integer(), nullable=False),
    sa.Column('consent_given_at', sa.DateTime(), nullable=True),
    sa.Column('consent_version', sa.String(length=20), nullable=True),
    sa.Column('consent_withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('sectors', sa.Text(), nullable=False),
    sa.Column('technologies', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_participants_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_type_id'], ['participant_types.id'], name=op.f('fk_participants_participant_type_id_participant_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_participants_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_participants_registration_id'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participants_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participants_participant_type_id'), ['participant_type_id'], unique=False)

    op.create_table('meeting_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('receiver_id', sa.Integer(), nullable=False),
    sa.Column('pair_low', sa.Integer(), nullable=False),
    sa.Column('pair_high', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('preferred_slots', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'accepted', 'declined', 'expired', 'cancelled', name='meeting_request_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=True),
    sa.Column('cancelled_by_participant_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_by_user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('pair_low < pair_high', name=op.f('ck_meeting_requests_pair_in_order')),
    sa.CheckConstraint('requester_id <> receiver_id', name=op.f('ck_meeting_requests_not_to_oneself')),
    sa.ForeignKeyConstraint(['cancelled_by_participant_id'], ['participants.id'], name=op.f('fk_meeting_requests_cancelled_by_participant_id_participants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cancelled_by_user_id'], ['users.id'], name=op.f('fk_meeting_requests_cancelled_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_meeting_requests_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiver_id'], ['participants.id'], name=op.f('fk_meeting_requests_receiver_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['participants.id'], name=op.f('fk_meeting_requests_requester_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_requests'))
    )
    with op.batch_alter_table('meeting_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_requests_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_requests_receiver_id'), ['receiver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('ix_meeting_requests_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('uq_meeting_requests_open_pair', ['pair_low', 'pair_high'], unique=True, sqlite_where=sa.text("status IN ('requested', 'accepted')"), postgresql_where=sa.text("status IN ('requested', 'accepted')"))

    op.create_table('opportunities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_type_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_type_id'], ['opportunity_types.id'], name=op.f('fk_opportunities_opportunity_type_id_opportunity_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_opportunities_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities_opportunity_type_id'), ['opportunity_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_participant_id'), ['participant_id'], unique=False)

    op.create_table('unavailable_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_unavailable_slots_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unavailable_slots')),
    sa.UniqueConstraint('participant_id', 'starts_at', name=op.f('uq_unavailable_slots_participant_id_starts_at'))
    )
    with op.batch_alter_table('unavailable_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unavailable_slots_participant_id'), ['participant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('unavailable_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unavailable_slots_participant_id'))

    op.drop_table('unavailable_slots')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunities_participant_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_opportunity_type_id'))

    op.drop_table('opportunities')
    with op.batch_alter_table('meeting_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_meeting_requests_open_pair', sqlite_where=sa.text("status IN ('requested', 'accepted')"), postgresql_where=sa.text("status IN ('requested', 'accepted')"))
        batch_op.drop_index('ix_meeting_requests_status_expires')
        batch_op.drop_index(batch_op.f('ix_meeting_requests_requester_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_requests_receiver_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_requests_event_id'))

    op.drop_table('meeting_requests')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participants_participant_type_id'))
        batch_op.drop_index(batch_op.f('ix_participants_event_id'))

    op.drop_table('participants')
    with op.batch_alter_table('request_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_rules_requester_type_id'))
        batch_op.drop_index(batch_op.f('ix_request_rules_receiver_type_id'))
        batch_op.drop_index(batch_op.f('ix_request_rules_matchmaking_id'))

    op.drop_table('request_rules')
    with op.batch_alter_table('participant_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_types_matchmaking_id'))

    op.drop_table('participant_types')
    with op.batch_alter_table('opportunity_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_types_matchmaking_id'))

    op.drop_table('opportunity_types')
    with op.batch_alter_table('meeting_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_points_matchmaking_id'))

    op.drop_table('meeting_points')
    with op.batch_alter_table('meeting_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_blocks_matchmaking_id'))

    op.drop_table('meeting_blocks')
    op.drop_table('matchmakings')
