"""Events in several languages: an event's title, summary and description, and its agenda
sessions' titles and descriptions, in languages other than the event's main one (whose
texts stay the events' and sessions' own columns).

Revision ID: 0023_event_texts
Revises: 0022_languages
Create Date: 2026-12-05 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_event_texts'
down_revision = '0022_languages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_texts',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.String(length=300), nullable=False, server_default=''),
        sa.Column('description', sa.Text(), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_event_texts_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_id', 'language', name=op.f('pk_event_texts')),
    )
    op.create_table(
        'session_texts',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['session_id'], ['event_sessions.id'],
                                name=op.f('fk_session_texts_session_id_event_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'language', name=op.f('pk_session_texts')),
    )


def downgrade():
    op.drop_table('session_texts')
    op.drop_table('event_texts')
