"""`python -m bot dump` / `load`: every table, every row, ids kept, as one JSON-lines file.

The way to move a shop between databases (SQLite → PostgreSQL) without losing anything the
CSV export leaves out: registration, language, consent, the points ledger, bookings and
their cells, promo codes, settings, invite links, campaigns and the outbox.

The file, one JSON value per line:
    {"format": "retention-bot-dump", "version": 1, "revision": "<alembic head>"}
    {"table": "customers", "columns": ["id", ...]}      then one line per row: [1, ...]
    {"table": "services", ...}                           … every table, parents first
Datetimes are ISO 8601 in UTC, booleans JSON booleans, money integer minor units.

The outbox goes along whole, sent rows too: bookings, the inbox and campaign results point
at its rows, and its dedup keys are what stop the scans from sending a birthday greeting
twice. Stop the bot before dumping; a row caught "sending" loads as it was and the bot
reports it as uncertain at start-up, as after a crash.

`load` writes into an empty database migrated to the same revision, in one transaction,
and then moves PostgreSQL's id sequences past the loaded ids so new rows get fresh ones.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Column, DateTime, Integer, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.models import Base
from storage.types import UTCDateTime

FORMAT = "retention-bot-dump"
VERSION = 1
_BATCH = 1000  # rows fetched, and inserted, at a time


class DumpError(Exception):
    """The file or the target database is unusable; nothing was written."""


def tables() -> list[Table]:
    """Every table of the models, each after the tables it refers to."""
    return list(Base.metadata.sorted_tables)


async def dump(db: Database, out: TextIO) -> dict[str, int]:
    """Write every table to `out`; returns the rows written per table.

    One read transaction, so the file is one consistent moment of the database.
    """
    counts: dict[str, int] = {}
    async with db.reading() as repos:
        session = repos.session
        revision = await database_revision(session)
        _write(out, {"format": FORMAT, "version": VERSION, "revision": revision})
        for table in tables():
            columns = list(table.columns)
            _write(out, {"table": table.name, "columns": [c.name for c in columns]})
            counts[table.name] = 0
            async for row in table_rows(session, table):
                _write(out, [_encode(value) for value in row])
                counts[table.name] += 1
    return counts


async def load(db: Database, source: TextIO) -> dict[str, int]:
    """Load a dump into `db`, which must be empty and migrated; returns rows per table."""
    lines = _lines(source)
    head = next(lines, None)
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise DumpError("not a dump made by `python -m bot dump` (no format line)")
    if head.get("version") != VERSION:
        raise DumpError(f"dump format version {head.get('version')} is not supported")
    known = {table.name: table for table in tables()}
    counts: dict[str, int] = {}
    async with db.transaction() as repos:
        session = repos.session
        revision = await database_revision(session)
        if head.get("revision") != revision:
            raise DumpError(
                f"the dump is of database revision {head.get('revision')}, this database is "
                f"at {revision}: run both at the same version of the bot"
            )
        busy = await busy_tables(session)
        if busy:
            raise DumpError(f"the database is not empty ({', '.join(busy)}): load needs a new one")
        for table, columns, rows in _sections(lines, known):
            records = [
                {c.name: _decode(c, v) for c, v in zip(columns, row, strict=True)} for row in rows
            ]
            counts[table.name] = await insert_rows(session, table, _batches(records))
        if db.engine.dialect.name == "postgresql":
            await reset_sequences(session)
    return counts


# ---------------------------------------------------------------- writing


def _write(out: TextIO, value: object) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def table_rows(session: AsyncSession, table: Table) -> AsyncIterator[tuple[Any, ...]]:
    """Every row of `table` in primary-key order, fetched `_BATCH` at a time."""
    order = list(table.primary_key.columns) or list(table.columns)
    stmt = select(*table.columns).order_by(*order).execution_options(yield_per=_BATCH)
    result = await session.stream(stmt)
    async for row in result:
        yield tuple(row)


async def database_revision(session: AsyncSession) -> str | None:
    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


async def busy_tables(session: AsyncSession) -> list[str]:
    """The tables that hold rows: a database to load or copy into must have none."""
    return [
        table.name
        for table in tables()
        if (await session.scalar(select(func.count()).select_from(table))) != 0
    ]


# ---------------------------------------------------------------- reading


def _lines(source: TextIO) -> Iterator[Any]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            raise DumpError(f"line {number} is not JSON: is the file cut short?") from None


Section = tuple[Table, list[Column[Any]], list[list[Any]]]


def _sections(lines: Iterator[Any], known: dict[str, Table]) -> Iterator[Section]:
    """Each table's header and rows, checked against the models."""
    table: Table | None = None
    columns: list[Column[Any]] = []
    rows: list[list[Any]] = []
    for value in lines:
        if isinstance(value, dict):
            if table is not None:
                yield table, columns, rows
            table, columns, rows = _header(value, known), [], []
            columns = [table.columns[name] for name in value["columns"]]
        elif isinstance(value, list) and table is not None and len(value) == len(columns):
            rows.append(value)
        else:
            raise DumpError("a row does not match its table's columns: is the file damaged?")
    if table is not None:
        yield table, columns, rows


def _header(value: dict[str, Any], known: dict[str, Table]) -> Table:
    table = known.get(value.get("table", ""))
    names = value.get("columns")
    if table is None or not isinstance(names, list) or set(names) != set(table.columns.keys()):
        raise DumpError(f"table {value.get('table')!r} does not match this version of the bot")
    return table


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, (UTCDateTime, DateTime)):
        return datetime.fromisoformat(value)
    return value


async def _batches(records: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    for start in range(0, len(records), _BATCH):
        yield records[start : start + _BATCH]


async def insert_rows(
    session: AsyncSession, table: Table, batches: AsyncIterable[list[dict[str, Any]]]
) -> int:
    """Insert the rows (column name → value) with their ids, a batch per statement; a
    reference to the same table is set afterwards. Returns the rows inserted.

    A customer may name as referrer a customer inserted later; PostgreSQL checks a foreign
    key at each statement's end, so such columns are filled in a second pass, once every row
    of the table is in.
    """
    own = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    later: list[dict[str, Any]] = []
    count = 0
    async for batch in batches:
        for record in batch:
            if any(record[name] is not None for name in own):
                later.append({"_id": record["id"], **{name: record[name] for name in own}})
                record.update(dict.fromkeys(own))
        if batch:
            await session.execute(insert(table), batch)
        count += len(batch)
    for record in later:
        key = record.pop("_id")
        await session.execute(update(table).where(table.c.id == key).values(**record))
    return count


def _serial_columns(all_tables: Iterable[Table]) -> Iterator[tuple[str, str]]:
    for table in all_tables:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, Integer) and not keys[0].foreign_keys:
            yield table.name, keys[0].name


async def reset_sequences(session: AsyncSession) -> None:
    """Move each id sequence past the largest loaded id (or back to 1 for an empty table)."""
    for name, column in _serial_columns(tables()):
        # pg_get_serial_sequence gives NULL for a column without a sequence; setval(NULL)
        # is then NULL too, not an error.
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                f'COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{name}"'
            )
        )
