"""The rebooking reminder: a few days before a customer's cycle ends, offer the nearest slots.

Runs as a scan (a plain function of the database and the time). It queues at most one
reminder per customer, service and due date, and one follow-up after `followup_days` without
a reaction; then silence until the next purchase moves the due date.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.cycles import local_days, personal_cycle
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import PayloadError, Rebook, RebookFollowup, load
from services.shop import ShopProfile, profile_from
from storage.database import Database

# (db, service_id, around, now, zone) -> free slot starts (UTC), the nearest few in time order
SlotFinder = Callable[[Database, int, datetime, datetime, ZoneInfo], Awaitable[list[datetime]]]


def due_window(last_day: date, cycle: int, lead_days: int) -> tuple[date, date, date]:
    """(first day to remind, due date, last day to remind) for one cycle.

    Past half a cycle late the customer is drifting away: a win-back, not a reminder.
    """
    due = last_day + timedelta(days=cycle)
    return due - timedelta(days=lead_days), due, due + timedelta(days=cycle // 2)


async def queue_rebooking(db: Database, zone: ZoneInfo, now: datetime, slots: SlotFinder) -> int:
    """Queue reminders and follow-ups that are due now; returns how many were queued."""
    async with db.reading() as repos:
        profile = profile_from(await repos.settings.all())
        rows = await repos.retention.cycle_rows()
    if not profile.in_window(now, zone):
        return 0  # what falls due outside the window waits for the next one
    today = now.astimezone(zone).date()
    queued = 0
    for row in rows:
        cycle = row.cycle_days
        if row.purchases >= 3:
            async with db.reading() as repos:
                times = await repos.retention.purchase_times(row.customer_id, row.service_id)
            cycle = personal_cycle(local_days(times, zone), row.cycle_days)
        first, due, last = due_window(row.last_at.astimezone(zone).date(), cycle, profile.lead_days)
        if not first <= today <= last:
            continue
        key = f"rebook:{row.customer_id}:{row.service_id}:{due.isoformat()}"
        async with db.reading() as repos:
            if await repos.outbox.exists(key):
                continue
            if await repos.retention.has_future_booking(row.customer_id, now):
                continue
        around = datetime.combine(max(due, today), time(12, 0), tzinfo=zone)
        found = await slots(db, row.service_id, around, now, zone)
        payload = Rebook(
            name=row.name or "",
            service_id=row.service_id,
            service=row.service_name,
            due=due,
            slots=tuple(found),
        )
        async with db.transaction() as repos:
            message = Outgoing(key, row.chat_id, row.customer_id, now, payload)
            if await enqueue(repos, message, now) is not None:
                queued += 1
    return queued + await queue_followups(db, zone, now, profile, slots)


async def queue_followups(
    db: Database, zone: ZoneInfo, now: datetime, profile: ShopProfile, slots: SlotFinder
) -> int:
    """One nudge for a reminder nobody reacted to: no tap, no purchase, no booking since."""
    cutoff = now - timedelta(days=profile.followup_days)
    async with db.reading() as repos:
        reminders = await repos.retention.unanswered_reminders(Rebook.kind, cutoff)
    queued = 0
    for reminder in reminders:
        if reminder.customer_id is None or reminder.sent_at is None:
            continue
        key = "rebook2:" + reminder.dedup_key.removeprefix("rebook:")
        async with db.reading() as repos:
            if await repos.outbox.exists(key):
                continue
            if await repos.retention.acted_since(reminder.customer_id, reminder.sent_at):
                continue
            customer = await repos.customers.get(reminder.customer_id)
            if customer is None or customer.blocked_at or not customer.consent:
                continue
        try:
            first = load(Rebook, reminder.payload)
        except PayloadError:  # blanked by /forget: nothing to remind of
            continue
        fresh = await slots(db, first.service_id, now, now, zone)
        payload = RebookFollowup(
            service_id=first.service_id,
            service=first.service,
            name=first.name,
            due=first.due,
            slots=tuple(fresh),
        )
        async with db.transaction() as repos:
            message = Outgoing(key, reminder.chat_id, reminder.customer_id, now, payload)
            if await enqueue(repos, message, now) is not None:
                queued += 1
    return queued


async def decline_own(db: Database, telegram_id: int, outbox_id: int, now: datetime) -> None:
    """ "Not now" pressed by `telegram_id`: honoured only on their own reminder.

    The button's data names an outbox row and can be forged; anyone else's press is refused
    so nobody can silence another customer's follow-up.
    """
    async with db.transaction() as repos:
        customer = await repos.customers.by_telegram_id(telegram_id)
        message = await repos.outbox.get(outbox_id) if outbox_id > 0 else None
        if customer is None or message is None or message.customer_id != customer.id:
            raise InputError("once-button-not-yours")
        await repos.outbox.react(outbox_id, "declined", now)


class RebookingService:
    """The customer's side of the reminder, for handlers (which hold no database)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def decline(self, telegram_id: int, outbox_id: int, now: datetime) -> None:
        await decline_own(self._db, telegram_id, outbox_id, now)
