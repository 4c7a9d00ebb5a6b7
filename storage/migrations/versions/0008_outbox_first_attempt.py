"""outbox.first_attempt_at: an outage delays a row, the give-up age counts from its first try

An outage keeps a row retrying (backoff capped at minutes) until it is `give_up_after` (48 h)
past its first attempt, however many attempts that takes; attempts alone cannot tell that.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_attempt_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('first_attempt_at')
