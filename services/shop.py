"""The owner's business knobs kept in the database, with their defaults and their limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.business_phrases import DEFAULT_PHRASES, parse_phrases
from services.errors import InputError
from services.parsing import parse_clock, parse_money, parse_time_range
from storage.database import Database

DEFAULT_CURRENCY = "RUB"
CURRENCIES = ("RUB", "USD", "EUR", "KZT", "UAH", "GBP", "BYN", "AMD", "GEL", "UZS")


@dataclass(frozen=True, slots=True)
class ShopProfile:
    currency: str = DEFAULT_CURRENCY
    margin_percent: int = 30  # the share of revenue that is profit, for LTV
    acquisition_cost: int = 0  # minor units spent to win one customer (CAC)
    lead_days: int = 4  # rebooking reminder this many days before the due date
    window_start: time = time(10, 0)  # never write to customers outside this window
    window_end: time = time(20, 0)
    followup_days: int = 3  # one follow-up after this many days without a reaction
    birthday_days_before: int = 3
    birthday_discount: int = 15  # percent
    birthday_valid_days: int = 14
    feedback_hours: int = 3  # the rating question this long after a sale
    cashback_percent: int = 5  # loyalty points credited on each sale
    referral_bonus: int = 300  # points for bringing a friend who buys
    # issue 11: Telegram Business
    sale_marker: str = "+"  # "+2500 маникюр" in a client's chat logs a sale
    business_slots: int = 0  # 1: a client's request for a time gets free slots
    business_delay_minutes: int = 15  # ... when the owner has not answered this long
    business_phrases: str = DEFAULT_PHRASES  # what counts as a request for a time
    # issue 13: no-shows, the waitlist, deposits
    late_cancel_hours: int = 24  # a cancellation later than this before the start is "late"
    unconfirmed_hour: int = 18  # the eve's hour when the owner hears of unconfirmed bookings
    deposit_after_no_shows: int = 0  # a customer with this many no-shows pays a deposit (0: off)
    deposit_hold_minutes: int = 30  # an unpaid deposit's slot is released after this long

    def next_send_time(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` if it falls inside the sending window, else the window's next opening."""
        local = moment.astimezone(zone)
        if self.window_start <= local.time() < self.window_end:
            return moment
        day = local.date() if local.time() < self.window_start else local.date() + timedelta(1)
        return datetime.combine(day, self.window_start, tzinfo=zone)

    def in_window(self, moment: datetime, zone: ZoneInfo) -> bool:
        return self.next_send_time(moment, zone) == moment


# key → (lowest, highest) for whole-number knobs
_RANGES: dict[str, tuple[int, int]] = {
    "margin_percent": (1, 100),
    "lead_days": (1, 14),
    "followup_days": (1, 30),
    "birthday_days_before": (0, 30),
    "birthday_discount": (1, 90),
    "birthday_valid_days": (1, 60),
    "feedback_hours": (1, 72),
    "cashback_percent": (0, 50),
    "referral_bonus": (0, 100_000),
    # issue 11
    "business_delay_minutes": (1, 240),
    # issue 13
    "late_cancel_hours": (0, 168),
    "unconfirmed_hour": (0, 23),
    "deposit_after_no_shows": (0, 20),
    "deposit_hold_minutes": (5, 120),
}


def parse_knob(key: str, text: str) -> object:
    """The value of one knob from what the owner typed; InputError names what is expected."""
    value = text.strip()
    if key in _RANGES:
        low, high = _RANGES[key]
        if not re.fullmatch(r"\d{1,6}", value.rstrip("%").strip()) or not (
            low <= int(value.rstrip("%").strip()) <= high
        ):
            raise InputError("error-knob-range", low=low, high=high)
        return int(value.rstrip("%").strip())
    if key == "currency":
        code = value.upper()
        if code not in CURRENCIES:
            raise InputError("error-currency", known=", ".join(CURRENCIES))
        return code
    if key == "acquisition_cost":
        return 0 if value in {"0", "-"} else parse_money(value)
    if key == "window":
        return parse_time_range(value, error="error-window-format", clock_error="error-time-format")
    if key in _BUSINESS_KNOBS:  # issue 11
        return _parse_business_knob(key, value)
    raise InputError("error-knob-unknown", known=", ".join(EDITABLE))


def _parse_business_knob(key: str, value: str) -> object:
    """Issue 11: the sale marker, free slots on/off, the request phrases."""
    if key == "sale_marker":
        if not re.fullmatch(r"[^\w\s/]{1,3}", value):
            raise InputError("biz-error-marker")
        return value
    if key == "business_phrases":
        return parse_phrases(value)
    answer = value.casefold()
    if answer not in _ON | _OFF:
        raise InputError("biz-error-on-off")
    return int(answer in _ON)


_BUSINESS_KNOBS = ("sale_marker", "business_slots", "business_phrases")
_ON = frozenset({"on", "yes", "1", "вкл", "включить", "да"})  # issue 11
_OFF = frozenset({"off", "no", "0", "выкл", "выключить", "нет"})
EDITABLE = (
    *_RANGES,
    "currency",
    "acquisition_cost",
    "window",
    *_BUSINESS_KNOBS,  # issue 11
)


def _encode(value: object) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _decode(profile: ShopProfile, values: dict[str, str]) -> ShopProfile:
    changes: dict[str, Any] = {}
    for f in fields(ShopProfile):
        raw = values.get(f.name)
        if raw is None:
            continue
        current = getattr(profile, f.name)
        if isinstance(current, time):
            changes[f.name] = parse_clock(raw)
        elif isinstance(current, int):
            changes[f.name] = int(raw)
        else:
            changes[f.name] = raw
    return replace(profile, **changes)


class ShopService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def profile(self) -> ShopProfile:
        async with self._db.reading() as repos:
            values = await repos.settings.all()
        return profile_from(values)

    async def set(self, key: str, text: str) -> ShopProfile:
        value = parse_knob(key, text)
        async with self._db.transaction() as repos:
            if isinstance(value, tuple):  # the sending window: two knobs at once
                await repos.settings.put("window_start", _encode(value[0]))
                await repos.settings.put("window_end", _encode(value[1]))
            else:
                await repos.settings.put(key, _encode(value))
            return profile_from(await repos.settings.all())


def profile_from(values: dict[str, str]) -> ShopProfile:
    """The profile from stored values, for code that already holds a transaction."""
    return _decode(ShopProfile(), values)
