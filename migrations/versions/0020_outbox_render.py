"""Outbox messages rendered when they are delivered: what to render them from.

Revision ID: 0020_outbox_render
Revises: 0019_downloads
Create Date: 2026-12-05 00:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_outbox_render'
down_revision = '0019_downloads'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('render')
