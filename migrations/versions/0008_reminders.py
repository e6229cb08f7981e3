"""Reminders: the offsets of each event's reminders, and one row per reminder claimed,
sent or skipped.

Revision ID: 0008_reminders
Revises: 0007_join_links
Create Date: 2026-12-01 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_reminders'
down_revision = '0007_join_links'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_offsets', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[1440, 60]'")))

    op.create_table(
        'reminder_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('offset_minutes', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.Enum('claimed', 'sent', 'skipped', name='reminder_status',
                                    native_enum=False, create_constraint=True, length=7),
                  nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('outbox_message_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'],
                                name=op.f('fk_reminder_deliveries_outbox_message_id_outbox_messages'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'],
                                name=op.f('fk_reminder_deliveries_registration_id_registrations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
        sa.UniqueConstraint('registration_id', 'offset_minutes', 'due_at',
                            name='uq_reminder_deliveries_once'),
    )
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_deliveries_registration_id'),
                              ['registration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_deliveries_registration_id'))
    op.drop_table('reminder_deliveries')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('reminder_offsets')
