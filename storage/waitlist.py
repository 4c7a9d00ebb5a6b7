"""SQL about the waitlist (issue 13): who waits for which service on which days, in join order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, OutboxMessage, Service, WaitlistEntry

WAITING, BOOKED, LEFT, ENDED = "waiting", "booked", "left", "ended"
OFFER_KEY = "waitoffer"


class WaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, **fields: Any) -> WaitlistEntry:
        entry = WaitlistEntry(**fields)
        self._session.add(entry)
        await self._session.flush()
        return entry

    async def get(self, entry_id: int) -> WaitlistEntry | None:
        rows = await self._session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.id == entry_id)
            .execution_options(populate_existing=True)
        )
        return rows.first()

    async def waiting_of(self, customer_id: int, service_id: int) -> WaitlistEntry | None:
        rows = await self._session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.customer_id == customer_id,
                WaitlistEntry.service_id == service_id,
                WaitlistEntry.status == WAITING,
            )
        )
        return rows.first()

    async def waiting_between(
        self, first: date, last: date
    ) -> Sequence[tuple[WaitlistEntry, Customer, Service]]:
        """Entries still waiting whose days meet [first, last], in the order people joined."""
        result = await self._session.execute(
            select(WaitlistEntry, Customer, Service)
            .join(Customer, Customer.id == WaitlistEntry.customer_id)
            .join(Service, Service.id == WaitlistEntry.service_id)
            .where(
                WaitlistEntry.status == WAITING,
                WaitlistEntry.first_day <= last,
                WaitlistEntry.last_day >= first,
            )
            .order_by(WaitlistEntry.id)
        )
        return [(e, c, s) for e, c, s in result.all()]

    async def change_status(
        self, entry_id: int, *, expected: str, status: str, **values: Any
    ) -> bool:
        """Conditional, so of two taps on one entry's offers only one moves it."""
        result = await self._session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == expected)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def end_before(self, day: date) -> int:
        """Entries whose last day has passed stop waiting."""
        result = await self._session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.status == WAITING, WaitlistEntry.last_day < day)
            .values(status=ENDED)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def pending_offers(self) -> Sequence[OutboxMessage]:
        rows = await self._session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "waitlist_offer", OutboxMessage.status == "pending"
            )
        )
        return rows.all()

    async def withdraw_offers(self, slot_minutes: int, status: str) -> int:
        """Offers of this slot not yet sent are withdrawn (the slot was taken or has begun)."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedup_key.like(f"{OFFER_KEY}:{slot_minutes}:%"),
                OutboxMessage.status == "pending",
            )
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_customer(self, customer_id: int) -> None:
        """For /forget: whom they waited for, and when, goes (no money hangs on it)."""
        await self._session.execute(
            delete(WaitlistEntry)
            .where(WaitlistEntry.customer_id == customer_id)
            .execution_options(synchronize_session=False)
        )
