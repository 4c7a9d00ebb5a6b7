"""The waitlist (issue 13): freed time is offered to the people waiting, in the order they joined.

A customer who finds no convenient time joins for a service and the next few days. Whenever
time frees up (a cancellation, a move, the owner opening more hours or removing a block), the
use case that frees it compares the waiting customers' free slots before and after, inside its
own transaction, and queues each of them one offer of the earliest new slot: outbox rows in join
order, inside the sending window, keyed `waitoffer:<slot minutes>:<entry id>`. The first tap
books it by the ordinary booking rule (the cells' primary key); later taps hear "already taken"
and stay on the list. Offers not yet sent are withdrawn when the slot is taken through the
waitlist or begins (the `waitlist` scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.dto import CustomerCard, ServiceItem
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import WaitlistOffer
from services.schedule import SEARCH_DAYS, free_in, local_bounds
from services.shop import profile_from
from services.slot_time import slot_minutes, slot_start
from storage.database import Database
from storage.outbox import OutboxStatus
from storage.repositories import Repositories
from storage.waitlist import LEFT, OFFER_KEY, WAITING

# Freed time is looked at with the hours either side: a longer service may fit with its neighbours.
FREED_MARGIN = timedelta(hours=4)
JOIN_DAYS = (3, 7, SEARCH_DAYS)  # the ranges a customer picks from: the next N days

Snapshot = dict[int, set[datetime]]  # waiting entry id → its free slots at one moment


@dataclass(frozen=True, slots=True)
class WaitlistItem:
    id: int
    customer: CustomerCard
    service: ServiceItem
    first_day: date
    last_day: date
    created_at: datetime


def freed_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span whose free slots change when [start, end) is freed."""
    return start - FREED_MARGIN, end + FREED_MARGIN


def offer_key(slot: datetime, entry_id: int) -> str:
    return f"{OFFER_KEY}:{slot_minutes(slot)}:{entry_id}"


async def free_for_waiting(
    repos: Repositories, zone: ZoneInfo, now: datetime, start: datetime, end: datetime
) -> Snapshot:
    """The free slots in [start, end) of every waiting entry whose days meet that time."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    found: Snapshot = {}
    for entry, _customer, service in await repos.waitlist.waiting_between(first, last):
        entry_start, _ = local_bounds(entry.first_day, zone)
        _, entry_end = local_bounds(entry.last_day, zone)
        low, high = max(start, entry_start), min(end, entry_end)
        if low >= high:
            continue
        slots = await free_in(
            repos,
            duration_minutes=service.duration_minutes,
            zone=zone,
            start=low,
            end=high,
            now=now,
        )
        found[entry.id] = set(slots)
    return found


async def offer_freed(
    repos: Repositories,
    zone: ZoneInfo,
    now: datetime,
    start: datetime,
    end: datetime,
    before: Snapshot,
) -> int:
    """After a change that may have freed time in [start, end): each waiting customer is offered
    the earliest slot that is free now and was not before. Returns the offers queued."""
    profile = profile_from(await repos.settings.all())
    send_at = profile.next_send_time(now, zone)
    after = await free_for_waiting(repos, zone, now, start, end)
    if not after:
        return 0
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    queued = 0
    for entry, customer, service in await repos.waitlist.waiting_between(first, last):
        if customer.telegram_id is None or customer.blocked_at is not None:
            continue
        # An offer that could only go out after the slot began would be useless.
        new = sorted(s for s in after.get(entry.id, set()) - before.get(entry.id, set()))
        new = [s for s in new if s > send_at]
        if not new:
            continue
        slot = new[0]
        outgoing = Outgoing(
            key=offer_key(slot, entry.id),
            chat_id=customer.telegram_id,
            customer_id=customer.id,
            not_before=send_at,
            payload=WaitlistOffer(
                entry_id=entry.id, service_id=service.id, service=service.name, at=slot
            ),
        )
        if await enqueue(repos, outgoing, now) is not None:
            queued += 1
    return queued


async def close_entry(repos: Repositories, entry_id: int, booking_id: int, slot: datetime) -> None:
    """The entry's customer booked through an offer: they stop waiting, and the offers of that
    slot still unsent are withdrawn (it is taken)."""
    await repos.waitlist.change_status(
        entry_id, expected=WAITING, status="booked", booking_id=booking_id
    )
    await repos.waitlist.withdraw_offers(slot_minutes(slot), OutboxStatus.CANCELLED)


async def check_entry(repos: Repositories, entry_id: int, customer_id: int) -> None:
    entry = await repos.waitlist.get(entry_id)
    if entry is None or entry.customer_id != customer_id:
        raise InputError("once-button-not-yours")
    if entry.status != WAITING:
        raise InputError("wl-offer-gone")


async def tidy_waitlist(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """The `waitlist` scan: entries past their last day stop waiting, and offers whose slot
    begins before they could be used are withdrawn. Queues nothing (returns 0)."""
    today = now.astimezone(zone).date()
    async with db.transaction() as repos:
        await repos.waitlist.end_before(today)
        for row in await repos.waitlist.pending_offers():
            minutes = int(row.dedup_key.split(":")[1])
            if slot_start(minutes) <= now:
                await repos.waitlist.withdraw_offers(minutes, OutboxStatus.CANCELLED)
    return 0


class WaitlistService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    async def join(
        self, *, telegram_id: int, service_id: int, days: int, now: datetime
    ) -> WaitlistItem:
        """Wait for the service over the next `days` days; joining again widens the range."""
        if days not in JOIN_DAYS:
            raise InputError("error-stale-button")  # button data can be forged
        today = now.astimezone(self._zone).date()
        last_day = today + timedelta(days=days - 1)
        async with self._db.transaction() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            if customer is None:
                raise InputError("error-book-not-registered")
            service = await repos.catalogue.get(service_id)
            if service is None or service.archived:
                raise InputError("error-service-unknown")
            entry = await repos.waitlist.waiting_of(customer.id, service_id)
            if entry is None:
                entry = await repos.waitlist.add(
                    customer_id=customer.id,
                    service_id=service_id,
                    first_day=today,
                    last_day=last_day,
                    status=WAITING,
                    created_at=now,
                )
            else:
                # Their place in the queue stays; the range is what they asked for now.
                entry.first_day, entry.last_day = today, last_day
                await repos.session.flush()
            return WaitlistItem(
                entry.id,
                CustomerCard.of(customer),
                ServiceItem.of(service),
                entry.first_day,
                entry.last_day,
                entry.created_at,
            )

    async def service_of(self, *, telegram_id: int, entry_id: int) -> int:
        """The service an offer is for, once the entry is the presser's own and still waiting."""
        async with self._db.reading() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            if customer is None:
                raise InputError("error-book-not-registered")
            await check_entry(repos, entry_id, customer.id)
            entry = await repos.waitlist.get(entry_id)
            assert entry is not None
            return entry.service_id

    async def booked(self, *, entry_id: int, booking_id: int) -> None:
        """An offer moved the customer's existing booking: they stop waiting."""
        async with self._db.transaction() as repos:
            booking = await repos.bookings.get(booking_id)
            assert booking is not None
            await close_entry(repos, entry_id, booking_id, booking.starts_at)

    async def leave(self, *, telegram_id: int, entry_id: int) -> None:
        async with self._db.transaction() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            entry = await repos.waitlist.get(entry_id)
            if customer is None or entry is None or entry.customer_id != customer.id:
                raise InputError("once-button-not-yours")
            await repos.waitlist.change_status(entry_id, expected=WAITING, status=LEFT)

    async def of_day(self, day: date) -> Sequence[WaitlistItem]:
        """Who waits for a time on `day`, in the order they joined (the owner's view)."""
        async with self._db.reading() as repos:
            rows = await repos.waitlist.waiting_between(day, day)
        return [
            WaitlistItem(
                e.id, CustomerCard.of(c), ServiceItem.of(s), e.first_day, e.last_day, e.created_at
            )
            for e, c, s in rows
        ]
