"""inbox: customers' messages to the owners and the owners' answers (inbox_messages)

A customer's message the bot does not understand, or a Telegram reply to one of its
messages, is kept here ("in") and copied to the owners through the outbox; the owner's
answer is kept too ("out"). The unique (chat, message) pair makes a redelivered update a
no-op; answered_at NULL marks a conversation that still waits for the owner.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("about_outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["about_outbox_id"],
            ["outbox.id"],
            name=op.f("fk_inbox_messages_about_outbox_id_outbox"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_inbox_messages_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint(
            "chat_id", "telegram_message_id", name=op.f("uq_inbox_messages_chat_id")
        ),
    )
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_messages_open", ["direction", "answered_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbox_messages_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_messages_customer_id"))
        batch_op.drop_index("ix_inbox_messages_open")
    op.drop_table("inbox_messages")
