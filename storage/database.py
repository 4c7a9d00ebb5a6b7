"""Engine and transactions: the one place that commits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.migrate import upgrade_to_head
from storage.repositories import Repositories

_READ_ONLY = "retention_read_only"

log = logging.getLogger(__name__)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, busy_timeout, foreign keys, and BEGIN IMMEDIATE for writing transactions.

    A DEFERRED transaction that starts reading and then writes can fail at once with
    "database is locked" whatever busy_timeout says; IMMEDIATE takes the write lock up front
    so a second writer waits instead. Read-only sessions keep a plain BEGIN so they never
    queue behind writers (WAL lets them read during a write).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let us emit BEGIN ourselves instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed, not left in the file's free space: a
        # forgotten customer's old name and phone must not be readable from bot.db.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _hide_server_details(engine: AsyncEngine) -> None:
    """PostgreSQL's DETAIL repeats the values of a failed row ("Key (phone)=(+7916…) already
    exists"); hide_parameters cannot reach it, so it is dropped before anyone logs the error.
    The constraint's name and the SQLSTATE stay, enough to tell what went wrong."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def on_error(context: ExceptionContext) -> None:
        error: BaseException | None = context.original_exception
        while error is not None:
            if getattr(error, "detail", None):
                error.detail = None  # type: ignore[attr-defined]
            error = error.__cause__


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """Owns the engine; hands out transactions as bundles of repositories."""

    def __init__(
        self, url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: SQL errors (logged with their statement) never show the bound
        # values, which are phones and names.
        kwargs: dict[str, Any] = {
            "echo": echo,
            "connect_args": connect_args or {},
            "hide_parameters": True,
        }
        if self.is_sqlite:
            _ensure_sqlite_folder(url)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        else:
            _hide_server_details(self.engine)
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader = async_sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """One unit of work: commits when the block ends, rolls back on an exception."""
        async with self._writer() as session, session.begin():
            yield Repositories(session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Repositories]:
        """A read-only view; never takes SQLite's write lock."""
        async with self._reader() as session, session.begin():
            yield Repositories(session)

    async def migrate(self) -> None:
        await upgrade_to_head(self.engine)

    async def check_writable(self) -> None:
        """Raises the driver's error when writes are refused (a read-only file or user).

        A no-op update of the migration mark: the smallest real write on both engines.
        """
        async with self.transaction() as repos:
            await repos.session.execute(
                text("UPDATE alembic_version SET version_num = version_num")
            )

    async def checkpoint(self) -> None:
        """SQLite: move the write-ahead log into the database file and empty the log.

        Until a checkpoint, old versions of changed rows stay readable in bot.db-wal; after
        erasing a person they must go now, not at the next shutdown.
        """
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            # The raw connection: a PRAGMA inside our BEGIN IMMEDIATE could not checkpoint.
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = await cursor.fetchone()
            await cursor.close()
        if busy:
            # A reader still holds an old snapshot; SQLite checkpoints again by itself later.
            log.warning("WAL checkpoint was busy; the log is emptied at the next checkpoint")

    async def dispose(self) -> None:
        await self.engine.dispose()
