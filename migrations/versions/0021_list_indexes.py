"""Indexes the list pages read in order: the desk's applications by application date,
and the published events by their start.

Revision ID: 0021_list_indexes
Revises: 0020_outbox_render
Create Date: 2026-12-05 00:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_list_indexes'
down_revision = '0020_outbox_render'
branch_labels = None
depends_on = None


def upgrade():
    # The desk's newest applications first: a page reads its rows off the index instead
    # of sorting the whole scope.
    op.create_index('ix_registrations_applied_at', 'registrations', ['applied_at', 'id'])
    # The API's and the catalogue's events of one status in date order.
    op.create_index('ix_events_status_starts_at', 'events', ['status', 'starts_at', 'id'])


def downgrade():
    op.drop_index('ix_events_status_starts_at', table_name='events')
    op.drop_index('ix_registrations_applied_at', table_name='registrations')
