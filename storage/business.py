"""SQL about Telegram Business (issue 11): the owner's connections and the client chats seen
through them (who and when, never the words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    BusinessChat,
    BusinessConnection,
    Customer,
    OutboxMessage,
    Purchase,
    Service,
)


class BusinessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- connections ------------------------------------------------------------------------

    async def connection(self, connection_id: str) -> BusinessConnection | None:
        return await self._session.get(BusinessConnection, connection_id)

    async def save_connection(
        self,
        *,
        connection_id: str,
        user_id: int,
        user_chat_id: int,
        is_enabled: bool,
        rights: str,
        now: datetime,
    ) -> BusinessConnection:
        row = await self.connection(connection_id)
        if row is None:
            row = BusinessConnection(id=connection_id)
            self._session.add(row)
        row.user_id = user_id
        row.user_chat_id = user_chat_id
        row.is_enabled = is_enabled
        row.rights = rights
        row.updated_at = now
        await self._session.flush()
        return row

    async def enabled_connections(self) -> Sequence[BusinessConnection]:
        rows = await self._session.scalars(
            select(BusinessConnection)
            .where(BusinessConnection.is_enabled.is_(True))
            .order_by(BusinessConnection.updated_at)
        )
        return rows.all()

    # --- client chats -----------------------------------------------------------------------

    async def chat(self, chat_id: int) -> BusinessChat | None:
        return await self._session.get(BusinessChat, chat_id)

    async def add_chat(self, **values: object) -> BusinessChat:
        row = BusinessChat(**values)
        self._session.add(row)
        await self._session.flush()
        return row

    async def chat_of_customer(self, customer_id: int) -> BusinessChat | None:
        rows = await self._session.scalars(
            select(BusinessChat).where(BusinessChat.customer_id == customer_id).limit(1)
        )
        return rows.first()

    async def waiting_requests(self, asked_before: datetime) -> Sequence[BusinessChat]:
        """Chats whose request for a time is older than `asked_before` and still unanswered."""
        rows = await self._session.scalars(
            select(BusinessChat)
            .where(BusinessChat.request_at.is_not(None), BusinessChat.request_at <= asked_before)
            .order_by(BusinessChat.request_at)
        )
        return rows.all()

    async def unlisted(self, limit: int) -> Sequence[tuple[BusinessChat, Customer]]:
        """People captured since the last digest, oldest first."""
        result = await self._session.execute(
            select(BusinessChat, Customer)
            .join(Customer, Customer.id == BusinessChat.customer_id)
            .where(BusinessChat.listed_at.is_(None))
            .order_by(BusinessChat.first_at)
            .limit(limit)
        )
        return [(chat, customer) for chat, customer in result.all()]

    async def unreachable_with_chat(self) -> Sequence[tuple[BusinessChat, Customer]]:
        """Customers the bot cannot write to first (never agreed to offers, never started it,
        or blocked it) whose chat with the owner is known."""
        result = await self._session.execute(
            select(BusinessChat, Customer)
            .join(Customer, Customer.id == BusinessChat.customer_id)
            .where(Customer.forgotten_at.is_(None))
            .where(
                (Customer.consent.is_not(True))
                | Customer.blocked_at.is_not(None)
                | Customer.registered_at.is_(None)
            )
            .order_by(Customer.id)
        )
        return [(chat, customer) for chat, customer in result.all()]

    async def forget_customer(self, customer_id: int) -> None:
        await self._session.execute(
            delete(BusinessChat).where(BusinessChat.customer_id == customer_id)
        )

    async def digests(self, kind: str) -> Sequence[OutboxMessage]:
        rows = await self._session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return rows.all()

    async def latest_owner_reminder(self, customer_id: int, since: datetime) -> int | None:
        """The newest reminder the owner sent by hand to this customer since `since`, not yet
        followed by a booking."""
        return await self._session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.customer_id == customer_id,
                OutboxMessage.kind == "owner_rebook",
                OutboxMessage.sent_at >= since,
                OutboxMessage.reaction.is_(None),
            )
            .order_by(OutboxMessage.sent_at.desc())
            .limit(1)
        )

    async def last_service(self, customer_id: int) -> int | None:
        """The service of the customer's latest purchase that names one."""
        return await self._session.scalar(
            select(Purchase.service_id)
            .join(Service, Service.id == Purchase.service_id)
            .where(Purchase.customer_id == customer_id, Service.archived.is_(False))
            .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
            .limit(1)
        )

    async def cycles_of(self, customer_ids: Sequence[int]) -> Sequence[CycleOf]:
        """Per customer and service with a cycle: the last purchase and how many there were."""
        if not customer_ids:
            return []
        result = await self._session.execute(
            select(
                Purchase.customer_id,
                Service.id,
                Service.name,
                Service.cycle_days,
                func.max(Purchase.purchased_at),
                func.count(Purchase.id),
            )
            .join(Service, Service.id == Purchase.service_id)
            .where(
                Purchase.customer_id.in_(list(customer_ids)),
                Service.cycle_days.is_not(None),
                Service.archived.is_(False),
            )
            .group_by(Purchase.customer_id, Service.id, Service.name, Service.cycle_days)
        )
        return [CycleOf(*row) for row in result.all()]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CycleOf:
    customer_id: int
    service_id: int
    service_name: str
    cycle_days: int
    last_at: datetime
    purchases: int
