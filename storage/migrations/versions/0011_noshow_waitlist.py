"""issue 13: late cancellations on bookings, and the waitlist for freed time

bookings.cancelled_at / late_cancel record when a booking was cancelled and whether that was
after the shop's cut-off (no-show history). The waitlist holds customers waiting for a service
on a range of days; offers of freed time are outbox rows.

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('late_cancel', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'waitlist',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_booking_id_bookings')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_waitlist_customer_id_customers')),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_waitlist_service_id_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist')),
    )
    op.create_index('ix_waitlist_open', 'waitlist', ['status', 'last_day', 'id'], unique=False)
    op.create_index(op.f('ix_waitlist_customer_id'), 'waitlist', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_waitlist_customer_id'), table_name='waitlist')
    op.drop_index('ix_waitlist_open', table_name='waitlist')
    op.drop_table('waitlist')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('late_cancel')
        batch_op.drop_column('cancelled_at')
