"""`python -m bot copy-db --to URL` (storage/copy.py): a SQLite shop moves up to PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

import storage.copy
from storage.copy import MONEY, CopyError, copy_database
from storage.database import Database
from storage.dump import tables
from storage.models import Customer, Purchase
from tests.conftest import POSTGRES_URL, _async_url
from tests.test_config_and_cli import run_cli
from tests.test_dump import NOON, build_shop, every_row

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="copy-db tests need TEST_POSTGRES_URL (a PostgreSQL server)"
)


async def _admin(statement: str) -> None:
    assert POSTGRES_URL
    engine = create_async_engine(_async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def new_database() -> AsyncIterator[str]:
    """The URL of a new PostgreSQL database with no tables; dropped afterwards.

    A whole database rather than a schema: copy-db, pg_dump and the CLI take a plain URL."""
    name = f"h8_copy_{uuid.uuid4().hex[:12]}"
    await _admin(f"CREATE DATABASE {name}")
    assert POSTGRES_URL
    base = _async_url(POSTGRES_URL)
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await _admin(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
async def target(new_database: str) -> AsyncIterator[Database]:
    database = Database(new_database)
    await database.migrate()
    yield database
    await database.dispose()


async def build_big_shop(db: Database) -> None:
    """The dump test's shop (customers, one brought by the other, sales with points, a booking,
    a promo code, settings) plus outbox rows and more sales than one insert batch."""
    await build_shop(db)
    async with db.transaction() as repos:
        anna = await repos.session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        assert anna is not None
        for number in range(3):
            await repos.outbox.insert_once(
                dedup_key=f"test:{number}",
                kind="campaign",
                customer_id=anna,
                chat_id=42,
                payload=json.dumps({"text": f"Скидка {number}"}),
                status="sent" if number else "pending",
                not_before=NOON,
                created_at=NOON,
            )
        repos.session.add_all(
            Purchase(
                customer_id=anna,
                amount=1000 + n,
                discount=n % 7,
                purchased_at=NOON,
                created_at=NOON,
            )
            for n in range(2500)  # several batches of 1000
        )


@needs_postgres
async def test_every_row_is_copied_and_checked(source: Database, target: Database) -> None:
    await build_big_shop(source)
    rows = await every_row(source)
    for name in ("customers", "purchases", "points_ledger", "bookings", "promo_codes", "outbox"):
        assert rows[name], f"the shop has no {name}: the test would prove nothing"

    totals = await copy_database(source, target)

    assert await every_row(target) == rows
    assert {name: t.rows for name, t in totals.items()} == {n: len(r) for n, r in rows.items()}
    purchases = rows["purchases"]
    assert totals["purchases"].sums["amount"] == sum(row[3] for row in purchases) > 2_500_000
    for table, columns in MONEY.items():
        assert set(totals[table].sums) == set(columns)
    # The sequences were moved past the copied ids: new rows get fresh ones.
    async with target.transaction() as repos:
        purchase = await repos.purchases.add(
            customer_id=purchases[0][1], service_id=None, amount=100, purchased_at=NOON,
            created_at=NOON,
        )  # fmt: skip
        customer = Customer(name="Новая", created_at=NOON)
        repos.session.add(customer)
        await repos.session.flush()
    assert purchase.id == max(row[0] for row in purchases) + 1
    assert customer.id == max(row[0] for row in rows["customers"]) + 1


def test_money_columns_are_the_models_integer_money() -> None:
    """Every column MONEY names exists; a new money column in the models should join it."""
    known = {table.name: table for table in tables()}
    for table, columns in MONEY.items():
        for column in columns:
            assert column in known[table].columns


@needs_postgres
async def test_a_target_with_data_is_refused(source: Database, target: Database) -> None:
    await build_shop(source)
    await copy_database(source, target)
    before = await every_row(target)
    with pytest.raises(CopyError, match="not empty"):
        await copy_database(source, target)
    assert await every_row(target) == before


@needs_postgres
async def test_a_copy_that_does_not_add_up_writes_nothing(
    source: Database, target: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed amount (here: the copy adds a kopeck to one sale) fails the check and rolls
    everything back."""
    await build_shop(source)
    real = storage.copy.insert_rows

    async def a_kopeck_more(session: Any, table: Any, batches: Any) -> int:
        async def changed() -> AsyncIterator[list[dict[str, Any]]]:
            async for batch in batches:
                if table.name == "purchases":
                    batch[0]["amount"] += 1
                yield batch

        return await real(session, table, changed())

    monkeypatch.setattr(storage.copy, "insert_rows", a_kopeck_more)
    with pytest.raises(CopyError, match="does not match the source in purchases"):
        await copy_database(source, target)
    assert not any((await every_row(target)).values())


@pytest.fixture
def shop_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "shop"
    folder.mkdir()
    yield folder


@needs_postgres
async def test_copy_db_on_the_command_line(shop_folder: Path, new_database: str) -> None:
    """A database with no tables is migrated first; the second run is refused in one line."""
    made = await asyncio.to_thread(run_cli, "migrate", cwd=shop_folder)
    assert made.returncode == 0, made.stderr
    db = Database(f"sqlite+aiosqlite:///{shop_folder / 'data' / 'bot.db'}")
    try:
        await build_shop(db)
    finally:
        await db.dispose()
    plain = new_database.replace("postgresql+asyncpg://", "postgresql://")

    copied = await asyncio.to_thread(run_cli, "copy-db", "--to", plain, cwd=shop_folder)

    assert copied.returncode == 0, copied.stderr
    assert "copied" in copied.stdout and "purchases" in copied.stdout
    again = await asyncio.to_thread(run_cli, "copy-db", "--to", plain, cwd=shop_folder)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("nothing copied: the target is not empty")
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://shop@localhost/shop", "unsupported database 'mysql'"),
        ("sqlite:///other.db", "copies into PostgreSQL"),
        ("postgresql://nobody:secret@127.0.0.1:1/shop", "cannot open postgresql://nobody:***@"),
    ],
)
def test_a_bad_url_gets_one_clear_line(shop_folder: Path, url: str, says: str) -> None:
    result = run_cli("copy-db", "--to", url, cwd=shop_folder)
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "secret" not in result.stderr
