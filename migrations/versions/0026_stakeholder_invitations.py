"""Invitations of the host region's stakeholders: the hosting beachhead's invitation to an
event's matchmaking (whom, in which language, by whom), when its latest one-time link was
sent and until when it works, what identifies that link (never the link itself), and
when it was accepted, with the registration it created, or revoked.

Revision ID: 0026_stakeholder_invitations
Revises: 0025_matchmaking
Create Date: 2026-12-05 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_stakeholder_invitations'
down_revision = '0025_matchmaking'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stakeholder_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organization_name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_stakeholder_invitations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_stakeholder_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_stakeholder_invitations_registration_id_registrations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder_invitations')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_stakeholder_invitations_registration_id'))
    )
    with op.batch_alter_table('stakeholder_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_invitations_email'), ['email'], unique=False)
        batch_op.create_index('ix_stakeholder_invitations_event_created', ['event_id', 'created_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('stakeholder_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholder_invitations_event_created')
        batch_op.drop_index(batch_op.f('ix_stakeholder_invitations_email'))

    op.drop_table('stakeholder_invitations')
