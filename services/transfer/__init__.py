"""CSV import and export of customers, purchases and services.

For owners moving in from a spreadsheet or another CRM (`python -m bot export|import ...`).
Exports stream rows; an import reads the whole file, checks every row, and writes in one
transaction only when no row is bad, so a file is imported entirely or not at all.

The modules by job: `reading` and `writing` (CSV as spreadsheets save and open it, with
`formulas` keeping text from running as a formula), `cells` (parsing one cell), the importers
`customers`, `purchases` and `catalogue` (services), `importing` and `export` (the entry
points); the SQL is storage/transfer.py's.
"""

from __future__ import annotations

from services.transfer.columns import COLUMNS, KINDS
from services.transfer.export import export_csv
from services.transfer.importing import import_csv
from services.transfer.reading import decode_csv
from services.transfer.report import MAX_ERRORS, ImportFailed, ImportReport

__all__ = [
    "COLUMNS",
    "KINDS",
    "MAX_ERRORS",
    "ImportFailed",
    "ImportReport",
    "decode_csv",
    "export_csv",
    "import_csv",
]
