"""Folded search keys on users, organizations and events (indexed: trigrams on
PostgreSQL), filled for the rows already there; a user's time zone may be unknown
(None: as their browser says); when a manager last opened the desk.

Revision ID: 0017_search_keys
Revises: 0016_reminder_skips
Create Date: 2026-12-11 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from webapp.models.search import KEY_LENGTH, country_names, key


# revision identifiers, used by Alembic.
revision = '0017_search_keys'
down_revision = '0016_reminder_skips'
branch_labels = None
depends_on = None

# The admins also find accounts by their email as typed: one index serves name or email.
BESIDE_KEY = {'users': ('email',)}
SOURCES = {
    'users': ('name',),
    'organizations': ('name',),
    'events': ('title', 'summary', 'target_city', 'venue', 'target_country'),
}


def _key(table: str, row) -> str:
    parts = [getattr(row, column) or '' for column in SOURCES[table]]
    if table == 'events':
        parts[-1] = country_names(parts[-1])
    return key(' '.join(part for part in parts if part))


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == 'postgresql'
    if postgresql:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for table in SOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_key', sa.String(length=KEY_LENGTH),
                                          nullable=False, server_default=''))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('desk_seen_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('timezone', existing_type=sa.String(length=64), nullable=True)
    for table, columns in SOURCES.items():
        t = sa.table(table, sa.column('id'), sa.column('search_key'),
                     *(sa.column(c) for c in columns))
        rows = bind.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).all()
        for row in rows:
            bind.execute(t.update().where(t.c.id == row.id).values(search_key=_key(table, row)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('search_key', server_default=None)
        columns = ['search_key', *BESIDE_KEY.get(table, ())]
        if postgresql:
            op.create_index(f'ix_{table}_search_key', table, columns,
                            postgresql_using='gin',
                            postgresql_ops=dict.fromkeys(columns, 'gin_trgm_ops'))
        else:
            op.create_index(f'ix_{table}_search_key', table, columns)


def downgrade():
    for table in SOURCES:
        op.drop_index(f'ix_{table}_search_key', table_name=table)
    op.execute("UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('timezone', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('desk_seen_at')
    for table in SOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_key')
