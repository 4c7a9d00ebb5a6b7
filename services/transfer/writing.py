"""Writing CSV: comma-separated lines any spreadsheet splits the same way, and cell texts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

# Quoted on export: any separator a spreadsheet may split on, quotes and line breaks.
_QUOTE_IF = frozenset(',;\t"\r\n')


def csv_line(cells: Sequence[str]) -> str:
    """One CSV line, comma-separated; a cell with any separator or a formula mark is quoted,
    so it stays one cell whichever separator the spreadsheet splits on."""
    return ",".join(_quoted(cell) for cell in cells) + "\n"


def _quoted(cell: str) -> str:
    if cell.startswith("'") or not _QUOTE_IF.isdisjoint(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def money_text(minor: int) -> str:
    """Always two decimals with a dot: 2500.00, 2500.50 (parse_money reads it back)."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """YYYY-MM-DD HH:MM:SS in the shop's zone.

    In the repeated hour when clocks go back, the wall time alone names two moments: there
    the UTC offset is added ("2025-10-26 02:30:00+01:00") so the moment comes back exactly.
    """
    local = moment.astimezone(zone).replace(microsecond=0)
    if local.replace(fold=0).utcoffset() != local.utcoffset():
        return local.isoformat(sep=" ")
    return local.strftime("%Y-%m-%d %H:%M:%S")
