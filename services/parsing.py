"""What people type, turned into values, or an InputError naming what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from services.errors import InputError

MAX_TEXT = 100  # names, queries, service names: longer is a paste accident
MAX_AMOUNT_MINOR = 10_000_000 * 100  # ten million in major units is no small-shop sale

_CURRENCY = re.compile(r"(₽|руб\.?|р\.|р\b|rub\b|rur\b|\$|€|usd\b|eur\b)", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
# 2500 · 2500,5 · 2500.50 · 2 500 · 2 500,50 · 2,500 · 2,500.50
_PLAIN = re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$")
_SPACE_GROUPED = re.compile(r"^(\d{1,3}(?: \d{3})+)(?:[.,](\d{1,2}))?$")
_COMMA_GROUPED = re.compile(r"^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$")


def parse_money(text: str) -> int:
    """An amount typed by a person, in minor units (kopecks, cents)."""
    value = text.strip()
    if not value:
        raise InputError("error-money-empty")
    if len(value) > 40:
        raise InputError("error-money-format")
    value = _CURRENCY.sub(" ", value).strip()
    if value.startswith(("-", "−")):
        raise InputError("error-money-negative")
    if re.search(r"[^\d\s\u00a0\u202f\u2009',.]", value) or not re.search(r"\d", value):
        raise InputError("error-money-format")
    value = _SPACES.sub(" ", value)
    for pattern in (_PLAIN, _SPACE_GROUPED, _COMMA_GROUPED):
        match = pattern.match(value)
        if match:
            whole = int(re.sub(r"[ ,]", "", match.group(1)))
            cents = int((match.group(2) or "0").ljust(2, "0"))
            break
    else:
        raise InputError("error-money-format")
    minor = whole * 100 + cents
    if minor == 0:
        raise InputError("error-money-zero")
    if minor > MAX_AMOUNT_MINOR:
        raise InputError("error-money-too-large")
    return minor


def parse_phone(text: str) -> str:
    """A phone number in international form, "+" and 10 to 15 digits.

    A Russian 8XXXXXXXXXX is read as +7XXXXXXXXXX, the way people write it at home.
    """
    value = text.strip()
    if len(value) > 30 or not re.fullmatch(r"\+?[\d\s\-().]+", value):
        raise InputError("error-phone-format")
    digits = re.sub(r"\D", "", value)
    if not value.startswith("+") and len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if not 10 <= len(digits) <= 15:
        raise InputError("error-phone-format")
    return "+" + digits


def looks_like_phone(text: str) -> bool:
    return bool(re.fullmatch(r"\+?[\d\s\-().]{10,30}", text.strip())) and (
        len(re.sub(r"\D", "", text)) >= 10
    )


_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$"),
)


def parse_date(text: str, *, today: date, earliest: date | None = None) -> date:
    """A past or present calendar date: 2026-03-05 or 05.03.2026."""
    value = text.strip().lower()
    if value in {"today", "сегодня"}:
        return today
    if value in {"yesterday", "вчера"}:
        return date.fromordinal(today.toordinal() - 1)
    for pattern in _DATE_FORMATS:
        match = pattern.match(value)
        if match:
            try:
                result = date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise InputError("error-date-impossible") from None
            break
    else:
        raise InputError("error-date-format")
    if result > today:
        raise InputError("error-date-future")
    if earliest is not None and result < earliest:
        raise InputError("error-date-too-old", earliest=earliest.isoformat())
    return result


@dataclass(frozen=True, slots=True)
class Birthday:
    day: int
    month: int
    year: int | None = None

    def as_text(self) -> str:
        if self.year is None:
            return f"{self.day:02d}.{self.month:02d}"
        return f"{self.day:02d}.{self.month:02d}.{self.year}"

    def iso(self) -> str:
        """ISO 8601: 1990-03-05, or --03-05 when the year is not known."""
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year}-{self.month:02d}-{self.day:02d}"


_BIRTHDAY_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^--(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./\s](?P<m>\d{1,2})(?:[./\s](?P<y>\d{4}))?$"),
)


def parse_birthday(text: str, *, today: date) -> Birthday:
    """A birthday with or without the year: 05.03, 05.03.1990 or 1990-03-05."""
    value = text.strip()
    for pattern in _BIRTHDAY_FORMATS:
        match = pattern.match(value)
        if match:
            break
    else:
        raise InputError("error-birthday-format")
    day, month = int(match["d"]), int(match["m"])
    year = int(match["y"]) if match.groupdict().get("y") else None
    try:
        # 2000 is a leap year, so 29.02 without a year is accepted.
        date(year or 2000, month, day)
    except ValueError:
        raise InputError("error-birthday-impossible") from None
    if year is not None:
        if date(year, month, day) > today:
            raise InputError("error-birthday-future")
        if year < today.year - 110:
            raise InputError("error-birthday-too-old")
    return Birthday(day=day, month=month, year=year)


# C0 and C1 control characters (NUL, escapes) and lone surrogates: PostgreSQL refuses NUL and
# invalid UTF-8 outright, and none of them belongs in a name a person reads.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """Text without control characters; tabs and line breaks become spaces."""
    return _CONTROLS.sub(lambda match: " " if match.group() in "\t\n\r" else "", text)


def clean_text(text: str, *, limit: int = MAX_TEXT, error: str = "error-name") -> str:
    """A short single-line label (a name, a service): trimmed, spaces collapsed."""
    value = " ".join(strip_controls(text).split())
    if not value or len(value) > limit or not re.search(r"\w", value):
        raise InputError(error, limit=limit)
    return value


def parse_whole(text: str, *, low: int, high: int, error: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"\d{1,6}", value) or not low <= int(value) <= high:
        raise InputError(error, low=low, high=high)
    return int(value)


def parse_optional_days(text: str, *, error: str = "error-cycle") -> int | None:
    """A rebooking cycle in days, or none ("-", "0", "no", "нет")."""
    if text.strip().lower() in {"-", "0", "no", "none", "нет", "без"}:
        return None
    return parse_whole(text, low=1, high=365, error=error)


@dataclass(frozen=True, slots=True)
class SaleCommand:
    """`/sale <customer> <amount> [service] [date]`, split into its parts."""

    customer: str
    amount: int
    service: str | None
    day: str | None
    code: str | None = None
    points: int = 0


_AMOUNT_PREFIX = re.compile(
    r"^([-−]?\d[\d\s\u00a0\u202f.,']*(?:\s*(?:₽|руб\.?|р\.?|rub|rur|\$|€|usd|eur)(?=\s|$))?)",
    re.IGNORECASE,
)
# A promo code such as BD-7KQ2ZX anywhere after the customer.
_PROMO_CODE = re.compile(r"(?:^|\s)([A-Za-z]{2}-[A-Za-z0-9]{6})(?=\s|$)")
# Points paid at the counter: points:300 (or баллы:300).
_POINTS = re.compile(r"(?:^|\s)(?:points|pts|баллы):(\d{1,7})(?=\s|$)", re.IGNORECASE)
_ZERO_AMOUNT = re.compile(
    r"^0+(?:[.,]0{1,2})?(?:\s*(?:₽|руб\.?|р\.?|rub|rur|\$|€|usd|eur))?$", re.IGNORECASE
)
_TRAILING_DATE = re.compile(r"(?:^|\s)(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})$")


def split_sale_command(text: str) -> SaleCommand:
    value = " ".join(text.split())
    if len(value) > 300:
        raise InputError("error-sale-usage")
    if value.startswith('"'):
        end = value.find('"', 1)
        if end == -1:
            raise InputError("error-sale-usage")
        customer, rest = value[1:end].strip(), value[end + 1 :].strip()
    else:
        customer, _, rest = value.partition(" ")
    if not customer or not rest:
        raise InputError("error-sale-usage")
    code = None
    code_match = _PROMO_CODE.search(rest)
    if code_match:
        code = code_match.group(1).upper()
        rest = (rest[: code_match.start()] + " " + rest[code_match.end() :]).strip()
    points = 0
    points_match = _POINTS.search(rest)
    if points_match:
        points = int(points_match.group(1))
        rest = (rest[: points_match.start()] + " " + rest[points_match.end() :]).strip()
    day = None
    date_match = _TRAILING_DATE.search(rest)
    if date_match:
        day = date_match.group(1)
        rest = rest[: date_match.start()].strip()
    amount_match = _AMOUNT_PREFIX.match(rest)
    if not amount_match:
        raise InputError("error-money-format")
    # A trailing separator belongs to no number ("2500, manicure").
    amount_text = amount_match.group(1).rstrip(" ,.")
    # 0 is read (a free visit, which the handler confirms); parse_money refuses it elsewhere.
    amount = 0 if _ZERO_AMOUNT.match(amount_text) else parse_money(amount_text)
    service = rest[len(amount_match.group(1)) :].strip(" ,") or None
    return SaleCommand(
        customer=customer, amount=amount, service=service, day=day, code=code, points=points
    )


_PHONE_TAIL = re.compile(r"(\+?[\d][\d\s\-().]{8,28}\d)$")


def split_name_and_phone(text: str) -> tuple[str, str]:
    """`/addcustomer Anna Petrova +7 916 123-45-67`: the phone is what trails the name."""
    value = " ".join(text.split())
    match = _PHONE_TAIL.search(value)
    if not match or not value[: match.start()].strip():
        raise InputError("error-addcustomer-usage")
    return value[: match.start()].strip(), match.group(1)
