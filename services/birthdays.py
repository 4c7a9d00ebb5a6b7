"""Birthday gifts: D days before, a greeting with a personal promo code, once a year."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Birthday
from services.shop import ShopProfile, profile_from
from storage.database import Database
from storage.repositories import Repositories

BIRTHDAY = "birthday"
# Entered or changed by the customer closer than this to the day: the gift starts next year.
NOTICE_DAYS = 30
# Who entered a birthday (Customer.birthday_set_by).
SET_BY_CUSTOMER, SET_BY_OWNER = "customer", "owner"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the counter


def birthday_in(year: int, day: int, month: int) -> date:
    """The day celebrated in `year`; 29 February falls on the 28th in common years."""
    if (month, day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


def next_birthday(today: date, day: int, month: int) -> date:
    this_year = birthday_in(today.year, day, month)
    return this_year if this_year >= today else birthday_in(today.year + 1, day, month)


def _too_late_to_earn(
    set_at: datetime | None, set_by: str | None, birthday: date, zone: ZoneInfo
) -> bool:
    """A customer who enters their birthday a few days before it earns no gift this year.

    The rule is against chasing the gift, so it does not apply to what the owner entered
    (/birthday, an import of the shop's records): a shop that moves in greets at once.
    A birthday from before this was recorded (set_by None) keeps the stricter rule.
    """
    if set_at is None or set_by == SET_BY_OWNER:
        return False
    return set_at.astimezone(zone).date() > birthday - timedelta(NOTICE_DAYS)


def new_code() -> str:
    return "BD-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


async def queue_birthdays(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """Greetings (with a fresh promo code each) for birthdays in the next D days."""
    async with db.reading() as repos:
        profile = profile_from(await repos.settings.all())
        rows = await repos.retention.birthday_rows()
    if not profile.in_window(now, zone):
        return 0
    today = now.astimezone(zone).date()
    queued = 0
    for row in rows:
        birthday = next_birthday(today, row.day, row.month)
        if (birthday - today).days > profile.birthday_days_before:
            continue
        if _too_late_to_earn(row.set_at, row.set_by, birthday, zone):
            continue
        key = f"birthday:{row.customer_id}:{birthday.year}"
        async with db.transaction() as repos:
            if await repos.outbox.exists(key):
                continue
            await queue_greeting(
                repos,
                zone,
                profile,
                Greeting(key, row.customer_id, row.chat_id, row.name),
                send_at=now,
                now=now,
            )
            queued += 1
    return queued


@dataclass(frozen=True, slots=True)
class Greeting:
    key: str  # birthday:<customer>:<year>
    customer_id: int
    chat_id: int
    name: str | None


async def queue_greeting(
    repos: Repositories,
    zone: ZoneInfo,
    profile: ShopProfile,
    greeting: Greeting,
    *,
    send_at: datetime,
    now: datetime,
) -> None:
    """A fresh personal code and the greeting that carries it, in the caller's transaction."""
    code = await repos.retention.add_promo_code(
        code=new_code(),
        customer_id=greeting.customer_id,
        kind=BIRTHDAY,
        percent=profile.birthday_discount,
        valid_from=send_at,
        valid_until=send_at + timedelta(days=profile.birthday_valid_days),
        created_at=now,
    )
    payload = Birthday(
        name=greeting.name or "",
        code=code.code,
        percent=code.percent,
        valid_until=code.valid_until.astimezone(zone).date(),
    )
    message = Outgoing(greeting.key, greeting.chat_id, greeting.customer_id, send_at, payload)
    if await enqueue(repos, message, now) is None:
        raise RuntimeError(f"{greeting.key} was queued concurrently")  # rolls the code back
