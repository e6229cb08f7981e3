"""Reminder skips: why a reminder was not sent (its event had started, or a later
reminder of the same registration superseded it), for the admins' page. Reminders
skipped before this revision were skipped as late, under the earlier rule.

Revision ID: 0016_reminder_skips
Revises: 0015_worker_heartbeats
Create Date: 2026-12-10 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_reminder_skips'
down_revision = '0015_worker_heartbeats'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'skip_reason',
            sa.Enum('started', 'superseded', 'late', name='reminder_skip', native_enum=False,
                    create_constraint=True, length=10),
            nullable=True))
    op.execute("UPDATE reminder_deliveries SET skip_reason = 'late' WHERE status = 'skipped'")


def downgrade():
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reminder_deliveries_reminder_skip'), type_='check')
        batch_op.drop_column('skip_reason')
