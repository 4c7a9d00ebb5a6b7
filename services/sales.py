"""Logging sales: the owner's most frequent job."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.customers import customer_totals
from services.dto import CustomerCard, SaleLine, SaleReceipt
from services.errors import InputError
from storage.database import Database

# A past sale entered with a date only is placed at local noon: the day is right in any zone.
_PAST_SALE_TIME = time(12, 0)
MAX_BACKDATE_DAYS = 366 * 5


class SalesService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()

    def earliest_date(self, now: datetime) -> date:
        return self.today(now) - timedelta(days=MAX_BACKDATE_DAYS)

    def moment_of(self, day: date | None, now: datetime) -> datetime:
        if day is None or day == self.today(now):
            return now
        return datetime.combine(day, _PAST_SALE_TIME, tzinfo=self._zone)

    async def log_sale(
        self,
        *,
        customer_id: int,
        amount: int,
        service_id: int | None,
        day: date | None,
        now: datetime,
    ) -> SaleReceipt:
        if amount <= 0:
            raise InputError("error-money-zero")
        async with self._db.transaction() as repos:
            customer = await repos.customers.get(customer_id)
            if customer is None:
                raise InputError("error-customer-gone")
            service_name = None
            if service_id is not None:
                service = await repos.catalogue.get(service_id)
                if service is None:
                    raise InputError("error-service-unknown")
                service_name = service.name
            purchase = await repos.purchases.add(
                customer_id=customer_id,
                service_id=service_id,
                amount=amount,
                purchased_at=self.moment_of(day, now),
                created_at=now,
            )
            return SaleReceipt(
                purchase_id=purchase.id,
                customer=CustomerCard.of(customer),
                service_name=service_name,
                amount=amount,
                purchased_at=purchase.purchased_at,
                is_repeat=await repos.purchases.has_earlier(purchase),
                totals=await customer_totals(repos, customer_id),
            )

    async def recent(self, limit: int = 10) -> list[SaleLine]:
        async with self._db.reading() as repos:
            rows = await repos.purchases.recent(limit)
        return [
            SaleLine(r.id, r.customer_id, r.customer_name, r.service_name, r.amount, r.purchased_at)
            for r in rows
        ]

    async def delete(self, purchase_id: int) -> SaleLine | None:
        """Delete a wrongly logged sale; None when it is already gone."""
        async with self._db.transaction() as repos:
            purchase = await repos.purchases.get(purchase_id)
            if purchase is None:
                return None
            customer = await repos.customers.get(purchase.customer_id)
            service = (
                await repos.catalogue.get(purchase.service_id) if purchase.service_id else None
            )
            line = SaleLine(
                purchase.id,
                purchase.customer_id,
                customer.name if customer else None,
                service.name if service else None,
                purchase.amount,
                purchase.purchased_at,
            )
            await repos.purchases.delete(purchase)
            return line
