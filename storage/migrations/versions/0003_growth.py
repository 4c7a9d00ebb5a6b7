"""growth: invite links, points ledger, campaigns, channel posts, referrals, forget

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo', sa.String(length=255), nullable=True),
    sa.Column('segment', sa.Text(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('progress_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_message_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_language', sa.String(length=8), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('channel_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo', sa.String(length=255), nullable=True),
    sa.Column('with_button', sa.Boolean(), nullable=False),
    sa.Column('publish_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_posts'))
    )
    with op.batch_alter_table('channel_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_posts_publish_at'), ['publish_at'], unique=False)

    op.create_table('invite_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invite_links')),
    sa.UniqueConstraint('name', name=op.f('uq_invite_links_name')),
    sa.UniqueConstraint('url', name=op.f('uq_invite_links_url'))
    )
    op.create_table('points_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('referral_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_ledger_customer_id_customers')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_points_ledger_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_ledger')),
    sa.UniqueConstraint('referral_key', name=op.f('uq_points_ledger_referral_key'))
    )
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_ledger_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('referred_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('joined_channel_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('forgotten_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_customers_referral_code'), ['referral_code'])
        batch_op.create_foreign_key(batch_op.f('fk_customers_referred_by_customers'), 'customers', ['referred_by'], ['id'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])

    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_used', sa.BigInteger(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_column('points_used')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_campaign_id'))
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customers_referred_by_customers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_customers_referral_code'), type_='unique')
        batch_op.drop_column('forgotten_at')
        batch_op.drop_column('joined_channel_at')
        batch_op.drop_column('referred_by')
        batch_op.drop_column('referral_code')

    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_ledger_customer_id'))

    op.drop_table('points_ledger')
    op.drop_table('invite_links')
    with op.batch_alter_table('channel_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_posts_publish_at'))

    op.drop_table('channel_posts')
    op.drop_table('campaigns')
