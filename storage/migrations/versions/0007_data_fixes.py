"""data fixes for imported customers and odd input

customers.birthday_set_by: who entered the birthday, "customer" or "owner" (/birthday, an
import). The 30-day rule against chasing the gift applies only to birthdays the customer
entered; rows from before this revision stay NULL and keep the old, stricter treatment.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday_set_by', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('birthday_set_by')
