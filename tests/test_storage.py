"""Storage and services against a real database: SQLite always, PostgreSQL when given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from services.catalogue import CatalogueService
from services.customers import CustomerService, TelegramPerson
from services.errors import InputError
from services.parsing import Birthday
from services.sales import SalesService
from storage.database import Database

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")


async def test_migrations_are_idempotent(db: Database) -> None:
    await db.migrate()
    async with db.reading() as repos:
        assert await repos.customers.count() == 0


async def test_times_come_back_as_aware_utc(db: Database) -> None:
    moment = datetime(2026, 3, 5, 23, 30, tzinfo=MSK)
    async with db.transaction() as repos:
        row = await repos.customers.add(name="A", created_at=moment)
        customer_id = row.id
    async with db.reading() as repos:
        row = await repos.customers.get(customer_id)  # type: ignore[assignment]
        assert row is not None
    assert row.created_at == moment
    assert row.created_at.tzinfo is UTC


async def test_telegram_id_and_phone_are_unique(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.customers.add(telegram_id=1, phone="+79160000000", created_at=NOW)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.customers.add(telegram_id=1, created_at=NOW)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.customers.add(phone="+79160000000", created_at=NOW)


async def test_a_failed_transaction_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as repos:
            await repos.customers.add(name="ghost", created_at=NOW)
            raise RuntimeError("boom")
    async with db.reading() as repos:
        assert await repos.customers.count() == 0


async def test_first_and_repeat_purchases_by_time_then_id(db: Database) -> None:
    customers = CustomerService(db)
    sales = SalesService(db, MSK)
    card = await customers.add_offline("Ivan", "+79160000001", NOW)
    later = await sales.log_sale(
        customer_id=card.id, amount=100, service_id=None, day=None, now=NOW
    )
    assert not later.is_repeat
    earlier_day = (NOW - timedelta(days=3)).astimezone(MSK).date()
    earlier = await sales.log_sale(
        customer_id=card.id, amount=200, service_id=None, day=earlier_day, now=NOW
    )
    assert not earlier.is_repeat  # nothing before it in time
    same_time = await sales.log_sale(
        customer_id=card.id, amount=300, service_id=None, day=None, now=NOW
    )
    assert same_time.is_repeat  # same moment as `later`, but a higher id
    assert same_time.totals.visits == 3
    assert same_time.totals.total == 600
    assert same_time.totals.first_visit == earlier.purchased_at


async def test_find_customers_by_every_handle(db: Database) -> None:
    customers = CustomerService(db)
    anna = await customers.start(
        TelegramPerson(555000111, "Анна", "Петрова", "Anna_P", "ru"), None, NOW
    )
    await customers.set_phone(555000111, "+79161112233")
    await customers.add_offline("Анастасия", "+79161112244", NOW)
    assert [c.id for c in await customers.find("@anna_p")] == [anna.customer.id]
    assert [c.id for c in await customers.find("8 916 111-22-33")] == [anna.customer.id]
    assert [c.id for c in await customers.find("555000111")] == [anna.customer.id]
    assert [c.id for c in await customers.find(f"#{anna.customer.id}")] == [anna.customer.id]
    assert len(await customers.find("ан")) == 2  # Cyrillic, case-insensitive, on both engines
    assert await customers.find("100%") == []
    with pytest.raises(InputError):
        await customers.find_one("ан")
    with pytest.raises(InputError):
        await customers.find_one("nobody")


async def test_merge_keeps_the_owners_record_and_all_purchases(db: Database) -> None:
    customers = CustomerService(db)
    sales = SalesService(db, MSK)
    offline = await customers.add_offline("Maria", "+79165554433", NOW)
    await sales.log_sale(customer_id=offline.id, amount=1000, service_id=None, day=None, now=NOW)
    # "channel": a source the shop made (a stranger's payload would count as "other")
    online = await customers.start(TelegramPerson(77, "Masha", username="masha"), "channel", NOW)
    await sales.log_sale(
        customer_id=online.customer.id, amount=500, service_id=None, day=None, now=NOW
    )
    await customers.set_birthday(77, Birthday(1, 2), NOW)
    merged = await customers.set_phone(77, "+7 916 555 44 33")
    assert merged.id == offline.id
    assert (merged.telegram_id, merged.username, merged.name) == (77, "masha", "Maria")
    assert merged.birthday == Birthday(1, 2)
    assert merged.source == "channel"
    totals = await customers.totals(offline.id)
    assert (totals.visits, totals.total) == (2, 1500)
    assert await customers.card(online.customer.id) is None


async def test_phone_of_another_telegram_account_is_refused(db: Database) -> None:
    customers = CustomerService(db)
    await customers.start(TelegramPerson(1, "A"), None, NOW)
    await customers.set_phone(1, "+79160000009")
    await customers.start(TelegramPerson(2, "B"), None, NOW)
    with pytest.raises(InputError) as error:
        await customers.set_phone(2, "+79160000009")
    assert error.value.code == "error-phone-other-account"


async def test_catalogue(db: Database) -> None:
    catalogue = CatalogueService(db)
    item = await catalogue.add(
        name="  Gel   manicure ", price=250000, cycle_days=21, duration_minutes=None, now=NOW
    )
    assert (item.name, item.duration_minutes) == ("Gel manicure", 60)
    assert (await catalogue.require_by_name("GEL MANICURE")).id == item.id
    with pytest.raises(InputError):
        await catalogue.add(
            name="gel manicure", price=1, cycle_days=None, duration_minutes=None, now=NOW
        )
    await catalogue.change(item.id, "archived", True)
    assert await catalogue.active() == []
    with pytest.raises(InputError):
        await catalogue.require_by_name("gel manicure")


async def test_concurrent_writers_wait_instead_of_failing(db: Database) -> None:
    """SQLite: BEGIN IMMEDIATE + busy_timeout serialise writers instead of 'database is locked'."""
    customers = CustomerService(db)
    sales = SalesService(db, MSK)
    card = await customers.add_offline("Ivan", "+79160000001", NOW)

    async def log(i: int) -> None:
        await sales.log_sale(
            customer_id=card.id, amount=100 + i, service_id=None, day=None, now=NOW
        )

    await asyncio.gather(*(log(i) for i in range(20)))
    totals = await customers.totals(card.id)
    assert totals.visits == 20
