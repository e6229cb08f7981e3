"""Badges and check-in: a badge code per registration, attendances, badge batches.

Revision ID: 0006_badges
Revises: 0005_calendar
Create Date: 2026-12-01 06:54:12.944621

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_badges'
down_revision = '0005_calendar'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('badge_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.Enum('a6', 'a4', name='badge_format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='batch_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_badge_batches_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_badge_batches_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_badge_batches_requested_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_batches'))
    )
    with op.batch_alter_table('badge_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_batches_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_badge_batches_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_attendances_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_attendances_registration_id_registrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_sessions.id'], name=op.f('fk_attendances_session_id_event_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_session_id'), ['session_id'], unique=False)
        batch_op.create_index('uq_attendances_event', ['registration_id'], unique=True, sqlite_where=sa.text('session_id IS NULL'), postgresql_where=sa.text('session_id IS NULL'))
        batch_op.create_index('uq_attendances_session', ['registration_id', 'session_id'], unique=True, sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('badge_code', sa.String(length=16), nullable=True))

    # Existing registrations get their codes here: the same shape as the model's default
    # (15 random symbols of Crockford's base 32 and a check symbol), written out so the
    # migration does not import application code.
    registrations = sa.table('registrations', sa.column('id', sa.Integer),
                             sa.column('badge_code', sa.String))
    connection = op.get_bind()
    for (registration_id,) in connection.execute(sa.select(registrations.c.id)).all():
        connection.execute(registrations.update()
                           .where(registrations.c.id == registration_id)
                           .values(badge_code=_badge_code()))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.alter_column('badge_code', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_registrations_badge_code'), ['badge_code'])



_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _badge_code() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(15))
    check = sum((i + 1) * _ALPHABET.index(c) for i, c in enumerate(body)) % 31
    return body + _ALPHABET[check]


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registrations_badge_code'), type_='unique')
        batch_op.drop_column('badge_code')

    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index('uq_attendances_session', sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))
        batch_op.drop_index('uq_attendances_event', sqlite_where=sa.text('session_id IS NULL'), postgresql_where=sa.text('session_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_attendances_session_id'))
        batch_op.drop_index(batch_op.f('ix_attendances_registration_id'))

    op.drop_table('attendances')
    with op.batch_alter_table('badge_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_batches_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_badge_batches_event_id'))

    op.drop_table('badge_batches')
