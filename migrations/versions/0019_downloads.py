"""Downloads: reports, exports and brochures built in the background, their progress and
their file until it expires, and who asked for each.

Revision ID: 0019_downloads
Revises: 0018_zones_from_browsers
Create Date: 2026-12-04 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_downloads'
down_revision = '0018_zones_from_browsers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('downloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'ready', 'failed', name='download_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mimetype', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_downloads_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_downloads_requested_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_downloads'))
    )
    with op.batch_alter_table('downloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_downloads_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_downloads_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_downloads_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('download_requesters',
    sa.Column('download_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['download_id'], ['downloads.id'], name=op.f('fk_download_requesters_download_id_downloads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_download_requesters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('download_id', 'user_id', name=op.f('pk_download_requesters'))
    )
    with op.batch_alter_table('download_requesters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_download_requesters_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('download_requesters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_download_requesters_user_id'))
    op.drop_table('download_requesters')
    with op.batch_alter_table('downloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_downloads_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_downloads_key'))
        batch_op.drop_index(batch_op.f('ix_downloads_event_id'))
    op.drop_table('downloads')
