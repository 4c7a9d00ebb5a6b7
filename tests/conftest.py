"""Shared fixtures: a controllable clock, databases (SQLite always, PostgreSQL when given),
and the real bot polling a fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import functools
import gettext
import inspect
import io
import os
import shutil
import ssl
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import asyncpg
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session import aiohttp as aiohttp_session_module
from aiogram.dispatcher.event.handler import CallableObject
from sqlalchemy import event

import bot.app as app_module
import scheduler.delivery as delivery_module
from bot.app import create_bot, create_dispatcher
from bot.config import Settings, load_settings
from services.catalogue import CatalogueService
from services.ratelimit import RateLimiter
from storage.database import Database
from tests.fakes.telegram import FakeTelegram, TelegramUser
from ui.i18n import CatalogI18n
from ui.telegram_requests import pace_requests

OWNER_ID = 1000
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
T = TypeVar("T")


@dataclass
class FakeClock:
    """The time as the bot sees it; tests move it forward by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Monotonic:
    """A hand-moved monotonic clock for the limiter; its sleep moves time instead of waiting."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


async def eventually(
    check: Callable[[], Any], within: float = 5.0, what: str = "the condition"
) -> None:
    """Wait for something the bot brings about in the background (the outbox, a burst)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > give_up:
            pytest.fail(f"{what}: not within {within}s")
        await asyncio.sleep(0.02)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_limits: the bot's default limiter keeps Telegram's pace (1/s per chat)"
    )


# Tests that wait on real time (processes starting and dying, Telegram's pace): started first,
# so the other workers fill those waits instead of everyone waiting for them at the end.
LONG_WAITS: tuple[str, ...] = (
    "test_scaleout.py",
    "test_crash.py",
    "test_telegram_limits.py",
    "test_outages.py",
    "test_startup.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in LONG_WAITS)  # stable: the rest keep order


@pytest.fixture(autouse=True, scope="session")
def catalogues_parsed_once() -> Iterator[None]:
    """Every dispatcher parses the .po files again (tens of milliseconds, twice per bot); the
    catalogues do not change during a run, so each process parses them once."""
    parse = CatalogI18n.find_locales
    parsed: dict[Path, dict[str, gettext.GNUTranslations]] = {}

    def find_locales(self: CatalogI18n) -> dict[str, gettext.GNUTranslations]:
        if self.path not in parsed:
            parsed[self.path] = parse(self)
        return dict(parsed[self.path])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CatalogI18n, "find_locales", find_locales)
        yield


def _signature_key(callback: Any) -> object | None:
    """What a handler's or filter's signature depends on, or None when it is not reusable."""
    callback = inspect.unwrap(callback)
    # A function's parameters come from its code object: every `lambda: True` aiogram makes
    # for an event observer shares one.
    if inspect.isfunction(callback):
        return callback.__code__
    if inspect.ismethod(callback):
        return ("bound", callback.__func__.__code__)
    if isinstance(callback, functools.partial) or inspect.isclass(callback):
        return None
    return ("instance", type(callback))  # a filter object: its class's __call__


@pytest.fixture(autouse=True, scope="session")
def dispatchers_built_quickly() -> Iterator[None]:
    """Each dispatcher the tests build (hundreds per run) makes aiogram inspect the signature
    of every handler and filter again, about 60 ms of CPU a dispatcher, and each bot session
    loads the system's CA certificates into a new SSL context (17 ms). Both results depend
    only on code and files that do not change during a run, so each process does them once."""
    post_init = CallableObject.__post_init__
    inspected: dict[object, tuple[bool, frozenset[str], bool]] = {}

    def cached_post_init(self: CallableObject) -> None:
        key = _signature_key(self.callback)
        known = inspected.get(key) if key is not None else None
        if known is None:
            post_init(self)
            if key is not None:
                inspected[key] = (self.awaitable, frozenset(self.params), self.varkw)
            return
        self.awaitable, params, self.varkw = known
        self.params = set(params)

    context = functools.lru_cache(maxsize=None)(ssl.create_default_context)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CallableObject, "__post_init__", cached_post_init)
        # Only aiogram's session module sees the cached context (a namespace of its own).
        patch.setattr(
            aiohttp_session_module, "ssl", SimpleNamespace(create_default_context=context)
        )
        yield


@pytest.fixture(autouse=True)
def fast_limiter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiters the bot makes for itself (the worker's, create_bot's) let everything through
    at once: Telegram's pace of 1 message a second per chat only slows down tests that do not
    test it. Tests of the pacing pass their own limiter, or are marked ``real_limits``."""
    if request.node.get_closest_marker("real_limits"):
        return
    fast = functools.partial(RateLimiter, 10_000, 10_000, margin=0)
    monkeypatch.setattr(delivery_module, "RateLimiter", fast)
    monkeypatch.setattr(app_module, "RateLimiter", fast)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _in_a_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a loop of its own: session fixtures are synchronous and
    must not touch the event loop pytest-asyncio gives each test."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _async_url(url: str) -> str:
    return load_settings(database_url=url, _env_file=None).database_url


async def _migrate_sqlite(path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.migrate()
    await database.dispose()  # the last connection checkpoints: everything is in the file


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per session; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    _in_a_thread(_migrate_sqlite(path))
    for leftover in ("-wal", "-shm"):
        assert not path.with_name(path.name + leftover).exists(), "template not checkpointed"
    return path


async def _migrated_copy(template: Path, path: Path) -> Database:
    shutil.copyfile(template, path)
    return Database(f"sqlite+aiosqlite:///{path}")


async def _record_migration(url: str) -> str:
    """Migrate a scratch schema once and return the SQL that did it, as one script.

    Replaying the script builds the same tables in a fresh schema in a few milliseconds,
    where alembic takes most of a second: PostgreSQL has no built-in copy of a schema.
    """
    schema = f"tmpl_{uuid.uuid4().hex[:12]}"
    await _execute(url, f"CREATE SCHEMA {schema}")
    database = Database(_async_url(url), connect_args={"server_settings": {"search_path": schema}})
    statements: list[str] = []

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            return  # alembic looking at the catalogue: nothing to replay
        # Migrations run DDL and literal version marks only; a bound value would be lost.
        assert not parameters, f"a migration statement with parameters: {statement}"
        statements.append(statement.strip())

    try:
        await database.migrate()
    finally:
        await database.dispose()
        await _execute(url, f"DROP SCHEMA {schema} CASCADE")
    return ";\n".join(statements) + ";"


async def _execute(url: str, script: str) -> None:
    """One short connection; several statements run as one implicit transaction."""
    connection = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    try:
        await connection.execute(script)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_script() -> str:
    """The migrations' SQL, recorded once per session (skips without TEST_POSTGRES_URL)."""
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    return _in_a_thread(_record_migration(POSTGRES_URL))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database: every storage test runs on both engines."""
    if request.param == "sqlite":
        database = await _migrated_copy(sqlite_template, tmp_path / "test.db")
        yield database
        await database.dispose()
        return
    script = request.getfixturevalue("postgres_script")
    assert POSTGRES_URL
    # A schema of its own per test: parallel runs never see each other's tables.
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _execute(POSTGRES_URL, f"CREATE SCHEMA {schema}; SET search_path TO {schema};\n{script}")
    database = Database(
        _async_url(POSTGRES_URL), connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        yield database
    finally:
        await database.dispose()
        await _execute(POSTGRES_URL, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    database = await _migrated_copy(sqlite_template, tmp_path / "bot.db")
    yield database
    await database.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
    await _no_stray_tasks()


async def _no_stray_tasks(grace: float = 5.0) -> None:
    """Tasks a test leaves running are cancelled here, with a bound: a task that ignores its
    cancellation would otherwise hang the event loop's close, and the run, without a word."""
    current = asyncio.current_task()
    stray = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    if not stray:
        return
    for task in stray:
        task.cancel()
    _done, pending = await asyncio.wait(stray, timeout=grace)
    if pending:
        stacks = io.StringIO()
        for task in pending:
            task.print_stack(file=stacks)
        pytest.fail(f"{len(pending)} task(s) ignored cancellation:\n{stacks.getvalue()}")


def make_settings(fake: FakeTelegram, database: Database, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": "123456:TEST-TOKEN",
        "owner_ids": str(OWNER_ID),
        "database_url": database.url,
        "telegram_api_url": fake.base_url,
        "timezone": "Europe/Moscow",
        "default_language": "ru",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class RunningBot:
    fake: FakeTelegram
    dp: Dispatcher
    bot: Bot
    db: Database
    settings: Settings
    clock: FakeClock

    def user(self, user_id: int, **profile: object) -> TelegramUser:
        return self.fake.user(user_id, **profile)  # type: ignore[arg-type]

    @property
    def owner(self) -> TelegramUser:
        return self.fake.user(OWNER_ID, first_name="Owner", language_code="en")


def use_limiter(app: RunningBot, limiter: RateLimiter) -> None:
    """Swap the process's one limiter (the worker's, and the bot's requests through it): tests
    that switch on the fake's flood limits pace the bot as production does."""
    app.dp["delivery"].limiter = app.dp["limiter"] = limiter
    pace_requests(app.bot, limiter)


async def register(
    app: RunningBot,
    user_id: int,
    name: str | None = None,
    phone: str | None = None,
    *,
    start: str = "/start",
) -> TelegramUser:
    """A customer who goes through /start: shares a phone, skips the birthday, agrees to offers."""
    person = app.user(user_id, first_name=name or f"User{user_id}", language_code="en")
    await person.send(start)
    await person.share_contact(phone or f"7916{user_id:07d}")
    await person.send("Skip")
    await person.click("Yes, send me offers")
    await drained(app)  # the owners' "new customer" notice is out before the test goes on
    return person


@pytest.fixture
async def app(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The production dispatcher and bot, polling the fake server."""
    settings = make_settings(fake, sqlite_db)
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    # Telegram's pace (1 message a second per chat) only where a test checks the pacing: the
    # fake enforces no limits unless a test calls fake.rate_limits() and swaps the limiter in.
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])) as bot:
        yield RunningBot(fake, dp, bot, sqlite_db, settings, clock)


async def drained(target: RunningBot | Dispatcher, within: float = 5.0) -> None:
    """Wait until the outbox worker has sent every row due now (owner notices, thank-yous):
    they go out after the conversation turn that queued them has ended."""
    dp = target.dp if isinstance(target, RunningBot) else target
    worker = dp["delivery"]
    worker.notify()  # also rows a test queued by hand or made due by moving the clock
    try:
        async with asyncio.timeout(within):
            await worker.drained.wait()
    except TimeoutError:
        pytest.fail(f"the outbox was not drained within {within}s")


async def manicure_and_two_customers(db: Database, now: datetime) -> int:
    """A 60-minute Manicure (2 500) and customers on Telegram 42 and 43; the service's id."""
    item = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=now
    )
    async with db.transaction() as repos:
        for telegram_id in (42, 43):
            await repos.customers.add(
                telegram_id=telegram_id, name=f"C{telegram_id}", registered_at=now, created_at=now
            )
    return item.id
