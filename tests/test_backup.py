"""Backups (storage/backup.py, scheduler/backups.py, `python -m bot backup` / `restore`)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import insert, select

import storage.backup
from scheduler import create_scheduler
from scheduler.backups import BackupPlan, backup_if_due
from scheduler.jobs import register_jobs
from storage.backup import BackupError, _revisions, backup, backup_time, backups_in, restore
from storage.database import Database
from storage.dump import database_revision
from storage.models import Customer, Purchase
from tests.test_config_and_cli import run_cli
from tests.test_copy_db import needs_postgres, new_database  # noqa: F401  (a fixture)
from tests.test_dump import MSK, NOON, build_shop, every_row


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Database]:
    # A space in the folder, as in "My Documents": the read-only URI must escape it.
    database = Database(sqlite_url(tmp_path / "my shop" / "bot.db"))
    await database.migrate()
    yield database
    await database.dispose()


async def _customer(db: Database) -> int:
    async with db.transaction() as repos:
        customer = Customer(name="Анна", created_at=NOON)
        repos.session.add(customer)
        await repos.session.flush()
        return customer.id


async def test_a_backup_taken_during_sales_has_every_sale_committed_before_it(
    shop: Database, tmp_path: Path
) -> None:
    anna = await _customer(shop)
    async with shop.transaction() as repos:  # enough pages that the copy takes a while
        await repos.session.execute(
            insert(Purchase),
            [
                {"customer_id": anna, "amount": 1000, "purchased_at": NOON, "created_at": NOON}
                for _ in range(20_000)
            ],
        )
    committed: list[int] = []
    stop, started = asyncio.Event(), asyncio.Event()

    async def sales() -> None:  # the bot logging sales, one transaction each
        while not stop.is_set():
            async with shop.transaction() as repos:
                sale = await repos.purchases.add(
                    customer_id=anna, service_id=None, amount=2500, purchased_at=NOON,
                    created_at=NOON,
                )  # fmt: skip
            committed.append(sale.id)
            if len(committed) >= 20:
                started.set()
            await asyncio.sleep(0)

    writer = asyncio.create_task(sales())
    await started.wait()
    before = list(committed)  # every one of these is committed: the backup must have them
    made = await backup(shop, tmp_path / "backups" / "now.db")
    during = len(committed) - len(before)
    await asyncio.sleep(0.05)
    stop.set()
    await writer

    target = Database(sqlite_url(tmp_path / "restored" / "bot.db"))
    try:
        await restore(target, made)
        async with target.reading() as repos:
            restored = set((await repos.session.scalars(select(Purchase.id))).all())
    finally:
        await target.dispose()
    assert set(before) <= restored
    assert len(restored) >= 20_000 + len(before)
    assert during > 0  # sales were written while the backup was being taken
    with sqlite3.connect(made) as conn:  # one standalone, sound file
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    assert not made.with_name("now.db.partial").exists()


async def test_restore_brings_back_every_row(shop: Database, tmp_path: Path) -> None:
    await build_shop(shop)
    rows = await every_row(shop)
    made = await backup(shop, tmp_path / "shop.db")
    target = Database(sqlite_url(tmp_path / "new" / "bot.db"))
    try:
        await target.migrate()  # a new, migrated, empty database is fine too
        await restore(target, made)
        assert await every_row(target) == rows
    finally:
        await target.dispose()


async def test_an_older_backup_is_brought_up_to_date(tmp_path: Path) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    old = Database(sqlite_url(tmp_path / "old.db"))
    try:
        async with old.engine.begin() as conn:  # a database of the bot's previous version
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0007"))
        made = await backup(old, tmp_path / "old-backup.db")
    finally:
        await old.dispose()
    target = Database(sqlite_url(tmp_path / "new.db"))
    try:
        await restore(target, made)
        async with target.reading() as repos:
            assert await database_revision(repos.session) == _revisions()[-1] != "0007"
    finally:
        await target.dispose()


async def test_restore_refuses_a_database_with_data(shop: Database, tmp_path: Path) -> None:
    await build_shop(shop)
    made = await backup(shop, tmp_path / "shop.db")
    other = Database(sqlite_url(tmp_path / "other.db"))
    try:
        await other.migrate()
        await _customer(other)
        before = await every_row(other)
        with pytest.raises(BackupError, match=r"not empty \(customers\)"):
            await restore(other, made)
        assert await every_row(other) == before
    finally:
        await other.dispose()


async def test_restore_refuses_what_is_not_a_backup(shop: Database, tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("shopping list")
    with pytest.raises(BackupError, match="not a backup"):
        await restore(shop, junk)
    stranger = tmp_path / "stranger.db"
    with sqlite3.connect(stranger) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    target = Database(sqlite_url(tmp_path / "fresh.db"))
    try:
        with pytest.raises(BackupError, match="not a usable backup"):
            await restore(target, stranger)
    finally:
        await target.dispose()


async def test_the_daily_backup_keeps_the_newest_seven(shop: Database, tmp_path: Path) -> None:
    plan = BackupPlan(tmp_path / "backups", keep=7)
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "mine.db").write_text("not ours to delete")
    made = []
    for day in range(10):
        now = NOON + timedelta(days=day)
        made.append(await backup_if_due(shop, plan, now))
        # Checked every hour: the same day brings no second backup.
        assert await backup_if_due(shop, plan, now + timedelta(hours=23)) is None
    assert all(path is not None for path in made)
    kept = backups_in(plan.folder)
    assert kept == made[3:]
    assert [backup_time(path) for path in kept] == [NOON + timedelta(days=d) for d in range(3, 10)]
    assert (tmp_path / "backups" / "mine.db").exists()
    # A day after the newest, the next one is due again.
    assert await backup_if_due(shop, plan, NOON + timedelta(days=10)) is not None
    assert len(backups_in(plan.folder)) == 7


async def test_no_automatic_backup_when_switched_off_or_on_postgres(
    shop: Database, tmp_path: Path
) -> None:
    assert await backup_if_due(shop, BackupPlan(tmp_path / "b", keep=0), NOON) is None
    assert not (tmp_path / "b").exists()
    scheduler = create_scheduler(MSK)
    register_jobs(scheduler, shop, MSK, lambda: NOON, lambda: None, backups=BackupPlan(tmp_path, 0))
    assert scheduler.get_job("backup") is None


def test_the_backup_job_is_registered_beside_the_scans(shop: Database, tmp_path: Path) -> None:
    scheduler: AsyncIOScheduler = create_scheduler(MSK)
    register_jobs(scheduler, shop, MSK, lambda: NOON, lambda: None, backups=BackupPlan(tmp_path, 7))
    job = scheduler.get_job("backup")
    assert job is not None and scheduler.get_job("rebooking") is not None


async def test_postgres_without_pg_dump_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(storage.backup.shutil, "which", lambda _name: None)
    db = Database("postgresql+asyncpg://shop@127.0.0.1:1/shop")
    try:
        with pytest.raises(BackupError, match="pg_dump is not installed"):
            await backup(db, tmp_path / "x.dump")
    finally:
        await db.dispose()
    assert not _files(tmp_path)


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


@needs_postgres
@pytest.mark.skipif(not shutil.which("pg_restore"), reason="needs the PostgreSQL client programs")
async def test_postgres_backup_and_restore(tmp_path: Path, new_database: str) -> None:  # noqa: F811
    source = Database(new_database)
    # A second new database to restore into: the test's own, dropped afterwards.
    name = new_database.rsplit("/", 1)[1] + "_r"
    from tests.test_copy_db import _admin

    await _admin(f"CREATE DATABASE {name}")
    target = Database(new_database.rsplit("/", 1)[0] + f"/{name}")
    try:
        await source.migrate()
        await build_shop(source)
        rows = await every_row(source)
        made = await backup(source, tmp_path / "shop.dump")
        await restore(target, made)
        assert await every_row(target) == rows
        with pytest.raises(BackupError, match="not empty"):
            await restore(target, made)
        async with target.transaction() as repos:  # the sequences came along
            customer = Customer(name="Новая", created_at=NOON)
            repos.session.add(customer)
            await repos.session.flush()
        assert customer.id == max(row[0] for row in rows["customers"]) + 1
    finally:
        await source.dispose()
        await target.dispose()
        await _admin(f"DROP DATABASE {name} WITH (FORCE)")


def test_backup_and_restore_on_the_command_line(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert run_cli("migrate", cwd=old).returncode == 0
    with sqlite3.connect(old / "data" / "bot.db") as conn:
        conn.execute(
            "INSERT INTO customers (id, name, created_at) VALUES (7, 'Анна', '2026-01-01')"
        )
    conn.close()

    made = run_cli("backup", cwd=old)

    assert made.returncode == 0, made.stderr
    [file] = backups_in(old / "data" / "backups")
    assert str(file.relative_to(old)) in made.stdout
    restored = run_cli("restore", str(file), cwd=new)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(new / "data" / "bot.db") as conn:
        assert conn.execute("SELECT name FROM customers WHERE id = 7").fetchone() == ("Анна",)
    conn.close()
    again = run_cli("restore", str(file), cwd=new)
    assert again.returncode == 1 and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    named = run_cli("backup", str(tmp_path / "copy.db"), cwd=old, BACKUP_DIR="elsewhere")
    assert named.returncode == 0 and (tmp_path / "copy.db").is_file()
    missing = run_cli("restore", str(tmp_path / "nope.db"), cwd=new)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_backup_settings_have_defaults_and_bounds() -> None:
    from bot.config import load_settings

    settings = load_settings(_env_file=None)
    assert (settings.backup_dir, settings.backup_keep) == (Path("data/backups"), 7)
    custom = load_settings(_env_file=None, backup_dir=" /srv/backups ", backup_keep="0")
    assert (custom.backup_dir, custom.backup_keep) == (Path("/srv/backups"), 0)
    with pytest.raises(Exception, match="BACKUP_KEEP"):
        load_settings(_env_file=None, backup_keep="-1")
