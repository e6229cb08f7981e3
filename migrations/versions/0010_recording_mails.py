"""Recording mails: when an event's registrants were told of its recording.

Revision ID: 0010_recording_mails
Revises: 0009_quick_registration
Create Date: 2026-12-01 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_recording_mails'
down_revision = '0009_quick_registration'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_mailed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('recording_mailed_at')
