"""analytics: covering index on purchases (customer_id, purchased_at, amount)

Per-customer aggregates over every purchase (/stats: ABC, lifetime figures, first
purchases, the customer-value model's summary) read this index in customer order and
never touch the table: no sort and no lookup per row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_purchases_customer_time_amount',
        'purchases',
        ['customer_id', 'purchased_at', 'amount'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_purchases_customer_time_amount', table_name='purchases')
