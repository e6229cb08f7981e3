"""Agreements: partnership and collaboration agreements and their parties (each a partner
or an organization).

Revision ID: 0012_agreements
Revises: 0011_api_tokens
Create Date: 2026-12-01 11:25:15.559283

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_agreements'
down_revision = '0011_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('partnership', 'collaboration', name='agreement_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('type', sa.Enum('memorandum_of_understanding', 'business_partnership', 'research_collaboration', 'joint_project_proposal', 'other', name='agreement_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('in_negotiation', 'signed', 'ended', name='agreement_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('origin_event_id', sa.Integer(), nullable=True),
    sa.Column('responsible_partner_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on', name=op.f('ck_agreements_ends_after_start')),
    sa.ForeignKeyConstraint(['origin_event_id'], ['events.id'], name=op.f('fk_agreements_origin_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_partner_id'], ['partners.id'], name=op.f('fk_agreements_responsible_partner_id_partners'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_origin_event_id'), ['origin_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_responsible_partner_id'), ['responsible_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_signed_on'), ['signed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_status'), ['status'], unique=False)

    op.create_table('agreement_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(partner_id IS NULL) <> (organization_id IS NULL)', name=op.f('ck_agreement_parties_partner_or_organization')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_parties_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_agreement_parties_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_agreement_parties_partner_id_partners'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_parties'))
    )
    with op.batch_alter_table('agreement_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_parties_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_parties_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_parties_partner_id'), ['partner_id'], unique=False)



def downgrade():
    with op.batch_alter_table('agreement_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_parties_partner_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_parties_organization_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_parties_agreement_id'))

    op.drop_table('agreement_parties')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_status'))
        batch_op.drop_index(batch_op.f('ix_agreements_signed_on'))
        batch_op.drop_index(batch_op.f('ix_agreements_responsible_partner_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_origin_event_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_kind'))

    op.drop_table('agreements')
