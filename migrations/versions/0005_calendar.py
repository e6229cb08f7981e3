"""Calendars: feed link versions, iCalendar sequences, invitations in the outbox.

Revision ID: 0005_calendar
Revises: 0004_desk
Create Date: 2026-11-25 20:16:56.012755

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_calendar'
down_revision = '0004_desk'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('calendar_method', sa.String(length=10), nullable=False, server_default=''))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_uid', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_feed_version', sa.Integer(), nullable=False, server_default='1'))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('calendar_feed_version')

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('calendar_sequence')
        batch_op.drop_column('calendar_uid')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('calendar_method')
        batch_op.drop_column('calendar')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('calendar_sequence')

    with op.batch_alter_table('event_sessions', schema=None) as batch_op:
        batch_op.drop_column('calendar_sequence')

