"""SQL about whether a customer can be written to (customers.blocked_at) and in which language."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer


@dataclass(frozen=True, slots=True)
class Recipient:
    customer_id: int
    telegram_id: int | None
    language: str | None
    blocked: bool


class ReachabilityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set_blocked_at(
        self,
        when: datetime | None,
        *,
        customer_id: int | None = None,
        telegram_id: int | None = None,
    ) -> int:
        """Set (a time) or clear (None) blocked_at by id or Telegram id; rows changed."""
        if customer_id is not None:
            condition = Customer.id == customer_id
        elif telegram_id is not None:
            condition = Customer.telegram_id == telegram_id
        else:
            return 0
        result = await self._session.execute(
            update(Customer).where(condition).values(blocked_at=when)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def recipients(
        self, customer_ids: Collection[int], telegram_ids: Collection[int]
    ) -> list[Recipient]:
        """The customers with any of these ids or Telegram ids."""
        if not customer_ids and not telegram_ids:
            return []
        rows = await self._session.execute(
            select(Customer.id, Customer.telegram_id, Customer.language, Customer.blocked_at).where(
                or_(
                    Customer.id.in_(list(customer_ids)),
                    Customer.telegram_id.in_(list(telegram_ids)),
                )
            )
        )
        return [
            Recipient(id_, telegram_id, language, blocked_at is not None)
            for id_, telegram_id, language, blocked_at in rows.all()
        ]
