"""SQL about the inbox: customers' messages to the shop, the owners' answers, open conversations."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, InboxMessage, OutboxMessage
from storage.outbox import OutboxStatus

IN, OUT = "in", "out"


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """A customer whose messages wait for the owner's answer."""

    customer_id: int
    waiting: int
    first_at: datetime
    last_at: datetime
    last_text: str | None
    last_content: str


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_once(self, **values: Any) -> int | None:
        """Insert unless this (chat, message) is known; the new id, or None for a repeat."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(InboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["chat_id", "telegram_message_id"])
            .returning(InboxMessage.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def get(self, inbox_id: int) -> InboxMessage | None:
        return await self._session.get(InboxMessage, inbox_id)

    async def outbox_by_message(self, chat_id: int, message_id: int) -> OutboxMessage | None:
        """The outbox row that became Telegram message `message_id` in `chat_id`."""
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.telegram_message_id == message_id,
            )
            .limit(1)
        )
        return rows.first()

    async def latest_sent(
        self, chat_id: int, since: datetime, *, kinds_to_skip: Collection[str] = ()
    ) -> OutboxMessage | None:
        """The newest message the bot sent to `chat_id` after `since`."""
        query = select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= since,
        )
        if kinds_to_skip:
            query = query.where(OutboxMessage.kind.not_in(list(kinds_to_skip)))
        rows = await self._session.scalars(
            query.order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(1)
        )
        return rows.first()

    async def mark_answered(self, customer_id: int, now: datetime) -> int:
        """Everything the customer wrote so far counts as answered; rows changed."""
        result = await self._session.execute(
            update(InboxMessage)
            .where(
                InboxMessage.customer_id == customer_id,
                InboxMessage.direction == IN,
                InboxMessage.answered_at.is_(None),
            )
            .values(answered_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def open_conversations(self, limit: int) -> list[OpenConversation]:
        """Customers with unanswered messages, the newest conversation first."""
        waiting = (
            select(
                InboxMessage.customer_id,
                func.count().label("waiting"),
                func.min(InboxMessage.created_at).label("first_at"),
                func.max(InboxMessage.id).label("last_id"),
            )
            .where(InboxMessage.direction == IN, InboxMessage.answered_at.is_(None))
            .group_by(InboxMessage.customer_id)
            .subquery()
        )
        rows = await self._session.execute(
            select(
                waiting.c.customer_id,
                waiting.c.waiting,
                waiting.c.first_at,
                InboxMessage.created_at,
                InboxMessage.text,
                InboxMessage.content,
            )
            .join(InboxMessage, InboxMessage.id == waiting.c.last_id)
            .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
            .limit(limit)
        )
        return [
            OpenConversation(
                int(customer_id),
                int(count),
                first_at,  # min() keeps the column's type: aware UTC
                last_at,
                text,
                content,
            )
            for customer_id, count, first_at, last_at, text, content in rows.all()
        ]

    async def scrub(self, customer_id: int, owner_kinds: Collection[str]) -> None:
        """For /forget: blank what they wrote and the owners' copies that quote it."""
        await self._session.execute(
            update(InboxMessage).where(InboxMessage.customer_id == customer_id).values(text=None)
        )
        # Owner copies are addressed to the owner (customer_id NULL); their keys name the customer.
        keys = [OutboxMessage.dedup_key.like(f"{kind}:{customer_id}:%") for kind in owner_kinds]
        if keys:
            await self._session.execute(
                update(OutboxMessage).where(or_(*keys)).values(payload="{}")
            )

    async def pending_owner_rows(self, kind: str, customer_id: int) -> list[OutboxMessage]:
        """The owners' rows of `kind` about this customer not yet sent (keys as in `scrub`)."""
        rows = await self._session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedup_key.like(f"{kind}:{customer_id}:%"),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
        return list(rows.all())

    async def customer(self, customer_id: int) -> Customer | None:
        return await self._session.get(Customer, customer_id)
