"""idempotency: button presses already acted on (once_claims)

A state-changing button claims (chat, message, callback data) before its handler runs;
the primary key makes a second claim of the same press fail on SQLite and PostgreSQL
alike, whichever process it comes from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('once_claims',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'data', name=op.f('pk_once_claims'))
    )
    with op.batch_alter_table('once_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_once_claims_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('once_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_once_claims_created_at'))

    op.drop_table('once_claims')
