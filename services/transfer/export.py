"""Export: every row of a kind as CSV, streamed from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TextIO
from zoneinfo import ZoneInfo

from services.parsing import Birthday
from services.transfer.columns import COLUMNS, check_kind
from services.transfer.formulas import safe
from services.transfer.writing import csv_line, local_text, money_text
from storage.database import Database
from storage.transfer import TransferRepository


async def export_csv(db: Database, kind: str, out: TextIO, *, zone: ZoneInfo) -> int:
    """Write all rows of `kind` as CSV (comma, header first); returns the rows written."""
    check_kind(kind)
    out.write(csv_line(COLUMNS[kind]))
    async with db.reading() as repos:
        if kind == "customers":
            rows = _customer_lines(repos.transfer)
        elif kind == "purchases":
            rows = _purchase_lines(repos.transfer, zone)
        else:
            rows = _service_lines(repos.transfer)
        count = 0
        async for line in rows:
            out.write(csv_line(line))
            count += 1
    return count


async def _customer_lines(transfer: TransferRepository) -> AsyncIterator[list[str]]:
    async for row in transfer.customers_for_export():
        # A birthday without the year as people write it, 05.03 (ISO's "--03-05" reads as
        # a formula to a spreadsheet and as nonsense to a person); with the year, ISO.
        birthday = None
        if row.birth_day and row.birth_month:
            known = Birthday(row.birth_day, row.birth_month, row.birth_year)
            birthday = known.iso() if row.birth_year is not None else known.as_text()
        yield [
            safe(row.external_id),
            safe(row.name),
            safe(row.phone),
            "" if row.telegram_id is None else str(row.telegram_id),
            safe(birthday),
            safe(row.source),
            "" if row.consent is None else ("yes" if row.consent else "no"),
        ]


async def _purchase_lines(transfer: TransferRepository, zone: ZoneInfo) -> AsyncIterator[list[str]]:
    async for row in transfer.purchases_for_export():
        customer = (
            safe(row.external_id)
            or safe(row.phone)
            or ("" if row.telegram_id is None else str(row.telegram_id))
        )
        yield [
            customer,
            local_text(row.purchased_at, zone),
            money_text(row.amount),
            safe(row.service),
        ]


async def _service_lines(transfer: TransferRepository) -> AsyncIterator[list[str]]:
    async for row in transfer.services_for_export():
        yield [
            safe(row.name),
            money_text(row.price),
            "" if row.cycle_days is None else str(row.cycle_days),
            str(row.duration_minutes),
            "yes" if row.archived else "no",
        ]
