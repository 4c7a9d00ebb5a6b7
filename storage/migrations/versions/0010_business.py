"""business_connections, business_chats: Telegram Business (issue 11)

The owner's connected account and, per client chat seen through it, only who and when:
the client's last message (the 24-hour answer window), the owner's last answer, a pending
request for a time, the day free slots were last offered, and whether the digest named them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_connections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("user_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("rights", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_connections")),
    )
    with op.batch_alter_table("business_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_connections_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "business_chats",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_in_at", sa.DateTime(), nullable=True),
        sa.Column("last_owner_at", sa.DateTime(), nullable=True),
        sa.Column("request_at", sa.DateTime(), nullable=True),
        sa.Column("slots_sent_on", sa.String(length=10), nullable=True),
        sa.Column("listed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_business_chats_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_business_chats")),
    )
    with op.batch_alter_table("business_chats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_chats_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("business_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_chats_customer_id"))
    op.drop_table("business_chats")
    with op.batch_alter_table("business_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_connections_user_id"))
    op.drop_table("business_connections")
