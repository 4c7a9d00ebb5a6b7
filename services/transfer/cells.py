"""Parsing one cell of an imported row, with the reason shown to the owner when it is bad.

The rules are services/parsing.py's (money, phones, dates, birthdays, names), as the chat
forms apply them; this module turns their error codes into a line of the import's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from services.catalogue import DEFAULT_DURATION
from services.errors import InputError
from services.parsing import (
    MAX_TEXT,
    Birthday,
    clean_text,
    parse_birthday,
    parse_date,
    parse_money,
    parse_optional_days,
    parse_phone,
    parse_whole,
    strip_controls,
)

MAX_EXTERNAL_ID = 64  # Customer.external_id is String(64)
MAX_SOURCE = 64  # Customer.source is String(64)
MAX_TELEGRAM_ID = 2**63 - 1  # BigInteger
DURATION_RANGE = (5, 720)  # as the owner's chat form accepts
_DATE_ONLY_TIME = time(12, 0)  # a date-only sale is placed at local noon, as /sale does
_EARLIEST = date(1900, 1, 1)

_YES = frozenset({"yes", "y", "true", "1", "да", "д"})
_NO = frozenset({"no", "n", "false", "0", "нет", "н"})

# A sale's date as parse_date reads it (YYYY-MM-DD or DD.MM.YYYY), then an optional time of
# day and UTC offset, which a spreadsheet or another CRM may add.
_MOMENT = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2}))?)?$",
    re.IGNORECASE,
)
DIGITS = re.compile(r"^[0-9]+$")

T = TypeVar("T")
P = ParamSpec("P")


class Bad(Exception):
    """One problem with one cell; the message is the reason shown to the owner."""


def attempt(
    reasons: list[str], parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """parse(...), or None with the reason noted (a row with reasons is never written)."""
    try:
        return parse(*args, **kwargs)
    except Bad as exc:
        reasons.append(str(exc))
        return None


def show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def name_key(name: str) -> str:
    """A service's name as two spellings of it compare."""
    return " ".join(name.casefold().split())


def external_id(value: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_EXTERNAL_ID:
        raise Bad(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    return value


def phone(value: str) -> str | None:
    if not value:
        return None
    try:
        return parse_phone(value)
    except InputError:
        raise Bad(f"phone {show(value)} is not a phone number (+ and 10 to 15 digits)") from None


def maybe_phone(value: str) -> str | None:
    try:
        return parse_phone(value)
    except InputError:
        return None


def telegram_id(value: str) -> int | None:
    if not value:
        return None
    if not DIGITS.match(value) or not 0 < int(value) <= MAX_TELEGRAM_ID:
        raise Bad(f"telegram_id {show(value)} is not a Telegram user id (a positive number)")
    return int(value)


_BIRTHDAY_REASONS = {
    "error-birthday-impossible": "is not a real date",
    "error-birthday-future": "is in the future",
    "error-birthday-too-old": "is more than 110 years ago",
}


def birthday(value: str, today: date) -> Birthday | None:
    if not value:
        return None
    try:
        return parse_birthday(value, today=today)
    except InputError as exc:
        reason = _BIRTHDAY_REASONS.get(
            exc.code, "is not a date (expected YYYY-MM-DD, --MM-DD, DD.MM or DD.MM.YYYY)"
        )
        raise Bad(f"birthday {show(value)} {reason}") from None


def yes_no(value: str, column: str) -> bool | None:
    if not value:
        return None
    word = value.casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise Bad(f"{column} {show(value)} is not yes or no")


def plain(value: str, column: str, limit: int = MAX_TEXT) -> str | None:
    """A customer's name or source, kept as written (a Telegram name may be all emoji) but
    without control characters, which PostgreSQL refuses (NUL) and nobody can read."""
    value = " ".join(strip_controls(value).split())
    if not value:
        return None
    if len(value) > limit:
        raise Bad(f"{column} is longer than {limit} characters")
    return value


def label(value: str, column: str, limit: int = MAX_TEXT) -> str | None:
    if not value:
        return None
    try:
        return clean_text(value, limit=limit)
    except InputError:
        raise Bad(f"{column} must have a letter or digit and at most {limit} characters") from None


_MONEY_REASONS = {
    "error-money-negative": "is negative",
    "error-money-zero": "is zero",
    "error-money-too-large": "is too large",
}


def money(value: str, column: str, *, zero_ok: bool = False) -> int:
    if not value:
        raise Bad(f"{column} is empty")
    try:
        return parse_money(value)
    except InputError as exc:
        if zero_ok and exc.code == "error-money-zero":
            return 0  # "0", "0,00", "0 ₽": a free item or visit
        reason = _MONEY_REASONS.get(exc.code, "is not an amount of money (like 2500.50)")
        raise Bad(f"{column} {show(value)} {reason}") from None


def moment(value: str, zone: ZoneInfo, today: date) -> datetime:
    """A sale's date (and time) in the shop's zone, as an aware UTC datetime."""
    if not value:
        raise Bad("date is empty")
    match = _MOMENT.match(value)
    if match is None:
        raise Bad(f"date {show(value)} is not YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]")
    try:
        if match["H"] is None:
            clock = _DATE_ONLY_TIME
        else:
            clock = time(int(match["H"]), int(match["M"]), int(match["S"] or 0))
        # "In the future" is decided below, for the moment in the shop's zone: an offset
        # may move it to another day.
        day = parse_date(match["date"], today=date.max, earliest=_EARLIEST)
    except (ValueError, InputError) as exc:
        if isinstance(exc, InputError) and exc.code == "error-date-too-old":
            raise Bad(f"date {show(value)} is before {_EARLIEST.year}") from None
        raise Bad(f"date {show(value)} is not a real date or time") from None
    offset = match["tz"]
    local = datetime.combine(day, clock, tzinfo=_fixed_zone(offset) if offset else zone)
    if local.astimezone(zone).date() > today:
        raise Bad(f"date {show(value)} is in the future")
    return local.astimezone(UTC)


def _fixed_zone(offset: str) -> timezone:
    if offset.upper() == "Z":
        return UTC
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if offset[0] == "-" else delta)


def cycle(value: str) -> int | None:
    if not value:
        return None
    try:
        return parse_optional_days(value)
    except InputError:
        raise Bad(f"cycle_days {show(value)} is not a number of days from 1 to 365") from None


def duration(value: str) -> int:
    if not value:
        return DEFAULT_DURATION
    low, high = DURATION_RANGE
    try:
        return parse_whole(value, low=low, high=high, error="error-duration")
    except InputError:
        raise Bad(f"duration_minutes {show(value)} is not a number from {low} to {high}") from None
