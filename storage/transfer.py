"""SQL of CSV imports and exports (services/transfer/).

Exports and the look-ups of an import stream their rows (`yield_per`), so a shop with a
hundred thousand customers is never held in memory as ORM objects; imports write with
executemany statements (SQLAlchemy's insertmanyvalues) rather than an object per row.
Rows of new or changed customers and purchases are given as dicts keyed by column name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Purchase, Service

_BATCH = 500  # rows fetched at a time for an export
_SCAN_BATCH = 5000  # rows fetched at a time for an import's look-ups (a few small columns)
_INSERT_BATCH = 2000  # rows inserted by one statement execution


class CustomerExport(NamedTuple):
    external_id: str | None
    name: str | None
    phone: str | None
    telegram_id: int | None
    birth_day: int | None
    birth_month: int | None
    birth_year: int | None
    source: str | None
    consent: bool | None


class PurchaseExport(NamedTuple):
    """A purchase with the identities of its customer and the name of its service."""

    external_id: str | None
    phone: str | None
    telegram_id: int | None
    purchased_at: datetime
    amount: int
    service: str | None


class ServiceExport(NamedTuple):
    name: str
    price: int
    cycle_days: int | None
    duration_minutes: int
    archived: bool


class CustomerIdentity(NamedTuple):
    id: int
    external_id: str | None
    phone: str | None
    telegram_id: int | None


class PurchaseKey(NamedTuple):
    customer_id: int
    service_id: int | None
    amount: int
    purchased_at: datetime


# What a customers import may change on a matched customer, as the update compares it.
IMPORTED_CUSTOMER_FIELDS = (
    "external_id",
    "phone",
    "telegram_id",
    "name",
    "birth_day",
    "birth_month",
    "birth_year",
    "source",
    "consent",
)


class TransferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # ------------------------------------------------------------ export

    async def customers_for_export(self) -> AsyncIterator[CustomerExport]:
        stmt = select(
            Customer.external_id,
            Customer.name,
            Customer.phone,
            Customer.telegram_id,
            Customer.birth_day,
            Customer.birth_month,
            Customer.birth_year,
            Customer.source,
            Customer.consent,
        ).order_by(Customer.id)
        result = await self._session.stream(stmt.execution_options(yield_per=_BATCH))
        async for row in result:
            yield CustomerExport(*row)

    async def purchases_for_export(self) -> AsyncIterator[PurchaseExport]:
        """In time order; a purchase without a service has service None."""
        stmt = (
            select(
                Customer.external_id,
                Customer.phone,
                Customer.telegram_id,
                Purchase.purchased_at,
                Purchase.amount,
                Service.name,
            )
            .join(Customer, Customer.id == Purchase.customer_id)
            .outerjoin(Service, Service.id == Purchase.service_id)
            .order_by(Purchase.purchased_at, Purchase.id)
        )
        result = await self._session.stream(stmt.execution_options(yield_per=_BATCH))
        async for row in result:
            yield PurchaseExport(*row)

    async def services_for_export(self) -> AsyncIterator[ServiceExport]:
        stmt = select(
            Service.name,
            Service.price,
            Service.cycle_days,
            Service.duration_minutes,
            Service.archived,
        ).order_by(Service.id)
        result = await self._session.stream(stmt.execution_options(yield_per=_BATCH))
        async for row in result:
            yield ServiceExport(*row)

    # ------------------------------------------------------------ customers

    async def customer_identities(self) -> AsyncIterator[CustomerIdentity]:
        """Every customer's id with the keys an import matches rows by (not whole rows)."""
        stmt = select(Customer.id, Customer.external_id, Customer.phone, Customer.telegram_id)
        result = await self._session.stream(stmt.execution_options(yield_per=_SCAN_BATCH))
        async for row in result:
            yield CustomerIdentity(*row)

    async def insert_customers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), _INSERT_BATCH):
            await self._session.execute(insert(Customer), rows[start : start + _INSERT_BATCH])

    async def insert_customers_returning_ids(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """The new customers' ids, in the order of `rows`."""
        if not rows:
            return []
        result = await self._session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows
        )
        return list(result.all())

    async def imported_fields(self, customer_ids: Sequence[int]) -> list[Mapping[str, Any]]:
        """The id and IMPORTED_CUSTOMER_FIELDS of the given customers, to compare with a file."""
        stmt = select(
            Customer.id, *(getattr(Customer, name) for name in IMPORTED_CUSTOMER_FIELDS)
        ).where(Customer.id.in_(list(customer_ids)))
        return [dict(row) for row in (await self._session.execute(stmt)).mappings()]

    async def update_customers(self, changes: Sequence[Mapping[str, Any]]) -> None:
        """Update customers by id: each dict holds "id" and the columns to set; all dicts of
        one call have the same keys, so it runs as one executemany."""
        if changes:
            await self._session.execute(update(Customer), changes)

    # ------------------------------------------------------------ services

    async def update_service(self, service_id: int, changes: Mapping[str, Any]) -> None:
        await self._session.execute(
            update(Service).where(Service.id == service_id).values(**changes)
        )

    # ------------------------------------------------------------ purchases

    async def purchase_keys_between(
        self, low: datetime, high: datetime
    ) -> AsyncIterator[PurchaseKey]:
        """Customer, service, amount and moment of the purchases in [low, high)."""
        stmt = select(
            Purchase.customer_id, Purchase.service_id, Purchase.amount, Purchase.purchased_at
        ).where(Purchase.purchased_at >= low, Purchase.purchased_at < high)
        result = await self._session.stream(stmt.execution_options(yield_per=_SCAN_BATCH))
        async for row in result:
            yield PurchaseKey(*row)

    async def insert_purchases(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), _INSERT_BATCH):
            await self._session.execute(insert(Purchase), rows[start : start + _INSERT_BATCH])
