"""Sort keys: each name (people, organizations, partners) keyed by ICU's collation for
every offered language, so the lists paged in SQL order names as the reader's language
does (webapp/collation.py). The names already there are keyed here.

Revision ID: 0024_sort_keys
Revises: 0023_event_texts
Create Date: 2026-12-05 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_sort_keys'
down_revision = '0023_event_texts'
branch_labels = None
depends_on = None

NAMED = (('user', 'users'), ('organization', 'organizations'), ('partner', 'partners'))


def _languages() -> list[str]:
    from flask import current_app, has_app_context

    return list(current_app.config['LANGUAGES']) if has_app_context() else ['en']


def upgrade():
    sort_keys = op.create_table(
        'sort_keys',
        sa.Column('subject_type', sa.String(20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(10), nullable=False),
        sa.Column('key', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('subject_type', 'subject_id', 'language',
                                name=op.f('pk_sort_keys')),
    )
    op.create_index('ix_sort_keys_order', 'sort_keys',
                    ['subject_type', 'language', 'key', 'subject_id'])
    import icu

    bind = op.get_bind()
    for language in _languages():
        collator = icu.Collator.createInstance(icu.Locale(language))
        for subject_type, table in NAMED:
            named = sa.table(table, sa.column('id'), sa.column('name'))
            rows = bind.execute(sa.select(named.c.id, named.c.name)).all()
            for start in range(0, len(rows), 1000):
                bind.execute(sort_keys.insert(), [
                    {'subject_type': subject_type, 'subject_id': row_id, 'language': language,
                     'key': collator.getSortKey(name or '')}
                    for row_id, name in rows[start:start + 1000]])


def downgrade():
    op.drop_index('ix_sort_keys_order', table_name='sort_keys')
    op.drop_table('sort_keys')
