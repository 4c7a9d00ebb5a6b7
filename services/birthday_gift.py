"""A birthday entered too close to the day: no gift by the rule, unless the owner gives it anyway.

The rule lives in services/birthdays.py (NOTICE_DAYS): a customer who enters their birthday
less than that many days before it earns no gift this year. Registration says so honestly, and
the owner may press "Give the gift anyway": that queues the usual birthday greeting with a
personal code (same kind, same dedup key `birthday:<customer>:<year>`, so the yearly scan never
sends a second one), at the moment the scan would have sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.birthdays import NOTICE_DAYS, Greeting, next_birthday, queue_greeting
from services.dto import CustomerCard
from services.errors import InputError
from services.shop import profile_from
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Grant:
    customer: CustomerCard
    send_at: datetime
    new: bool  # False: the greeting for that birthday was queued before


def too_close(today: date, day: int, month: int) -> date | None:
    """The coming birthday if it is too close to earn a gift when entered today, else None."""
    birthday = next_birthday(today, day, month)
    return birthday if birthday - timedelta(NOTICE_DAYS) < today else None


async def grant_birthday_gift(
    db: Database, zone: ZoneInfo, customer_id: int, now: datetime
) -> Grant:
    """Queue the birthday greeting with a fresh code for when the scan would have sent it."""
    async with db.transaction() as repos:
        row = await repos.customers.get(customer_id)
        if row is None or row.telegram_id is None:
            raise InputError("kw-error-customer-gone")
        if row.birth_day is None or row.birth_month is None:
            raise InputError("kw-error-no-birthday")
        if not row.consent:  # the yearly greeting needs consent too
            raise InputError("kw-error-no-consent")
        profile = profile_from(await repos.settings.all())
        today = now.astimezone(zone).date()
        birthday = next_birthday(today, row.birth_day, row.birth_month)
        greet_day = max(today, birthday - timedelta(days=profile.birthday_days_before))
        moment = max(now, datetime.combine(greet_day, profile.window_start, tzinfo=zone))
        send_at = profile.next_send_time(moment, zone)
        card = CustomerCard.of(row)
        key = f"birthday:{row.id}:{birthday.year}"
        existing = await repos.outbox.by_key(key)
        if existing is not None:
            return Grant(card, existing.not_before, new=False)
        greeting = Greeting(key, row.id, row.telegram_id, row.name)
        await queue_greeting(repos, zone, profile, greeting, send_at=send_at, now=now)
        return Grant(card, send_at, new=True)


class BirthdayGiftService:
    """The owner's "Give the gift anyway", for handlers (which hold no database)."""

    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    async def grant(self, customer_id: int, now: datetime) -> Grant:
        return await grant_birthday_gift(self._db, self._zone, customer_id, now)
