"""Reading CSV files as people have them.

UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text") or Windows-1251 (Russian Excel's
"CSV"), separated by commas, semicolons or tabs; blank lines and Excel's ";;;" rows skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

from services.transfer.columns import COLUMNS, IDENTITIES, REQUIRED, listed
from services.transfer.formulas import unmarked
from services.transfer.report import BadRows, ImportFailed


def decode_csv(data: bytes) -> str:
    """The text of a file as spreadsheets save it.

    A BOM names its encoding (UTF-8, or UTF-16 from Excel's "Unicode text"); otherwise UTF-8
    when the bytes are valid UTF-8, which Windows-1251 Cyrillic practically never is, and
    else Windows-1251, what Russian Excel writes for "CSV (comma delimited)".
    """
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8",)
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed(
        [(1, f"the file is not {' or '.join(encodings)} text: save it as CSV UTF-8")]
    )


def as_text(source: TextIO | BinaryIO) -> TextIO:
    """Text as it is; bytes decoded (decode_csv)."""
    if isinstance(source, io.TextIOBase):
        return source
    data = source.read()
    if isinstance(data, str):
        return io.StringIO(data, newline="")
    # newline="": csv sees \r\n, \n and a lone \r (old Mac Excel) as line ends itself.
    return io.StringIO(decode_csv(data), newline="")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class Table:
    columns: frozenset[str]  # the known columns the header has
    rows: Iterator[Row]  # read from the file as they are consumed
    errors: BadRows  # bad rows: unreadable ones as `rows` skips them, then the importer's


def read_table(source: TextIO, kind: str) -> Table:
    """The header now (a bad one fails at once), the rows as the import consumes them."""
    leading: list[str] = []  # blank lines before the header, then the header line
    for text in source:
        leading.append(text.lstrip("\ufeff") if not leading else text)
        if leading[-1].strip(' \t\r\n,;"'):  # not blank, nor an Excel ";;;" row
            break
    else:
        raise ImportFailed([(1, "the file is empty: expected a header line")])
    delimiter = max((",", ";", "\t"), key=leading[-1].count)  # a tie means ","
    # strict: a quote left open runs to the end of the file, or meets a later quote followed
    # by more text; both are errors rather than rows silently swallowed into one cell.
    reader = csv.reader(itertools.chain(leading, source), delimiter=delimiter, strict=True)
    records = _records(reader)
    line, _end, record = next(records)
    header = _header(record, kind, line)
    errors = BadRows()
    return Table(frozenset(header.values()), _rows(records, header, errors), errors)


def _records(reader: Any) -> Iterator[tuple[int, int, list[str]]]:
    """Non-blank records with the file lines each starts and ends on (a quoted cell may span
    lines)."""
    end = 0
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if any(cell.strip() for cell in record):  # skips Excel's ";;;;" rows too
                yield line, end, record
    except csv.Error as exc:
        start = end + 1  # the record being read when it broke
        if "end of data" in str(exc) or "newline" in str(exc):
            reason = "a quote opened on this line is never closed"
        else:
            reason = f"a quoted cell is not closed properly ({exc})"
        raise ImportFailed([(start, reason)]) from None


def _rows(
    records: Iterator[tuple[int, int, list[str]]], header: dict[int, str], errors: BadRows
) -> Iterator[Row]:
    for line, end, record in records:
        cells = {name: record[i].strip() for i, name in header.items() if i < len(record)}
        if end > line and any("\n" in cell or "\r" in cell for cell in cells.values()):
            # No cell we import holds a line break: more likely a quote left open has
            # swallowed the lines after it, so the row is refused (and the file with it).
            errors.add(
                line, [f"a quoted cell runs over lines {line}-{end}: is a quote not closed?"]
            )
            continue
        yield Row(line, {name: unmarked(cell) for name, cell in cells.items()})


def _header(record: list[str], kind: str, line: int) -> dict[int, str]:
    known = COLUMNS[kind]
    found: dict[int, str] = {}
    for index, cell in enumerate(record):
        name = re.sub(r"[\s\-]+", "_", cell.strip().strip("\ufeff").lower())
        if name not in known:
            continue  # extra columns are ignored
        if name in found.values():
            raise ImportFailed([(line, f"column '{name}' appears twice in the header")])
        found[index] = name
    missing = [name for name in REQUIRED[kind] if name not in found.values()]
    if missing:
        raise ImportFailed(
            [(line, f"the header has no {', '.join(missing)} column (expected: {listed(kind)})")]
        )
    if kind == "customers" and not set(IDENTITIES) & set(found.values()):
        raise ImportFailed(
            [
                (
                    line,
                    f"the header needs an external_id, phone or telegram_id column "
                    f"(expected: {listed(kind)})",
                )
            ]
        )
    return found
