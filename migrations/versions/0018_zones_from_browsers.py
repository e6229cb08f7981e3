"""An account's zone is taken from the browser when not known: the accounts that got
"UTC" only because it was the default (no script at sign-up, the demo, an import) forget
it, so their next page reports their browser's zone. A UTC its owner chose on the
profile (an "account.updated" audit entry setting it) stays.

Revision ID: 0018_zones_from_browsers
Revises: 0017_search_keys
Create Date: 2026-12-12 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_zones_from_browsers'
down_revision = '0017_search_keys'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id'), sa.column('timezone'))
audit = sa.table('audit_entries', sa.column('action'), sa.column('subject_type'),
                 sa.column('subject_id'), sa.column('details', sa.JSON))


def _chose_utc(details) -> bool:
    change = ((details or {}).get('changes') or {}).get('timezone')
    return isinstance(change, list) and len(change) == 2 and change[1] == 'UTC'


def upgrade():
    bind = op.get_bind()
    entries = bind.execute(sa.select(audit.c.subject_id, audit.c.details).where(
        audit.c.action == 'account.updated', audit.c.subject_type == 'user')).all()
    chosen = {entry.subject_id for entry in entries if _chose_utc(entry.details)}
    defaulted = bind.execute(sa.select(users.c.id).where(users.c.timezone == 'UTC')).scalars()
    forget = [user_id for user_id in defaulted if user_id not in chosen]
    for start in range(0, len(forget), 500):
        bind.execute(users.update().where(users.c.id.in_(forget[start:start + 500]))
                     .values(timezone=None))


def downgrade():
    # Which zones were forgotten is not kept: 0017's downgrade makes every unknown zone
    # UTC again.
    pass
