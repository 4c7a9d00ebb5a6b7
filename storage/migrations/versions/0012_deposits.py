"""issue 13: deposits: per-service deposit settings and one deposit row per booking that asks one

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('deposit_percent', sa.Integer(), nullable=True))
    op.create_table(
        'deposits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('hold_until', sa.DateTime(), nullable=False),
        sa.Column('telegram_charge_id', sa.String(length=255), nullable=True),
        sa.Column('provider_charge_id', sa.String(length=255), nullable=True),
        sa.Column('paid_at', sa.DateTime(), nullable=True),
        sa.Column('purchase_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_deposits_booking_id_bookings')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_deposits_customer_id_customers')),
        sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_deposits_purchase_id_purchases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits')),
        sa.UniqueConstraint('booking_id', name=op.f('uq_deposits_booking_id')),
    )
    op.create_index('ix_deposits_held', 'deposits', ['status', 'hold_until'], unique=False)
    op.create_index(op.f('ix_deposits_customer_id'), 'deposits', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_deposits_customer_id'), table_name='deposits')
    op.drop_index('ix_deposits_held', table_name='deposits')
    op.drop_table('deposits')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('deposit_percent')
        batch_op.drop_column('deposit_amount')
