"""outbox.claimed_by, outbox.lease_until: a claim is held by one instance for a while

Several bot instances drain one outbox. A claimed row names its holder (an instance id made
at start: host-pid-random) and the time its lease runs out; the holder renews the lease while
the send is in flight. Only a row whose lease has run out is taken for a crash's leftover and
marked uncertain, so starting an instance never touches the rows a live one is sending.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')
