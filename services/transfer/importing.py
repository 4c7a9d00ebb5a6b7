"""Import: a whole file checked, then written in one transaction, or nothing written."""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from services.transfer.catalogue import import_services
from services.transfer.columns import check_kind
from services.transfer.customers import import_customers
from services.transfer.purchases import import_purchases
from services.transfer.reading import as_text, read_table
from services.transfer.report import ImportReport
from storage.database import Database


async def import_csv(
    db: Database, kind: str, source: TextIO | BinaryIO, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    """Import a CSV of `kind`: everything, or nothing and ImportFailed naming the bad rows.

    Give the file opened in binary mode to have its encoding detected (decode_csv); text
    is taken as it is.
    """
    check_kind(kind)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    table = read_table(as_text(source), kind)
    # One transaction: every row is checked before anything is written, and a failure while
    # writing rolls back what was written before it, so a file goes in entirely or not at all.
    async with db.transaction() as repos:
        if kind == "customers":
            return await import_customers(repos, table, zone=zone, now=now)
        if kind == "purchases":
            return await import_purchases(repos, table, zone=zone, now=now)
        return await import_services(repos, table, now=now)
