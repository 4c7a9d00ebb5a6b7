"""Spends that cannot pass twice: two sales sent at the same moment, on SQLite and PostgreSQL.

The service is called twice concurrently (asyncio.gather), as two owner devices or a double
tap would do; the balance and the code are checked under a row lock in the writing
transaction, so exactly one sale spends them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.dto import SaleReceipt
from services.errors import InputError
from services.sales import SalesService
from storage.database import Database

ZONE = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _customer_with_points(db: Database, points: int) -> int:
    async with db.transaction() as repos:
        customer = await repos.customers.add(
            telegram_id=7001, name="Anna", consent=True, registered_at=NOW, created_at=NOW
        )
        await repos.growth.add_points(
            customer_id=customer.id, delta=points, reason="adjust", created_at=NOW
        )
        # No cashback: the first sale's earnings would otherwise refill the balance.
        await repos.settings.put("cashback_percent", "0")
        return customer.id


async def _two_at_once(
    sales: SalesService, customer_id: int, **extra: object
) -> list[SaleReceipt | BaseException]:
    calls = [
        sales.log_sale(
            customer_id=customer_id,
            amount=200_000,
            service_id=None,
            day=None,
            now=NOW + timedelta(seconds=i),
            **extra,  # type: ignore[arg-type]
        )
        for i in range(2)
    ]
    return await asyncio.gather(*calls, return_exceptions=True)


async def test_two_sales_paying_points_at_once_spend_them_once(db: Database) -> None:
    customer_id = await _customer_with_points(db, 125)
    sales = SalesService(db, ZONE)

    results = await _two_at_once(sales, customer_id, points=100)

    accepted = [r for r in results if isinstance(r, SaleReceipt)]
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(accepted) == 1 and len(refused) == 1, results
    assert refused[0].code == "error-points-balance"
    assert refused[0].params == {"balance": 25}
    async with db.reading() as repos:
        assert await repos.growth.balance(customer_id) == 25 == accepted[0].points_balance
        assert await repos.growth.purchase_count(customer_id) == 1


async def test_two_sales_with_one_birthday_code_discount_once(db: Database) -> None:
    customer_id = await _customer_with_points(db, 0)
    async with db.transaction() as repos:
        await repos.retention.add_promo_code(
            code="BD-RACE22",
            customer_id=customer_id,
            kind="birthday",
            percent=10,
            valid_from=NOW - timedelta(days=1),
            valid_until=NOW + timedelta(days=10),
            created_at=NOW,
        )
    sales = SalesService(db, ZONE)

    results = await _two_at_once(sales, customer_id, code="BD-RACE22")

    accepted = [r for r in results if isinstance(r, SaleReceipt)]
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(accepted) == 1 and len(refused) == 1, results
    assert accepted[0].discount == 20_000
    assert refused[0].code == "error-promo-used"
    async with db.reading() as repos:
        code = await repos.retention.promo_code("BD-RACE22")
        assert code is not None and code.purchase_id == accepted[0].purchase_id
        assert await repos.growth.purchase_count(customer_id) == 1


async def test_many_spends_at_once_never_overdraw(db: Database) -> None:
    """Five sales of 50 points each from 125: two pass, the balance never goes below zero."""
    customer_id = await _customer_with_points(db, 125)
    sales = SalesService(db, ZONE)
    calls = [
        sales.log_sale(
            customer_id=customer_id,
            amount=10_000,
            service_id=None,
            day=None,
            now=NOW + timedelta(seconds=i),
            points=50,
        )
        for i in range(5)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(isinstance(r, SaleReceipt) for r in results) == 2
    assert all(
        isinstance(r, SaleReceipt)
        or (isinstance(r, InputError) and r.code == "error-points-balance")
        for r in results
    ), results
    async with db.reading() as repos:
        assert await repos.growth.balance(customer_id) == 25
