"""Engine and transactions: the one place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.migrate import upgrade_to_head
from storage.repositories import Repositories

_READ_ONLY = "retention_read_only"


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
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


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
        kwargs: dict[str, Any] = {"echo": echo, "connect_args": connect_args or {}}
        if self.is_sqlite:
            _ensure_sqlite_folder(url)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
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

    async def dispose(self) -> None:
        await self.engine.dispose()
