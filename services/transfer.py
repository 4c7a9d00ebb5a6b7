"""CSV import and export of customers, purchases and services.

For owners moving in from a spreadsheet or another CRM (`python -m bot export|import ...`).
Exports stream rows; an import reads the whole file, checks every row, and writes in one
transaction only when no row is bad, so a file is imported entirely or not at all.

Files as people have them: UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text") or
Windows-1251 (Russian Excel's "CSV"), separated by commas, semicolons or tabs.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, BinaryIO, ParamSpec, TextIO, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from services.birthdays import SET_BY_OWNER
from services.catalogue import DEFAULT_DURATION
from services.customers import fold
from services.errors import InputError
from services.parsing import (
    MAX_TEXT,
    Birthday,
    clean_text,
    parse_birthday,
    parse_money,
    parse_optional_days,
    parse_phone,
    parse_whole,
    strip_controls,
)
from storage.database import Database
from storage.models import Customer, Purchase, Service
from storage.repositories import Repositories

KINDS = ("customers", "purchases", "services")

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("external_id", "name", "phone", "telegram_id", "birthday", "source", "consent"),
    "purchases": ("customer", "date", "amount", "service"),
    # `archived` is ours: without it an archived service would come back as an active one.
    "services": ("name", "price", "cycle_days", "duration_minutes", "archived"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": (),
    "purchases": ("customer", "date", "amount"),
    "services": ("name", "price"),
}
_IDENTITIES = ("external_id", "phone", "telegram_id")

MAX_ERRORS = 50  # bad rows listed in an ImportFailed; the rest are only counted
MAX_EXTERNAL_ID = 64  # Customer.external_id is String(64)
MAX_SOURCE = 64  # Customer.source is String(64)
MAX_TELEGRAM_ID = 2**63 - 1  # BigInteger
DURATION_RANGE = (5, 720)  # as the owner's chat form accepts
_DATE_ONLY_TIME = time(12, 0)  # a date-only sale is placed at local noon, as /sale does
_EARLIEST_YEAR = 1900
_BATCH = 500  # rows fetched at a time
_INSERT_BATCH = 2000  # rows inserted by one statement execution

_YES = frozenset({"yes", "y", "true", "1", "да", "д"})
_NO = frozenset({"no", "n", "false", "0", "нет", "н"})
# Text a spreadsheet could run as a formula (OWASP "CSV injection"): = + - @ tab or CR at
# the start of a cell, or right after a separator inside it, because the file may be opened
# with ; or tab as the separator, and then "x;=1+1" is two cells, the second a formula that
# no quoting of the whole cell prevents. Export puts an apostrophe in front of every such
# piece (after spaces and quotes, and before any apostrophes already there); import takes
# exactly one off again, so the text comes back as it was.
_PIECE = r"(^|[,;\t])([ \"]*)"
_FORMULA_NEXT = r"(?=[=+\-@\t\r])"
_MARK = re.compile(_PIECE + r"('*)" + _FORMULA_NEXT)
_UNMARK = re.compile(_PIECE + r"'('*)" + _FORMULA_NEXT)
# Quoted on export: any separator a spreadsheet may split on, quotes and line breaks.
_QUOTE_IF = frozenset(',;\t"\r\n')

_CLOCK = (
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2}))?)?"
)
_MOMENTS = (
    re.compile(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_CLOCK}$", re.IGNORECASE),
    re.compile(rf"^(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<y>\d{{4}}){_CLOCK}$", re.IGNORECASE),
)
_DIGITS = re.compile(r"^[0-9]+$")

T = TypeVar("T")
P = ParamSpec("P")


# ---------------------------------------------------------------- the public API


@dataclass(frozen=True)
class ImportReport:
    kind: str
    created: int
    updated: int
    skipped: int  # rows already in the database as they are (nothing to change)
    notes: list[str] = field(default_factory=list)  # e.g. "created service 'X' ..."


class ImportFailed(Exception):
    """Nothing was written: the file (its header or some of its rows) is bad.

    `errors` lists (line number, reason) for up to MAX_ERRORS bad rows, header = line 1;
    `total` counts all of them.
    """

    def __init__(self, errors: Sequence[tuple[int, str]], *, total: int | None = None) -> None:
        self.errors: list[tuple[int, str]] = list(errors[:MAX_ERRORS])
        self.total = max(total or 0, len(errors))
        super().__init__(self._message())

    def _message(self) -> str:
        if self.total == 1:
            head = "1 bad row:" if self.errors[0][0] > 1 else "the file is unusable:"
        else:
            head = f"{self.total} bad rows:"
        lines = [head, *(f"  line {line}: {reason}" for line, reason in self.errors)]
        if self.total > len(self.errors):
            lines.append(f"  … and {self.total - len(self.errors)} more")
        return "\n".join(lines)


async def export_csv(db: Database, kind: str, out: TextIO, *, zone: ZoneInfo) -> int:
    """Write all rows of `kind` as CSV (comma, header first); returns the rows written."""
    _check_kind(kind)
    out.write(_csv_line(COLUMNS[kind]))
    async with db.reading() as repos:
        if kind == "customers":
            rows = _customer_lines(repos)
        elif kind == "purchases":
            rows = _purchase_lines(repos, zone)
        else:
            rows = _service_lines(repos)
        count = 0
        async for line in rows:
            out.write(_csv_line(line))
            count += 1
    return count


async def import_csv(
    db: Database, kind: str, source: TextIO | BinaryIO, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    """Import a CSV of `kind`: everything, or nothing and ImportFailed naming the bad rows.

    Give the file opened in binary mode to have its encoding detected (decode_csv); text
    is taken as it is.
    """
    _check_kind(kind)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    table = _read_table(_as_text(source), kind)
    async with db.transaction() as repos:
        if kind == "customers":
            return await _import_customers(repos, table, zone=zone, now=now)
        if kind == "purchases":
            return await _import_purchases(repos, table, zone=zone, now=now)
        return await _import_services(repos, table, now=now)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")


# ---------------------------------------------------------------- export


async def _customer_lines(repos: Repositories) -> AsyncIterator[list[str]]:
    stmt = select(
        Customer.external_id,
        Customer.name,
        Customer.phone,
        Customer.telegram_id,
        Customer.birth_day,
        Customer.birth_month,
        Customer.birth_year,
        Customer.source,
        Customer.consent,
    ).order_by(Customer.id)
    result = await repos.session.stream(stmt.execution_options(yield_per=_BATCH))
    async for ext, name, phone, telegram_id, day, month, year, source, consent in result:
        # A birthday without the year as people write it, 05.03 (ISO's "--03-05" reads as
        # a formula to a spreadsheet and as nonsense to a person); with the year, ISO.
        birthday = None
        if day and month:
            known = Birthday(day, month, year)
            birthday = known.iso() if year is not None else known.as_text()
        yield [
            _safe(ext),
            _safe(name),
            _safe(phone),
            "" if telegram_id is None else str(telegram_id),
            _safe(birthday),
            _safe(source),
            "" if consent is None else ("yes" if consent else "no"),
        ]


async def _purchase_lines(repos: Repositories, zone: ZoneInfo) -> AsyncIterator[list[str]]:
    stmt = (
        select(
            Customer.external_id,
            Customer.phone,
            Customer.telegram_id,
            Purchase.purchased_at,
            Purchase.amount,
            Service.name,
        )
        .join(Customer, Customer.id == Purchase.customer_id)
        .outerjoin(Service, Service.id == Purchase.service_id)
        .order_by(Purchase.purchased_at, Purchase.id)
    )
    result = await repos.session.stream(stmt.execution_options(yield_per=_BATCH))
    async for ext, phone, telegram_id, purchased_at, amount, service in result:
        customer = _safe(ext) or _safe(phone) or ("" if telegram_id is None else str(telegram_id))
        yield [customer, _local_text(purchased_at, zone), _money_text(amount), _safe(service)]


async def _service_lines(repos: Repositories) -> AsyncIterator[list[str]]:
    stmt = select(
        Service.name, Service.price, Service.cycle_days, Service.duration_minutes, Service.archived
    ).order_by(Service.id)
    result = await repos.session.stream(stmt.execution_options(yield_per=_BATCH))
    async for name, price, cycle_days, duration, archived in result:
        yield [
            _safe(name),
            _money_text(price),
            "" if cycle_days is None else str(cycle_days),
            str(duration),
            "yes" if archived else "no",
        ]


def _safe(text: str | None) -> str:
    """Text as a spreadsheet will not run it as a formula, whatever separator it splits on."""
    return _MARK.sub(r"\1\2'\3", text) if text else ""


def _csv_line(cells: Sequence[str]) -> str:
    """One CSV line, comma-separated; a cell with any separator or a formula mark is quoted,
    so it stays one cell whichever separator the spreadsheet splits on."""
    return ",".join(_quoted(cell) for cell in cells) + "\n"


def _quoted(cell: str) -> str:
    if cell.startswith("'") or not _QUOTE_IF.isdisjoint(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _money_text(minor: int) -> str:
    """Always two decimals with a dot: 2500.00, 2500.50 (parse_money reads it back)."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    """YYYY-MM-DD HH:MM:SS in the shop's zone.

    In the repeated hour when clocks go back, the wall time alone names two moments: there
    the UTC offset is added ("2025-10-26 02:30:00+01:00") so the moment comes back exactly.
    """
    local = moment.astimezone(zone).replace(microsecond=0)
    if local.replace(fold=0).utcoffset() != local.utcoffset():
        return local.isoformat(sep=" ")
    return local.strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- reading the file


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


def _as_text(source: TextIO | BinaryIO) -> TextIO:
    if isinstance(source, io.TextIOBase):
        return source
    data = source.read()
    if isinstance(data, str):
        return io.StringIO(data, newline="")
    # newline="": csv sees \r\n, \n and a lone \r (old Mac Excel) as line ends itself.
    return io.StringIO(decode_csv(data), newline="")


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class _Table:
    columns: frozenset[str]  # the known columns the header has
    rows: Iterator[_Row]  # read from the file as they are consumed
    errors: _Errors  # bad rows: unreadable ones as `rows` skips them, then the importer's


class _Bad(Exception):
    """One problem with one cell; the message is the reason shown to the owner."""


def _read_table(source: TextIO, kind: str) -> _Table:
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
    errors = _Errors()
    return _Table(frozenset(header.values()), _rows(records, header, errors), errors)


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
    records: Iterator[tuple[int, int, list[str]]], header: dict[int, str], errors: _Errors
) -> Iterator[_Row]:
    for line, end, record in records:
        cells = {name: record[i].strip() for i, name in header.items() if i < len(record)}
        if end > line and any("\n" in cell or "\r" in cell for cell in cells.values()):
            # No cell we import holds a line break: more likely a quote left open has
            # swallowed the lines after it, so the row is refused (and the file with it).
            errors.add(
                line, [f"a quoted cell runs over lines {line}-{end}: is a quote not closed?"]
            )
            continue
        yield _Row(line, {name: _text(cell) for name, cell in cells.items()})


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
    missing = [name for name in _REQUIRED[kind] if name not in found.values()]
    if missing:
        raise ImportFailed(
            [(line, f"the header has no {', '.join(missing)} column (expected: {_cols(kind)})")]
        )
    if kind == "customers" and not set(_IDENTITIES) & set(found.values()):
        raise ImportFailed(
            [
                (
                    line,
                    f"the header needs an external_id, phone or telegram_id column "
                    f"(expected: {_cols(kind)})",
                )
            ]
        )
    return found


def _cols(kind: str) -> str:
    return ", ".join(COLUMNS[kind])


class _Errors:
    """Bad rows of one file, kept in line order."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, reasons: Iterable[str]) -> None:
        self.items.append((line, "; ".join(reasons)))

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda item: item[0])
            raise ImportFailed(self.items, total=len(self.items))


def _attempt(
    reasons: list[str], parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """parse(...), or None with the reason noted (a row with reasons is never written)."""
    try:
        return parse(*args, **kwargs)
    except _Bad as exc:
        reasons.append(str(exc))
        return None


# ---------------------------------------------------------------- cell parsers


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _text(value: str) -> str:
    """A cell without the apostrophes our export puts before formula-like text (_safe)."""
    return _UNMARK.sub(r"\1\2\3", value) if "'" in value else value


def _external_id(value: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_EXTERNAL_ID:
        raise _Bad(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    return value


def _phone(value: str) -> str | None:
    if not value:
        return None
    try:
        return parse_phone(value)
    except InputError:
        raise _Bad(f"phone {_show(value)} is not a phone number (+ and 10 to 15 digits)") from None


def _telegram_id(value: str) -> int | None:
    if not value:
        return None
    if not _DIGITS.match(value) or not 0 < int(value) <= MAX_TELEGRAM_ID:
        raise _Bad(f"telegram_id {_show(value)} is not a Telegram user id (a positive number)")
    return int(value)


_BIRTHDAY_REASONS = {
    "error-birthday-impossible": "is not a real date",
    "error-birthday-future": "is in the future",
    "error-birthday-too-old": "is more than 110 years ago",
}


def _birthday(value: str, today: date) -> Birthday | None:
    if not value:
        return None
    try:
        return parse_birthday(value, today=today)
    except InputError as exc:
        reason = _BIRTHDAY_REASONS.get(
            exc.code, "is not a date (expected YYYY-MM-DD, --MM-DD, DD.MM or DD.MM.YYYY)"
        )
        raise _Bad(f"birthday {_show(value)} {reason}") from None


def _yes_no(value: str, column: str) -> bool | None:
    if not value:
        return None
    word = value.casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise _Bad(f"{column} {_show(value)} is not yes or no")


def _plain(value: str, column: str, limit: int = MAX_TEXT) -> str | None:
    """A customer's name or source, kept as written (a Telegram name may be all emoji) but
    without control characters, which PostgreSQL refuses (NUL) and nobody can read."""
    value = " ".join(strip_controls(value).split())
    if not value:
        return None
    if len(value) > limit:
        raise _Bad(f"{column} is longer than {limit} characters")
    return value


def _label(value: str, column: str, limit: int = MAX_TEXT) -> str | None:
    if not value:
        return None
    try:
        return clean_text(value, limit=limit)
    except InputError:
        raise _Bad(f"{column} must have a letter or digit and at most {limit} characters") from None


_MONEY_REASONS = {
    "error-money-negative": "is negative",
    "error-money-zero": "is zero",
    "error-money-too-large": "is too large",
}


def _money(value: str, column: str, *, zero_ok: bool = False) -> int:
    if not value:
        raise _Bad(f"{column} is empty")
    try:
        return parse_money(value)
    except InputError as exc:
        if zero_ok and exc.code == "error-money-zero":
            return 0  # "0", "0,00", "0 ₽": a free item or visit
        reason = _MONEY_REASONS.get(exc.code, "is not an amount of money (like 2500.50)")
        raise _Bad(f"{column} {_show(value)} {reason}") from None


def _moment(value: str, zone: ZoneInfo, today: date) -> datetime:
    """A sale's date (and time) in the shop's zone, as an aware UTC datetime."""
    if not value:
        raise _Bad("date is empty")
    for pattern in _MOMENTS:
        match = pattern.match(value)
        if match:
            break
    else:
        raise _Bad(f"date {_show(value)} is not YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]")
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
        if match["H"] is None:
            clock = _DATE_ONLY_TIME
        else:
            clock = time(int(match["H"]), int(match["M"]), int(match["S"] or 0))
    except ValueError:
        raise _Bad(f"date {_show(value)} is not a real date or time") from None
    offset = match["tz"]
    if offset:
        moment = datetime.combine(day, clock, tzinfo=_fixed_zone(offset))
    else:
        moment = datetime.combine(day, clock, tzinfo=zone)
    if day.year < _EARLIEST_YEAR:
        raise _Bad(f"date {_show(value)} is before {_EARLIEST_YEAR}")
    if moment.astimezone(zone).date() > today:
        raise _Bad(f"date {_show(value)} is in the future")
    return moment.astimezone(UTC)


def _fixed_zone(offset: str) -> timezone:
    if offset.upper() == "Z":
        return UTC
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if offset[0] == "-" else delta)


def _maybe_phone(value: str) -> str | None:
    try:
        return parse_phone(value)
    except InputError:
        return None


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


# ---------------------------------------------------------------- customers


@dataclass(slots=True)
class _CustomerRow:
    line: int
    external_id: str | None
    phone: str | None
    telegram_id: int | None
    name: str | None
    birthday: Birthday | None
    source: str | None
    consent: bool | None
    target: int | None = None  # the existing customer it updates


@dataclass(slots=True)
class _Identities:
    """Who holds which identity, for all customers (ids only, not whole rows)."""

    by_external: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    by_telegram: dict[int, int] = field(default_factory=dict)
    telegram_of: dict[int, int] = field(default_factory=dict)  # customer id -> telegram_id

    @classmethod
    async def load(cls, repos: Repositories) -> _Identities:
        found = cls()
        stmt = select(Customer.id, Customer.external_id, Customer.phone, Customer.telegram_id)
        result = await repos.session.stream(stmt.execution_options(yield_per=5000))
        async for customer_id, ext, phone, telegram_id in result:
            if ext:
                found.by_external[ext] = customer_id
            if phone:
                found.by_phone[phone] = customer_id
            if telegram_id is not None:
                found.by_telegram[telegram_id] = customer_id
                found.telegram_of[customer_id] = telegram_id
        return found

    def find(self, value: str) -> int | None:
        """The customer a purchase's `customer` cell names: external_id, phone, telegram_id."""
        if value in self.by_external:
            return self.by_external[value]
        phone = _maybe_phone(value)
        if phone and phone in self.by_phone:
            return self.by_phone[phone]
        if _DIGITS.match(value) and int(value) <= MAX_TELEGRAM_ID:
            return self.by_telegram.get(int(value))
        return None


async def _import_customers(
    repos: Repositories, table: _Table, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    today = now.astimezone(zone).date()
    known = await _Identities.load(repos)
    errors = table.errors
    parsed: list[_CustomerRow] = []
    seen: dict[tuple[str, str | int], int] = {}  # (column, value) -> the line it is on
    claimed: dict[int, int] = {}  # existing customer id -> the line that updates it
    for row in table.rows:
        reasons: list[str] = []
        ext = _attempt(reasons, _external_id, row.get("external_id"))
        phone = _attempt(reasons, _phone, row.get("phone"))
        telegram_id = _attempt(reasons, _telegram_id, row.get("telegram_id"))
        name = _attempt(reasons, _plain, row.get("name"), "name")
        birthday = _attempt(reasons, _birthday, row.get("birthday"), today)
        source = _attempt(reasons, _plain, row.get("source"), "source", MAX_SOURCE)
        consent = _attempt(reasons, _yes_no, row.get("consent"), "consent")
        if not reasons and ext is None and phone is None and telegram_id is None:
            reasons.append("needs at least one of external_id, phone, telegram_id")
        for label, value in (("external_id", ext), ("phone", phone), ("telegram_id", telegram_id)):
            if value is None:
                continue
            earlier = seen.setdefault((label, value), row.line)
            if earlier != row.line:
                shown = _show(value) if isinstance(value, str) else value
                reasons.append(f"{label} {shown} is also on line {earlier}")
        matches = {
            label: found
            for label, found in (
                ("external_id", known.by_external.get(ext) if ext else None),
                ("phone", known.by_phone.get(phone) if phone else None),
                ("telegram_id", known.by_telegram.get(telegram_id) if telegram_id else None),
            )
            if found is not None
        }
        target = None
        if len(set(matches.values())) > 1:
            how = ", ".join(f"#{found} by {label}" for label, found in matches.items())
            reasons.append(f"matches two different customers ({how})")
        elif matches:
            target = next(iter(matches.values()))
            if target in claimed:
                reasons.append(f"is the same customer as line {claimed[target]}")
            else:
                claimed[target] = row.line
            current = known.telegram_of.get(target)
            if telegram_id is not None and current is not None and current != telegram_id:
                reasons.append(f"the matching customer #{target} already has telegram_id {current}")
        if reasons:
            errors.add(row.line, reasons)
            continue
        parsed.append(
            _CustomerRow(row.line, ext, phone, telegram_id, name, birthday, source, consent, target)
        )
    errors.raise_if_any()

    new = [item for item in parsed if item.target is None]
    for start in range(0, len(new), _INSERT_BATCH):
        batch = new[start : start + _INSERT_BATCH]
        await repos.session.execute(insert(Customer), [_new_customer(item, now) for item in batch])
    updated = await _update_customers(repos, [item for item in parsed if item.target], now)
    return ImportReport("customers", len(new), updated, len(parsed) - len(new) - updated, notes=[])


def _new_customer(item: _CustomerRow, now: datetime) -> dict[str, Any]:
    birthday = item.birthday
    return {
        "external_id": item.external_id,
        "phone": item.phone,
        "telegram_id": item.telegram_id,
        "name": item.name,
        "search_name": fold(item.name) if item.name else None,
        "birth_day": birthday.day if birthday else None,
        "birth_month": birthday.month if birthday else None,
        "birth_year": birthday.year if birthday else None,
        "birthday_set_at": now if birthday else None,
        "birthday_set_by": SET_BY_OWNER if birthday else None,
        "source": item.source,
        "consent": item.consent,
        "created_at": now,
    }


async def _update_customers(repos: Repositories, items: list[_CustomerRow], now: datetime) -> int:
    """Set the given (non-empty) fields on matched customers; returns how many changed."""
    changed = 0
    for start in range(0, len(items), _BATCH):
        batch = {item.target: item for item in items[start : start + _BATCH] if item.target}
        rows = await repos.session.execute(
            select(
                Customer.id,
                Customer.external_id,
                Customer.phone,
                Customer.telegram_id,
                Customer.name,
                Customer.birth_day,
                Customer.birth_month,
                Customer.birth_year,
                Customer.source,
                Customer.consent,
            ).where(Customer.id.in_(list(batch)))
        )
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for current in rows.mappings():
            item = batch[current["id"]]
            wanted: dict[str, Any] = {
                "external_id": item.external_id,
                "phone": item.phone,
                "telegram_id": item.telegram_id,
                "name": item.name,
                "source": item.source,
                "consent": item.consent,
            }
            changes = {
                key: value
                for key, value in wanted.items()
                if value is not None and current[key] != value
            }
            birthday = item.birthday
            if birthday is not None and (
                (birthday.day, birthday.month) != (current["birth_day"], current["birth_month"])
                or birthday.year not in (None, current["birth_year"])
            ):
                # A birthday without the year keeps a known year only for the same day.
                changes["birth_day"], changes["birth_month"] = birthday.day, birthday.month
                changes["birth_year"] = birthday.year
            if not changes:
                continue
            if "name" in changes:
                changes["search_name"] = fold(changes["name"])
            if "birth_day" in changes:
                changes["birthday_set_at"] = now
                changes["birthday_set_by"] = SET_BY_OWNER
            changes["id"] = current["id"]
            groups.setdefault(frozenset(changes), []).append(changes)
            changed += 1
        for group in groups.values():
            await repos.session.execute(update(Customer), group)
    return changed


# ---------------------------------------------------------------- services


@dataclass(slots=True)
class _ServiceRow:
    name: str
    price: int | None  # None: not given
    cycle_given: bool
    cycle_days: int | None
    duration: int | None  # None: not given
    archived: bool | None  # None: not given
    target: Service | None


class _Catalogue:
    """All services by folded name; an active one wins over archived ones of that name."""

    def __init__(self, services: Sequence[Service]) -> None:
        self._by_name: dict[str, list[Service]] = {}
        for service in services:
            self._by_name.setdefault(_name_key(service.name), []).append(service)

    def find(self, name: str, archived: bool | None = None) -> Service | None:
        candidates = self._by_name.get(_name_key(name), [])
        if archived is not None:
            candidates = [s for s in candidates if s.archived == archived]
        else:
            candidates = [s for s in candidates if not s.archived] or candidates
        return max(candidates, key=lambda s: s.id) if candidates else None


def _cycle(value: str) -> int | None:
    if not value:
        return None
    try:
        return parse_optional_days(value)
    except InputError:
        raise _Bad(f"cycle_days {_show(value)} is not a number of days from 1 to 365") from None


def _duration(value: str) -> int:
    if not value:
        return DEFAULT_DURATION
    low, high = DURATION_RANGE
    try:
        return parse_whole(value, low=low, high=high, error="error-duration")
    except InputError:
        raise _Bad(
            f"duration_minutes {_show(value)} is not a number from {low} to {high}"
        ) from None


async def _import_services(repos: Repositories, table: _Table, *, now: datetime) -> ImportReport:
    catalogue = _Catalogue(await repos.catalogue.all())
    errors = table.errors
    parsed: list[_ServiceRow] = []
    claimed: dict[tuple[str, object], int] = {}  # the service a row writes -> its line
    for row in table.rows:
        reasons: list[str] = []
        item = _parse_service(row, table.columns, reasons)
        if item is not None:
            item.target = catalogue.find(item.name, item.archived)
            key = (
                ("id", item.target.id)
                if item.target
                else ("new", (_name_key(item.name), bool(item.archived)))
            )
            earlier = claimed.setdefault(key, row.line)
            if earlier != row.line:
                reasons.append(f"service {_show(item.name)} is also on line {earlier}")
            if item.target is None and item.price is None:
                reasons.append("price is empty (needed for a new service)")
        if reasons or item is None:
            errors.add(row.line, reasons)
            continue
        parsed.append(item)
    errors.raise_if_any()

    created = updated = 0
    for item in parsed:
        if item.target is None:
            await repos.catalogue.add(
                name=item.name,
                price=item.price,
                cycle_days=item.cycle_days,
                duration_minutes=item.duration or DEFAULT_DURATION,
                archived=bool(item.archived),
                created_at=now,
            )
            created += 1
        elif _update_service(item.target, item):
            updated += 1
    await repos.session.flush()
    return ImportReport("services", created, updated, len(parsed) - created - updated, notes=[])


def _parse_service(row: _Row, columns: frozenset[str], reasons: list[str]) -> _ServiceRow | None:
    name = _attempt(reasons, _label, row.get("name"), "name")
    if name is None and not reasons:
        reasons.append("name is empty")
    price = None
    if row.get("price"):  # empty: keep the price of an existing service
        price = _attempt(reasons, _money, row.get("price"), "price", zero_ok=True)
    cycle = _attempt(reasons, _cycle, row.get("cycle_days"))
    duration = None
    if "duration_minutes" in columns:
        duration = _attempt(reasons, _duration, row.get("duration_minutes"))
    archived = _attempt(reasons, _yes_no, row.get("archived"), "archived")
    if name is None:
        return None
    return _ServiceRow(
        name=name,
        price=price,
        cycle_given="cycle_days" in columns,
        cycle_days=cycle,
        duration=duration,
        archived=archived,
        target=None,
    )


def _update_service(service: Service, item: _ServiceRow) -> bool:
    """Set what the row gives; whether anything changed."""
    wanted: dict[str, object] = {}
    if item.price is not None:
        wanted["price"] = item.price
    if item.cycle_given:
        wanted["cycle_days"] = item.cycle_days
    if item.duration is not None:
        wanted["duration_minutes"] = item.duration
    if item.archived is not None:
        wanted["archived"] = item.archived
    changed = False
    for column, value in wanted.items():
        if getattr(service, column) != value:
            setattr(service, column, value)
            changed = True
    return changed


# ---------------------------------------------------------------- purchases

_NewCustomer = tuple[str, str]  # ("phone", "+7...") or ("external_id", "C-17")
_Key = tuple[int, int | None, int, datetime]  # customer, service, amount, moment to the second


@dataclass(slots=True)
class _PurchaseRow:
    customer: int | _NewCustomer
    cell: str  # the customer as the file writes it
    service: int | str | None  # an id, the folded name of a service to create, or none
    service_name: str | None
    amount: int
    purchased_at: datetime


def _new_identity(value: str) -> _NewCustomer:
    """How a customer the database does not know is created from a purchase's cell.

    A phone when it reads as one; a bare number of 10 digits or fewer is not trusted as a
    phone (a Telegram id or a CRM number looks the same), so it and anything else become the
    external_id. A Telegram id is never guessed: that would tie a stranger's account to it.
    """
    phone = _maybe_phone(value)
    if phone and (not _DIGITS.match(value) or len(value) > 10):
        return ("phone", phone)
    if len(value) > MAX_EXTERNAL_ID:
        raise _Bad(f"customer {_show(value)} is unknown and too long for an external_id")
    return ("external_id", value)


def _parse_purchase(
    row: _Row,
    reasons: list[str],
    *,
    known: _Identities,
    catalogue: _Catalogue,
    zone: ZoneInfo,
    today: date,
) -> _PurchaseRow | None:
    customer: int | _NewCustomer | None = None
    cell = row.get("customer")
    if not cell:
        reasons.append("customer is empty")
    else:
        customer = known.find(cell)
        if customer is None:
            customer = _attempt(reasons, _new_identity, cell)
    moment = _attempt(reasons, _moment, row.get("date"), zone, today)
    # 0 is a free visit (a warranty fix): a visit for cycles and counts, no revenue.
    amount = _attempt(reasons, _money, row.get("amount"), "amount", zero_ok=True)
    name = _attempt(reasons, _label, row.get("service"), "service")
    if reasons or customer is None or moment is None or amount is None:
        return None
    service: int | str | None = None
    if name is not None:
        found = catalogue.find(name)
        service = found.id if found is not None else _name_key(name)
    return _PurchaseRow(customer, cell, service, name, amount, moment)


async def _import_purchases(
    repos: Repositories, table: _Table, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    today = now.astimezone(zone).date()
    known = await _Identities.load(repos)
    catalogue = _Catalogue(await repos.catalogue.all())
    errors = table.errors
    parsed: list[_PurchaseRow] = []
    for row in table.rows:
        reasons: list[str] = []
        item = _parse_purchase(
            row, reasons, known=known, catalogue=catalogue, zone=zone, today=today
        )
        if item is None:
            errors.add(row.line, reasons)
        else:
            parsed.append(item)
    errors.raise_if_any()

    notes: list[str] = []
    customer_ids = await _create_customers(repos, parsed, now, notes)
    service_ids = await _create_services(repos, parsed, now, notes)
    keys: list[_Key] = []
    for item in parsed:
        customer_id = (
            item.customer if isinstance(item.customer, int) else customer_ids[item.customer]
        )
        service_id = service_ids[item.service] if isinstance(item.service, str) else item.service
        keys.append((customer_id, service_id, item.amount, item.purchased_at))
    created = await _insert_new_purchases(repos, keys, now)
    skipped = len(keys) - created
    if skipped:
        notes.append(f"skipped {skipped} purchase(s) already in the database")
    return ImportReport("purchases", created, 0, skipped, notes)


async def _create_customers(
    repos: Repositories, parsed: list[_PurchaseRow], now: datetime, notes: list[str]
) -> dict[_NewCustomer, int]:
    """The customers the file names but the database does not have, by their identity."""
    wanted: dict[_NewCustomer, str] = {}
    for item in parsed:
        if not isinstance(item.customer, int):
            wanted.setdefault(item.customer, item.cell)
    if not wanted:
        return {}
    values = [
        {
            "external_id": value if kind == "external_id" else None,
            "phone": value if kind == "phone" else None,
            "created_at": now,
        }
        for kind, value in wanted
    ]
    result = await repos.session.scalars(
        insert(Customer).returning(Customer.id, sort_by_parameter_order=True), values
    )
    ids = dict(zip(wanted, result.all(), strict=True))
    shown = ", ".join(_show(cell) for cell in list(wanted.values())[:5])
    more = ", …" if len(wanted) > 5 else ""
    notes.append(f"created {len(wanted)} customer(s) the database did not have: {shown}{more}")
    return ids


async def _create_services(
    repos: Repositories, parsed: list[_PurchaseRow], now: datetime, notes: list[str]
) -> dict[str, int]:
    """Services the file names but the catalogue lacks: priced at their first paid sale."""
    prices: dict[str, int] = {}
    for item in parsed:
        if isinstance(item.service, str) and not prices.get(item.service):
            prices[item.service] = item.amount  # a free visit (0) gives way to a paid one
    ids: dict[str, int] = {}
    for item in parsed:
        if not isinstance(item.service, str) or item.service in ids:
            continue
        name = item.service_name or item.service
        price = prices[item.service]
        service = await repos.catalogue.add(
            name=name,
            price=price,
            cycle_days=None,
            duration_minutes=DEFAULT_DURATION,
            archived=False,
            created_at=now,
        )
        ids[item.service] = service.id
        notes.append(
            f"created service {_show(name)} (price {_money_text(price)}, no cycle, "
            f"{DEFAULT_DURATION} minutes): check it in the catalogue"
        )
    return ids


async def _insert_new_purchases(repos: Repositories, keys: list[_Key], now: datetime) -> int:
    """Insert the rows not already in the database; returns how many were inserted.

    A row counts as already there when the database has a purchase of the same customer,
    service and amount in the same second; a file may rightly hold two identical sales (two
    coffees the same day), so occurrences are counted, not just looked up.
    """
    already = await _existing_purchases(repos, keys)
    seen: Counter[_Key] = Counter()
    fresh: list[dict[str, object]] = []
    for key in keys:
        seen[key] += 1
        if seen[key] > already[key]:
            customer_id, service_id, amount, purchased_at = key
            fresh.append(
                {
                    "customer_id": customer_id,
                    "service_id": service_id,
                    "amount": amount,
                    "purchased_at": purchased_at,
                    "created_at": now,
                }
            )
    for start in range(0, len(fresh), _INSERT_BATCH):
        await repos.session.execute(insert(Purchase), fresh[start : start + _INSERT_BATCH])
    return len(fresh)


async def _existing_purchases(repos: Repositories, keys: list[_Key]) -> Counter[_Key]:
    """How many purchases the database already has for each key, to the second.

    Written here rather than with repos.purchases.exists_exact: sales logged in the bot keep
    microseconds while a CSV has whole seconds, and one query over the file's time span is
    much faster than a query per row.
    """
    found: Counter[_Key] = Counter()
    if not keys:
        return found
    wanted = set(keys)
    low = min(key[3] for key in keys)
    high = max(key[3] for key in keys) + timedelta(seconds=1)
    stmt = select(
        Purchase.customer_id, Purchase.service_id, Purchase.amount, Purchase.purchased_at
    ).where(Purchase.purchased_at >= low, Purchase.purchased_at < high)
    result = await repos.session.stream(stmt.execution_options(yield_per=5000))
    async for customer_id, service_id, amount, purchased_at in result:
        key = (customer_id, service_id, amount, purchased_at.replace(microsecond=0))
        if key in wanted:
            found[key] += 1
    return found
