"""Languages: an account's language may be unknown (None: as the person's browser says),
with the language their browser last asked for kept for mail; an event has a main
language. The accounts that got "en" only because it was the default (sign-up, the demo,
an import) forget it; an "en" its owner chose on the profile (an "account.updated" audit
entry setting it) stays.

Revision ID: 0022_languages
Revises: 0021_list_indexes
Create Date: 2026-12-05 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_languages'
down_revision = '0021_list_indexes'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id'), sa.column('locale'))
audit = sa.table('audit_entries', sa.column('action'), sa.column('subject_type'),
                 sa.column('subject_id'), sa.column('details', sa.JSON))


def _chose_english(details) -> bool:
    change = ((details or {}).get('changes') or {}).get('locale')
    return isinstance(change, list) and len(change) == 2 and change[1] == 'en'


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.alter_column('locale', existing_type=sa.String(10), nullable=True)
        batch.add_column(sa.Column('browser_locale', sa.String(10), nullable=True))
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('language', sa.String(10), nullable=False,
                                   server_default='en'))
    bind = op.get_bind()
    entries = bind.execute(sa.select(audit.c.subject_id, audit.c.details).where(
        audit.c.action == 'account.updated', audit.c.subject_type == 'user')).all()
    chosen = {entry.subject_id for entry in entries if _chose_english(entry.details)}
    defaulted = bind.execute(sa.select(users.c.id).where(users.c.locale == 'en')).scalars()
    forget = [user_id for user_id in defaulted if user_id not in chosen]
    for start in range(0, len(forget), 500):
        bind.execute(users.update().where(users.c.id.in_(forget[start:start + 500]))
                     .values(locale=None))


def downgrade():
    bind = op.get_bind()
    bind.execute(users.update().where(users.c.locale.is_(None)).values(locale='en'))
    with op.batch_alter_table('events') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('browser_locale')
        batch.alter_column('locale', existing_type=sa.String(10), nullable=False)
