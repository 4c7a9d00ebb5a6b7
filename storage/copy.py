"""`python -m bot copy-db --to URL`: every table of this database into a new PostgreSQL one.

The way a growing shop moves up from its SQLite file without an intermediate dump file: the
rows are read in primary-key order, a batch at a time, and written in one transaction on the
target, ids kept. Before that transaction commits, each table's row count and the sum of each
of its money columns are compared between the two sides; any difference rolls everything back.
Afterwards PostgreSQL's id sequences are moved past the copied ids (as `load` does).

Stop the bot first: the source is read in one transaction, so the copy is one consistent
moment, but sales logged after it would stay behind in the old file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.dump import (
    busy_tables,
    database_revision,
    insert_rows,
    reset_sequences,
    table_rows,
    tables,
)

_BATCH = 1000

# Every integer money column (minor units), by table: their sums must survive the copy.
MONEY: dict[str, tuple[str, ...]] = {
    "services": ("price",),
    "purchases": ("amount", "discount", "points_used"),
    "points_ledger": ("delta",),
}


class CopyError(Exception):
    """The copy cannot be made or did not check out; the target was left as it was."""


@dataclass(frozen=True, slots=True)
class TableTotals:
    """What is compared per table: the rows and the sum of each money column."""

    rows: int
    sums: dict[str, int]


async def copy_database(source: Database, target: Database) -> dict[str, TableTotals]:
    """Copy every table of `source` into `target` (migrated, empty); returns the checked totals.

    The caller migrates both databases to the same revision first.
    """
    async with source.reading() as src, target.transaction() as dst:
        theirs, ours = await database_revision(src.session), await database_revision(dst.session)
        if theirs != ours:
            raise CopyError(
                f"the source is at database revision {theirs}, the target at {ours}: "
                "run `python -m bot migrate` on both with this version of the bot"
            )
        busy = await busy_tables(dst.session)
        if busy:
            raise CopyError(f"the target is not empty ({', '.join(busy)}): copy-db needs a new one")
        for table in tables():
            try:
                await insert_rows(dst.session, table, _records(src.session, table))
            except DBAPIError as exc:  # e.g. a text longer than its column: SQLite let it in
                why = (str(exc.orig).strip().splitlines() or ["?"])[0]
                raise CopyError(f"table {table.name}: the target refused a row ({why})") from None
        totals = {table.name: await totals_of(src.session, table) for table in tables()}
        copied = {table.name: await totals_of(dst.session, table) for table in tables()}
        wrong = [name for name in totals if totals[name] != copied[name]]
        if wrong:
            raise CopyError(
                "the copy does not match the source in "
                + ", ".join(f"{name} ({totals[name]} vs {copied[name]})" for name in wrong)
            )
        if target.engine.dialect.name == "postgresql":
            await reset_sequences(dst.session)
    return totals


async def totals_of(session: AsyncSession, table: Table) -> TableTotals:
    """The row count and each money column's sum, computed by the database."""
    money = MONEY.get(table.name, ())
    row = (
        await session.execute(
            select(
                func.count(), *(func.coalesce(func.sum(table.c[name]), 0) for name in money)
            ).select_from(table)
        )
    ).one()
    # PostgreSQL sums bigint as numeric (a Decimal); SQLite gives an int.
    return TableTotals(
        int(row[0]), {name: int(value) for name, value in zip(money, row[1:], strict=True)}
    )


async def _records(session: AsyncSession, table: Table) -> AsyncIterator[list[dict[str, Any]]]:
    names = [column.name for column in table.columns]
    batch: list[dict[str, Any]] = []
    async for row in table_rows(session, table):
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
