"""The desk: roles on the event, messages to the delegation and their recipients.

Revision ID: 0004_desk
Revises: 0003_applying
Create Date: 2026-11-25 19:52:28.875505

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_desk'
down_revision = '0003_applying'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delegation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_delegation_messages_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_delegation_messages_partner_id_partners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_delegation_messages_sender_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation_messages'))
    )
    with op.batch_alter_table('delegation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegation_messages_event_id'), ['event_id'], unique=False)

    op.create_table('message_recipients',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['delegation_messages.id'], name=op.f('fk_message_recipients_message_id_delegation_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_message_recipients_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'registration_id', name=op.f('pk_message_recipients'))
    )
    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_recipients_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.Enum('delegate', 'speaker', 'organizer', 'host', 'staff', name='event_role', native_enum=False, create_constraint=True), nullable=False, server_default='delegate'))



def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_registrations_event_role'), type_='check')
        batch_op.drop_column('role')

    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_recipients_registration_id'))

    op.drop_table('message_recipients')
    with op.batch_alter_table('delegation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_messages_event_id'))
        batch_op.drop_index(batch_op.f('ix_delegation_messages_created_at'))

    op.drop_table('delegation_messages')
