"""Applying: questions and answers, consents, the waiting list order, per-organization caps, application alerts.

Revision ID: 0003_applying
Revises: 0002_accounts_admin
Create Date: 2026-11-25 19:23:46.960883

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_applying'
down_revision = '0002_accounts_admin'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('short_text', 'long_text', 'single_choice', 'multiple_choice', 'yes_no', 'country', name='question_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('help_text', sa.String(length=500), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_questions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_event_id'), ['event_id'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_answers_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_answers_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('registration_id', 'question_id', name=op.f('uq_answers_registration_id_question_id'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_per_organization', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_events_max_per_organization_positive'),
            'max_per_organization IS NULL OR max_per_organization >= 1',
        )

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlisted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('profile_consent_version', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('profile_consent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('contact_consent_version', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('contact_consent_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_alerts', sa.Enum('immediate', 'daily', name='alert_frequency', native_enum=False, create_constraint=True), nullable=False, server_default='immediate'))
        batch_op.add_column(sa.Column('digest_sent_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('digest_sent_at')
        batch_op.drop_constraint(op.f('ck_users_alert_frequency'), type_='check')
        batch_op.drop_column('application_alerts')

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('contact_consent_at')
        batch_op.drop_column('contact_consent_version')
        batch_op.drop_column('profile_consent_at')
        batch_op.drop_column('profile_consent_version')
        batch_op.drop_column('waitlisted_at')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_events_max_per_organization_positive'), type_='check')
        batch_op.drop_column('max_per_organization')

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_registration_id'))
        batch_op.drop_index(batch_op.f('ix_answers_question_id'))

    op.drop_table('answers')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_event_id'))

    op.drop_table('questions')
