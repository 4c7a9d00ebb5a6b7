"""One holder at a time across processes: PostgreSQL advisory locks (SQLite: one process).

Several bot instances run the same scheduled scans. The outbox dedup keys already make a
second run harmless; the lock saves the duplicate work (and the duplicate log lines) by
letting one instance scan while the others skip that round.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from storage.database import Database

log = logging.getLogger(__name__)

# Two int4 keys: the schema (so test schemas, or two shops in one database, never contend)
# and the lock's name. hashtext is PostgreSQL's own string hash, the same in every process.
_TRY = text("SELECT pg_try_advisory_lock(hashtext(current_schema()), hashtext(:name))")
_RELEASE = text("SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext(:name))")


@asynccontextmanager
async def exclusive(db: Database, name: str) -> AsyncIterator[bool]:
    """Yields True when this process holds `name` for the block, False when another does.

    A session-level lock on a connection of its own, held outside any transaction, so a
    long scan keeps no transaction open; if the process dies, PostgreSQL drops the lock with
    its connection. SQLite: always True (one process owns the file).
    """
    if db.is_sqlite:
        yield True
        return
    async with db.engine.connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
        acquired = bool(await conn.scalar(_TRY, {"name": name}))
        try:
            yield acquired
        finally:
            if acquired:
                await conn.scalar(_RELEASE, {"name": name})
