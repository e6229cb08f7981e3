"""Join links: a personal join token per registration, an event's recording link, and
attendances recorded by a join link as well as at the door.

Revision ID: 0007_join_links
Revises: 0006_badges
Create Date: 2026-12-01 08:02:23.098276

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_join_links'
down_revision = '0006_badges'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Enum('check_in', 'join_link', name='attendance_source', native_enum=False, create_constraint=True), nullable=False, server_default='check_in'))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_url', sa.String(length=500), nullable=False, server_default=''))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_token', sa.String(length=64), nullable=True))

    # Existing registrations get their tokens here: the same shape as the model's default
    # (32 random bytes, URL-safe base 64), written out so the migration does not import
    # application code.
    registrations = sa.table('registrations', sa.column('id', sa.Integer),
                             sa.column('join_token', sa.String))
    connection = op.get_bind()
    for (registration_id,) in connection.execute(sa.select(registrations.c.id)).all():
        connection.execute(registrations.update()
                           .where(registrations.c.id == registration_id)
                           .values(join_token=secrets.token_urlsafe(32)))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.alter_column('join_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_registrations_join_token'), ['join_token'])


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registrations_join_token'), type_='unique')
        batch_op.drop_column('join_token')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('recording_url')

    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attendances_attendance_source'), type_='check')
        batch_op.drop_column('source')
