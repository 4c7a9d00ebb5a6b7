"""SQL about purchases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Booking,
    Customer,
    PointsEntry,
    PromoCode,
    Purchase,
    Rating,
    Service,
)


@dataclass(frozen=True, slots=True)
class PurchaseTotals:
    count: int
    amount: int
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    id: int
    customer_id: int
    customer_name: str | None
    customer_phone: str | None
    service_name: str | None
    amount: int
    purchased_at: datetime


class PurchaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        customer_id: int,
        service_id: int | None,
        amount: int,
        purchased_at: datetime,
        created_at: datetime,
        discount: int = 0,
        points_used: int = 0,
    ) -> Purchase:
        purchase = Purchase(
            customer_id=customer_id,
            service_id=service_id,
            amount=amount,
            discount=discount,
            points_used=points_used,
            purchased_at=purchased_at,
            created_at=created_at,
        )
        self._session.add(purchase)
        await self._session.flush()
        return purchase

    async def get(self, purchase_id: int) -> Purchase | None:
        return await self._session.get(Purchase, purchase_id)

    async def detach(self, purchase_id: int) -> None:
        """Undo what hangs on a sale before deleting it: points, a used code, a rating."""
        await self._session.execute(
            delete(PointsEntry).where(PointsEntry.purchase_id == purchase_id)
        )
        await self._session.execute(delete(Rating).where(Rating.purchase_id == purchase_id))
        await self._session.execute(
            update(PromoCode)
            .where(PromoCode.purchase_id == purchase_id)
            .values(purchase_id=None, used_at=None)
        )
        await self._session.execute(
            update(Booking).where(Booking.purchase_id == purchase_id).values(purchase_id=None)
        )

    async def delete(self, purchase: Purchase) -> None:
        await self._session.delete(purchase)
        await self._session.flush()

    async def totals(self, customer_id: int) -> PurchaseTotals:
        row = (
            await self._session.execute(
                select(
                    func.count(Purchase.id),
                    func.coalesce(func.sum(Purchase.amount), 0),
                    func.min(Purchase.purchased_at),
                    func.max(Purchase.purchased_at),
                ).where(Purchase.customer_id == customer_id)
            )
        ).one()
        return PurchaseTotals(int(row[0]), int(row[1]), row[2], row[3])

    async def has_earlier(self, purchase: Purchase) -> bool:
        """Whether the customer bought before this purchase (ties by time, then id)."""
        earlier = await self._session.scalar(
            select(Purchase.id)
            .where(
                Purchase.customer_id == purchase.customer_id,
                or_(
                    Purchase.purchased_at < purchase.purchased_at,
                    and_(Purchase.purchased_at == purchase.purchased_at, Purchase.id < purchase.id),
                ),
            )
            .limit(1)
        )
        return earlier is not None

    async def recent(self, limit: int) -> Sequence[PurchaseRow]:
        """The latest sales as they were logged (not by their date)."""
        query = _with_names().order_by(Purchase.created_at.desc(), Purchase.id.desc()).limit(limit)
        return [PurchaseRow(*row) for row in (await self._session.execute(query)).all()]

    async def all_rows(self) -> Sequence[PurchaseRow]:
        query = _with_names().order_by(Purchase.purchased_at, Purchase.id)
        return [PurchaseRow(*row) for row in (await self._session.execute(query)).all()]

    async def logged_since(
        self, *, customer_id: int, service_id: int | None, since: datetime
    ) -> Sequence[Purchase]:
        """The customer's sales of this service (None: without one) logged at `since` or later,
        newest first."""
        rows = await self._session.scalars(
            select(Purchase)
            .where(
                Purchase.customer_id == customer_id,
                Purchase.service_id.is_(None)
                if service_id is None
                else Purchase.service_id == service_id,
                Purchase.created_at >= since,
            )
            .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        )
        return rows.all()


def _with_names() -> Select[int, int, str | None, str | None, str, int, datetime]:
    """Purchases with the customer's and the service's names, for lists."""
    return (
        select(
            Purchase.id,
            Purchase.customer_id,
            Customer.name,
            Customer.phone,
            Service.name,
            Purchase.amount,
            Purchase.purchased_at,
        )
        .join(Customer, Customer.id == Purchase.customer_id)
        .outerjoin(Service, Service.id == Purchase.service_id)
    )
