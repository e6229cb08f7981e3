"""Quick registration for public webinars: an organization registered that way has no
size until someone gives it.

Revision ID: 0009_quick_registration
Revises: 0008_reminders
Create Date: 2026-12-01 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_quick_registration'
down_revision = '0008_reminders'
branch_labels = None
depends_on = None

SIZE = sa.Enum('micro', 'small', 'medium', 'large', name='organization_size',
               native_enum=False, create_constraint=True, length=6)


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.alter_column('size', existing_type=SIZE, nullable=True)


def downgrade():
    # Organizations without a size cannot stay: they become micro, the smallest size.
    op.execute("UPDATE organizations SET size = 'micro' WHERE size IS NULL")
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.alter_column('size', existing_type=SIZE, nullable=False)
