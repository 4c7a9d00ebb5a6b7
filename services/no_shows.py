"""No-show history (issue 13): lost visits per customer and for the shop, and the eve's check.

A visit is lost when the customer did not come (the owner pressed No-show in /today) or
cancelled later than `late_cancel_hours` before the start. Whether a cancellation was late is
decided when it happens, by the knob of that moment, and kept on the booking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.dto import CustomerCard
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import OwnerUnconfirmed, PayloadError, load, to_json
from services.schedule import local_bounds
from services.shop import ShopProfile, profile_from
from storage.database import Database
from storage.no_shows import LostCounts, VisitCounts
from storage.repositories import Repositories

__all__ = [
    "LostCounts",
    "NoShowService",
    "VisitCounts",
    "forget_unconfirmed",
    "is_late_cancel",
    "queue_unconfirmed",
]

STATS_DAYS = 90  # /stats counts the visits of this many days before its cut-off


def is_late_cancel(starts_at: datetime, now: datetime, profile: ShopProfile) -> bool:
    return starts_at - now < timedelta(hours=profile.late_cancel_hours)


def unconfirmed_key(day_iso: str, owner_id: int) -> str:
    return f"unconfirmed:{day_iso}:{owner_id}"


class NoShowService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_customers(self, customer_ids: Collection[int]) -> dict[int, LostCounts]:
        async with self._db.reading() as repos:
            return await repos.no_shows.of_customers(customer_ids)

    async def visits(self, cutoff: datetime) -> VisitCounts:
        """The booked visits of the STATS_DAYS before `cutoff`, kept and lost."""
        async with self._db.reading() as repos:
            return await repos.no_shows.visits_between(cutoff - timedelta(days=STATS_DAYS), cutoff)


async def queue_unconfirmed(
    db: Database, zone: ZoneInfo, now: datetime, owner_ids: Collection[int]
) -> int:
    """From `unconfirmed_hour` on the eve: one message per owner listing tomorrow's bookings
    nobody confirmed. Keyed by the day, so it comes once however often the scan runs; a
    booking confirmed after it went is simply not in it (the owner sees /today)."""
    if not owner_ids:
        return 0
    local = now.astimezone(zone)
    queued = 0
    async with db.transaction() as repos:
        profile = profile_from(await repos.settings.all())
        if local.hour < profile.unconfirmed_hour:
            return 0
        day = local.date() + timedelta(days=1)
        start, end = local_bounds(day, zone)
        records = await repos.bookings.unconfirmed_between(start, end)
        if not records:
            return 0
        payload = OwnerUnconfirmed(
            day=day,
            times=tuple(r.booking.starts_at for r in records),
            customers=tuple(CustomerCard.of(r.customer).label for r in records),
            services=tuple(r.service.name for r in records),
            booking_ids=tuple(r.booking.id for r in records),
        )
        for owner_id in owner_ids:
            outgoing = Outgoing(
                unconfirmed_key(day.isoformat(), owner_id), owner_id, None, now, payload
            )
            if await enqueue(repos, outgoing, now) is not None:
                queued += 1
    return queued


async def forget_unconfirmed(repos: Repositories, customer_id: int, label: str) -> None:
    """For /forget, inside its transaction: the eve's lists, queued or sent, name them as
    `label` (the anonymised customer's, "#12 —"): the owner still sees the booking, not who."""
    mine = await repos.no_shows.booking_ids_of(customer_id)
    # Every list line holds a CustomerCard.label, which begins with "#<id> ".
    prefix = f"#{customer_id} "
    for row in await repos.no_shows.owner_lists_naming(OwnerUnconfirmed.kind, f'"{prefix}'):
        try:
            payload = load(OwnerUnconfirmed, row.payload)
        except PayloadError:
            continue  # blanked already
        customers = tuple(
            label
            if (index < len(payload.booking_ids) and payload.booking_ids[index] in mine)
            or customer.startswith(prefix)
            else customer
            for index, customer in enumerate(payload.customers)
        )
        if customers != payload.customers:
            row.payload = to_json(dataclasses.replace(payload, customers=customers))
