"""Indexes the list pages read in order: the desk's applications by application date,
an event's registrations by status, and the published events by their start.

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
    # The desk's newest applications first: a page of a whole desk (an admin's) reads its
    # rows off the index instead of sorting 20,000 of them.
    op.create_index('ix_registrations_applied_at', 'registrations', ['applied_at', 'id'])
    # An event's registrations of one status: a host's desk (the approved delegates of the
    # events their partners host), the seat counts, the delegation list.
    op.create_index('ix_registrations_event_status', 'registrations', ['event_id', 'status'])
    # The API's and the catalogue's events of one status in date order.
    op.create_index('ix_events_status_starts_at', 'events', ['status', 'starts_at', 'id'])


def downgrade():
    op.drop_index('ix_events_status_starts_at', table_name='events')
    op.drop_index('ix_registrations_event_status', table_name='registrations')
    op.drop_index('ix_registrations_applied_at', table_name='registrations')
