"""`python -m bot dump` / `load` (storage/dump.py): every table survives a move of databases."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from services.bookings import BookingService
from services.catalogue import CatalogueService
from services.customers import CustomerService, TelegramPerson
from services.sales import SalesService
from services.shop import ShopService
from storage.database import Database
from storage.dump import DumpError, dump, load, tables
from storage.models import Customer, Purchase
from tests.test_config_and_cli import run_cli

MSK = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'source.db'}")
    await database.migrate()
    yield database
    await database.dispose()


async def build_shop(db: Database) -> None:
    """Customers (one brought by the other), sales with points, a booking, a promo code, a
    setting — all through the services, as the bot makes them."""
    customers = CustomerService(db)
    anna = await customers.start(TelegramPerson(42, "Anna", language="ru"), None, NOON)
    await customers.finish_registration(42, True, NOON)
    bob = await customers.start(TelegramPerson(43, "Bob", language="en"), None, NOON)
    await customers.finish_registration(43, False, NOON)
    async with db.transaction() as repos:
        row = await repos.customers.get(bob.customer.id)
        assert row is not None
        row.referred_by = anna.customer.id
    await ShopService(db).set("cashback_percent", "10")
    manicure = await CatalogueService(db).add(
        name="Маникюр", price=250000, cycle_days=21, duration_minutes=90, now=NOON
    )
    sales = SalesService(db, MSK)
    for days in (40, 10):
        day = (NOON - timedelta(days=days)).astimezone(MSK).date()
        await sales.log_sale(
            customer_id=anna.customer.id, amount=250000, service_id=manicure.id, day=day, now=NOON
        )
    starts = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 12:00 in Moscow
    await BookingService(db, MSK).book(
        telegram_id=42, service_id=manicure.id, starts_at=starts, now=NOON
    )
    async with db.transaction() as repos:
        await repos.retention.add_promo_code(
            code="BDAY42",
            customer_id=anna.customer.id,
            kind="birthday",
            percent=15,
            valid_from=NOON,
            valid_until=NOON + timedelta(days=14),
            created_at=NOON,
        )


async def every_row(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.reading() as repos:
        for table in tables():
            order = list(table.primary_key.columns)
            result = await repos.session.execute(select(table).order_by(*order))
            found[table.name] = [tuple(row) for row in result]
    return found


async def dumped(db: Database) -> str:
    out = io.StringIO()
    await dump(db, out)
    return out.getvalue()


async def test_dump_and_load_keep_every_row(source: Database, db: Database) -> None:
    await build_shop(source)
    rows = await every_row(source)
    for name in (
        "customers",
        "purchases",
        "points_ledger",
        "bookings",
        "booking_cells",
        "promo_codes",
        "services",
        "shop_settings",
    ):
        assert rows[name], f"the shop has no {name}: the test would prove nothing"

    counts = await load(db, io.StringIO(await dumped(source)))

    assert await every_row(db) == rows
    assert counts == {name: len(found) for name, found in rows.items()}
    # The ids were kept and the sequences moved past them: a new row gets a fresh id.
    anna = rows["customers"][0]
    async with db.transaction() as repos:
        purchase = await repos.purchases.add(
            customer_id=anna[0], service_id=None, amount=100, purchased_at=NOON, created_at=NOON
        )
        customer = Customer(name="Новая", created_at=NOON)
        repos.session.add(customer)
        await repos.session.flush()
    assert purchase.id == max(row[0] for row in rows["purchases"]) + 1
    assert customer.id == max(row[0] for row in rows["customers"]) + 1


async def test_load_refuses_a_database_that_is_not_empty(source: Database, db: Database) -> None:
    await build_shop(source)
    text_of_dump = await dumped(source)
    await load(db, io.StringIO(text_of_dump))
    with pytest.raises(DumpError, match="not empty"):
        await load(db, io.StringIO(text_of_dump))
    async with db.reading() as repos:  # nothing was added by the refused load
        assert len((await repos.session.scalars(select(Purchase))).all()) == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "not a dump"),
        ('{"format": "something else"}\n', "not a dump"),
        ('{"format": "retention-bot-dump", "version": 99}\n', "version 99"),
        ('{"format": "retention-bot-dump", "version": 1, "revision": "0001"}\n', "revision"),
    ],
)
async def test_load_refuses_a_bad_file(source: Database, content: str, says: str) -> None:
    with pytest.raises(DumpError, match=says):
        await load(source, io.StringIO(content))


async def test_load_refuses_a_damaged_file(source: Database, tmp_path: Path) -> None:
    await build_shop(source)
    whole = await dumped(source)
    target = Database(f"sqlite+aiosqlite:///{tmp_path / 'target.db'}")
    await target.migrate()
    try:
        with pytest.raises(DumpError, match="not JSON"):
            await load(target, io.StringIO(whole[: len(whole) // 2] + "\n"))
        async with target.reading() as repos:  # one transaction: all or nothing
            assert await repos.session.scalar(text("SELECT COUNT(*) FROM customers")) == 0
    finally:
        await target.dispose()


def test_dump_and_load_on_the_command_line(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert run_cli("migrate", cwd=old).returncode == 0
    with sqlite3.connect(old / "data" / "bot.db") as conn:
        conn.execute(
            "INSERT INTO customers (id, name, created_at) VALUES (7, 'Анна', '2026-01-01')"
        )
    made = run_cli("dump", str(tmp_path / "shop.jsonl"), cwd=old)
    assert made.returncode == 0, made.stderr
    loaded = run_cli("load", str(tmp_path / "shop.jsonl"), cwd=new)
    assert loaded.returncode == 0, loaded.stderr
    again = run_cli("load", str(tmp_path / "shop.jsonl"), cwd=new)
    assert again.returncode == 1 and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    missing = run_cli("load", str(tmp_path / "nope.jsonl"), cwd=new)
    assert missing.returncode == 2 and "no such file" in missing.stderr
