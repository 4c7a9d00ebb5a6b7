"""Birthday gifts: D days before, a greeting with a personal promo code, once a year."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.outbox import Outgoing, enqueue
from services.shop import profile_from
from storage.database import Database

BIRTHDAY = "birthday"
# Entered or changed closer than this to the day: the gift starts next year.
NOTICE_DAYS = 30
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
        # Setting the birthday a few days before it does not earn a gift this year.
        if row.set_at and row.set_at.astimezone(zone).date() > birthday - timedelta(NOTICE_DAYS):
            continue
        key = f"birthday:{row.customer_id}:{birthday.year}"
        async with db.transaction() as repos:
            if await repos.outbox.exists(key):
                continue
            code = await repos.retention.add_promo_code(
                code=new_code(),
                customer_id=row.customer_id,
                kind=BIRTHDAY,
                percent=profile.birthday_discount,
                valid_from=now,
                valid_until=now + timedelta(days=profile.birthday_valid_days),
                created_at=now,
            )
            payload = {
                "name": row.name or "",
                "code": code.code,
                "percent": code.percent,
                "valid_until": code.valid_until.astimezone(zone).date().isoformat(),
            }
            message = Outgoing(key, BIRTHDAY, row.chat_id, row.customer_id, now, payload)
            if await enqueue(repos, message, now) is None:
                raise RuntimeError(f"{key} was queued concurrently")  # rolls the code back
            queued += 1
    return queued
