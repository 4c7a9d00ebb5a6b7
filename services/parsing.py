"""What people type, turned into values, or an InputError naming what was expected.

Days and times of day have one family here: `parse_date` (a past day, as a sale's),
`parse_day` (any calendar day, as a day off), `parse_birthday`, `parse_weekday`, `parse_clock`
(10, 10:30, 10.30), `parse_time_range` (10:00-19:00) and `parse_local_moment` (a day and a time
in the shop's zone). They read the same day formats: 2026-03-05, 05.03.2026, 05/03/2026, 05.03.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


MAX_TYPED = 200  # a day or hours line longer than this is a paste accident
# A calendar day: 2026-03-05, 05.03.2026, 05/03/2026, or 05.03 (05/03) without the year, whose
# year each reader decides: the most recent for a sale, this one for a day off.
_DAY_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>\d{4}))?$"),
)
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")
# Days back from today.
_RELATIVE_DAYS: dict[str, int] = {
    "сегодня": 0,
    "today": 0,
    "вчера": 1,
    "yesterday": 1,
    "позавчера": 2,
}
# Forward from today, read only where a future day makes sense (parse_day).
_NEXT_DAYS: dict[str, int] = {"завтра": 1, "tomorrow": 1}
# Monday = 0. Russian in the nominative and after «в»/«во» (accusative), full and short.
_WEEKDAYS: dict[str, int] = {
    **dict.fromkeys(("пн", "понедельник"), 0),
    **dict.fromkeys(("вт", "вторник"), 1),
    **dict.fromkeys(("ср", "среда", "среду"), 2),
    **dict.fromkeys(("чт", "четверг"), 3),
    **dict.fromkeys(("пт", "пятница", "пятницу"), 4),
    **dict.fromkeys(("сб", "суббота", "субботу"), 5),
    **dict.fromkeys(("вс", "воскресенье"), 6),
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
_WEEKDAY_ABBREVIATIONS = (
    ("mon", "monday", "mo", "пн", "пон", "понедельник"),
    ("tue", "tuesday", "tu", "вт", "вто", "вторник"),
    ("wed", "wednesday", "we", "ср", "сре", "среда"),
    ("thu", "thursday", "th", "чт", "чет", "четверг"),
    ("fri", "friday", "fr", "пт", "пят", "пятница"),
    ("sat", "saturday", "sa", "сб", "суб", "суббота"),
    ("sun", "sunday", "su", "вс", "вос", "воскресенье"),
)
# Shorter forms read only where a weekday stands alone (the hours form), never inside a
# sentence, where «sa» or «we» would be words.
_LONE_WEEKDAYS: dict[str, int] = {
    **_WEEKDAYS,
    **{name: i for i, names in enumerate(_WEEKDAY_ABBREVIATIONS) for name in names},
}
_WEEKDAY_PREPOSITIONS = frozenset({"в", "во", "on"})
# Words a day word is one typo away from; short forms are too short to guess at.
_DAY_WORDS = tuple(word for word in (*_RELATIVE_DAYS, *_WEEKDAYS) if len(word) >= 5)
# «вчерашний», «сегодняшняя»: a day meant, but not a form we read.
_DAY_STEMS = ("вчерашн", "сегодняшн", "позавчерашн")
# Real words one letter away from a day word (a café sells sundaes).
_NOT_DAY_TYPOS = frozenset({"sundae", "sundaes"})


def _edit_distance_is_one(a: str, b: str) -> bool:
    """One letter added, dropped, changed, or two neighbours swapped (a typo)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def is_day_typo(word: str) -> bool:
    """A word that means a day but is not one we can read: «вчерашний», «пятнца», «mondy»."""
    value = word.lower()
    if value in _NOT_DAY_TYPOS or value in _RELATIVE_DAYS or value in _WEEKDAYS:
        return False
    if value.startswith(_DAY_STEMS):
        return True
    return len(value) >= 4 and any(_edit_distance_is_one(value, day) for day in _DAY_WORDS)


def _day_word(text: str) -> str:
    """A word as the day table spells it: lower case, without «в» and a trailing full stop."""
    words = text.lower().split()
    if len(words) == 2 and words[0] in _WEEKDAY_PREPOSITIONS:
        words = words[1:]
    return " ".join(words).rstrip(".")


def parse_date(text: str, *, today: date, earliest: date | None = None) -> date:
    """A past or present day as people write it.

    «сегодня», «вчера», «позавчера» (today, yesterday); a weekday, full or short, with or
    without «в» («пн», «в среду», «fri», «on monday»): the most recent such day within the last
    seven, so today's weekday is today; 05.03 (the most recent 5 March, this year or last);
    05.03.2026, 05/03/2026 or 2026-03-05.
    """
    value = " ".join(text.split()).lower()
    word = _day_word(value)
    if word in _RELATIVE_DAYS:
        result = today - timedelta(days=_RELATIVE_DAYS[word])
    elif word in _WEEKDAYS:
        result = today - timedelta(days=(today.weekday() - _WEEKDAYS[word]) % 7)
    else:
        result = _calendar_date(value, today)
    if result > today:
        raise InputError("error-date-future")
    if earliest is not None and result < earliest:
        raise InputError("error-date-too-old", earliest=earliest.isoformat())
    return result


def _calendar_date(value: str, today: date) -> date:
    parts = _day_parts(value)
    if parts is not None and parts[0] is None and "/" in value:
        parts = None  # a sale's day without the year is 20.11 only, as the one-line sale reads it
    if parts is None:
        if is_day_typo(_day_word(value)):
            raise InputError("salephrase-day-unknown", word=value)
        raise InputError("error-date-format")
    year, month, day = parts
    if year is None:  # 05.03: the most recent 5 March (a sale is never in the future)
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    return _real_date(year, month, day)


def _day_parts(value: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a day in one of `_DAY_FORMATS`; None for no such form."""
    for pattern in _DAY_FORMATS:
        match = pattern.match(value)
        if match:
            return (int(match["y"]) if match["y"] else None, int(match["m"]), int(match["d"]))
    return None


def _real_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError("error-date-impossible") from None


def parse_day(text: str, *, today: date) -> date:
    """Any calendar day: 2026-12-31, 31.12.2026, 31.12 (this year); today, tomorrow, yesterday."""
    value = text.strip().casefold()
    if value in _NEXT_DAYS:
        return today + timedelta(days=_NEXT_DAYS[value])
    if value in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[value])
    parts = _day_parts(value)
    if parts is None:
        raise InputError("error-date-format")
    year, month, day = parts
    return _real_date(year or today.year, month, day)


def parse_weekday(text: str, *, error: str = "error-hours-weekday") -> int:
    """A weekday on its own (Monday = 0): пн, понедельник, mon, monday, mo, ср., …"""
    weekday = _LONE_WEEKDAYS.get(text.strip().casefold().rstrip("."))
    if weekday is None:
        raise InputError(error)
    return weekday


def parse_clock(text: str, *, error: str = "error-time-format") -> time:
    """A time of day: 10, 10:30 or 10.30."""
    match = _CLOCK.fullmatch(text.strip())
    if not match or int(match[1]) > 23 or int(match[2] or 0) > 59:
        raise InputError(error)
    return time(int(match[1]), int(match[2] or 0))


def parse_time_range(
    text: str, *, error: str, order_error: str | None = None, clock_error: str | None = None
) -> tuple[time, time]:
    """Hours like 10:00-19:00 (also 10-19, 10.00–19.00): the start before the end, same day.

    `error` for a line that is no range; `clock_error` for a time that is no time and
    `order_error` for an end not after the start (both `error` unless given).
    """
    value = text.strip()
    if len(value) > MAX_TYPED:
        raise InputError(error)
    start, sep, end = value.replace("—", "-").replace("–", "-").partition("-")
    if not sep:
        raise InputError(error)
    opens = parse_clock(start, error=clock_error or error)
    closes = parse_clock(end, error=clock_error or error)
    if closes <= opens:
        raise InputError(order_error or error)
    return opens, closes


def parse_local_moment(text: str, *, zone: ZoneInfo, error: str) -> datetime:
    """A day with its year and a time: 2026-12-01 18:30 or 01.12.2026 18:30, in `zone`."""
    day_text, _, clock_text = " ".join(text.split()).partition(" ")
    year, month, day = _day_parts(day_text) or (None, 0, 0)
    if year is None or ":" not in clock_text:
        raise InputError(error)
    try:
        return datetime.combine(date(year, month, day), parse_clock(clock_text, error=error), zone)
    except ValueError:  # 31.02
        raise InputError(error) from None


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


# A promo code such as BD-7KQ2ZX anywhere after the customer.
_PROMO_CODE = re.compile(r"(?:^|\s)([A-Za-z]{2}-[A-Za-z0-9]{6})(?=\s|$)")
# Points paid at the counter: points:300 (or баллы:300).
_POINTS = re.compile(r"(?:^|\s)(?:points|pts|баллы):(\d{1,7})(?=\s|$)", re.IGNORECASE)
_ZERO_AMOUNT = re.compile(
    r"^0+(?:[.,]0{1,2})?(?:\s*(?:₽|руб\.?|р\.?|rub|rur|\$|€|usd|eur))?$", re.IGNORECASE
)
_CURRENCY_WORD = re.compile(r"^(?:₽|руб\.?|р\.?|rub|rur|\$|€|usd|eur)[,.]?$", re.IGNORECASE)
# One word of an amount: 2500, 500,50, -500, $12.99, 800₽ (a currency sign ends the amount).
_NUMBER_WORD = re.compile(
    r"^(?P<sign>[$€])?[-−]?\d[\d.,']*(?P<unit>₽|руб\.?|р\.?|\$|€)?$", re.IGNORECASE
)
_FULL_DATE_WORD = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})[,;]?$")
_SHORT_DATE_WORD = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})[,;]?$")


@dataclass(frozen=True, slots=True)
class _DaySpan:
    start: int
    end: int
    text: str
    short: bool  # 05.03, which could also be an amount (5,03)


def _day_spans(words: list[str]) -> list[_DaySpan]:
    """Where the line names a day; a word that means a day we cannot read is refused."""
    spans: list[_DaySpan] = []
    # Typos are looked for only after the first number: before it may stand a name («Frida»).
    first_number = next((i for i, w in enumerate(words) if _NUMBER_WORD.match(w)), len(words))
    i = 0
    while i < len(words):
        word = words[i].lower().strip(",;")
        following = words[i + 1].lower().strip(",;").rstrip(".") if i + 1 < len(words) else ""
        if word in _WEEKDAY_PREPOSITIONS and following in _WEEKDAYS:
            spans.append(_DaySpan(i, i + 2, f"{word} {following}", short=False))
            i += 2
            continue
        bare = word.rstrip(".")
        short = _SHORT_DATE_WORD.match(word)
        if bare in _RELATIVE_DAYS or bare in _WEEKDAYS or _FULL_DATE_WORD.match(word):
            spans.append(_DaySpan(i, i + 1, word, short=False))
        elif short and 1 <= int(short["d"]) <= 31 and 1 <= int(short["m"]) <= 12:
            # 12.05 ₽ is money.
            if not _CURRENCY_WORD.match(following):
                spans.append(_DaySpan(i, i + 1, word.rstrip(",;"), short=True))
        elif i > first_number and is_day_typo(bare):
            raise InputError("salephrase-day-unknown", word=words[i].strip(",;"))
        i += 1
    return spans


def _is_reference(word: str) -> bool:
    """A phone, @username, #number or Telegram id: the customer is this one word."""
    return word[:1] in {"+", "@", "#"} or word[:1].isdigit()


def _customer_and_rest(quoted: str | None, words: list[str]) -> tuple[str, list[str]]:
    """The customer and the words after them (the amount comes first).

    Without quotes a name is every word before the first number: a name never holds digits
    unless it is quoted ("Кабинет 5").
    """
    if quoted is not None:
        return quoted, words
    if not words:
        raise InputError("error-sale-usage")
    if _is_reference(words[0]):
        return words[0], words[1:]
    for i, word in enumerate(words):
        if _NUMBER_WORD.match(word):
            return " ".join(words[:i]), words[i:]
    return " ".join(words), []


def _amount_words(words: list[str]) -> int:
    """How many leading words make the amount: 2500 · 2 500 · 1 800 ₽ · 800₽ · $12.99."""
    count = 0
    while count < len(words):
        match = _NUMBER_WORD.match(words[count])
        if not match:
            break
        count += 1
        if match["unit"] or words[count - 1].endswith(","):
            return count  # "800₽", "2500," end the amount
    if 0 < count < len(words) and _CURRENCY_WORD.match(words[count]):
        count += 1
    return count


def split_sale_command(text: str) -> SaleCommand:
    """`/sale <customer> <amount> [service]`, with a day, a promo code and points anywhere.

    The customer is a "quoted name", or one word that is a phone, @username, #number or
    Telegram id, or else the words before the first number. The amount is that number and the
    numbers right after it, read together («2 500», «1 800 ₽»); numbers that do not read as one
    amount («Ольга 2 2700») are refused, never guessed. A lone 05.03 when no other number is
    there is the amount (5,03), not a date.
    """
    value = " ".join(text.split())
    if len(value) > 300:
        raise InputError("error-sale-usage")
    quoted = None
    if value.startswith('"'):
        end = value.find('"', 1)
        if end == -1:
            raise InputError("error-sale-usage")
        quoted, value = value[1:end].strip(), value[end + 1 :].strip()
        if not quoted:
            raise InputError("error-sale-usage")
    code = None
    code_match = _PROMO_CODE.search(value)
    if code_match:
        code = code_match.group(1).upper()
        value = (value[: code_match.start()] + " " + value[code_match.end() :]).strip()
    points = 0
    points_match = _POINTS.search(value)
    if points_match:
        points = int(points_match.group(1))
        value = (value[: points_match.start()] + " " + value[points_match.end() :]).strip()
    words = value.split()
    spans = _day_spans(words)
    if len(spans) > 1:
        raise InputError("salephrase-two-days", first=spans[0].text, second=spans[1].text)
    day = spans[0].text if spans else None
    kept = [w for i, w in enumerate(words) if not spans or not spans[0].start <= i < spans[0].end]
    customer, rest = _customer_and_rest(quoted, kept)
    if spans and spans[0].short and not (rest and _NUMBER_WORD.match(rest[0])):
        day = None
        customer, rest = _customer_and_rest(quoted, words)
    if not customer or not rest:
        raise InputError("error-sale-usage")
    count = _amount_words(rest)
    if count == 0:
        raise InputError("error-money-format")
    # A trailing separator belongs to no number ("2500, manicure").
    amount_text = " ".join(rest[:count]).rstrip(" ,.")
    numbers = sum(1 for word in rest[:count] if _NUMBER_WORD.match(word))
    amount = _read_amount(amount_text, several=numbers > 1)
    service = " ".join(rest[count:]).strip(" ,") or None
    return SaleCommand(
        customer=customer, amount=amount, service=service, day=day, code=code, points=points
    )


def _read_amount(text: str, *, several: bool) -> int:
    # 0 is read (a free visit, which the handler confirms); parse_money refuses it elsewhere.
    if _ZERO_AMOUNT.match(text):
        return 0
    try:
        return parse_money(text)
    except InputError as error:
        if several and error.code == "error-money-format":
            raise InputError("salephrase-amount-unclear", numbers=text) from None
        raise


_PHONE_TAIL = re.compile(r"(\+?[\d][\d\s\-().]{8,28}\d)$")


def split_name_and_phone(text: str) -> tuple[str, str]:
    """`/addcustomer Anna Petrova +7 916 123-45-67`: the phone is what trails the name."""
    value = " ".join(text.split())
    match = _PHONE_TAIL.search(value)
    if not match or not value[: match.start()].strip():
        raise InputError("error-addcustomer-usage")
    return value[: match.start()].strip(), match.group(1)
