"""Notices to the owners about what customers did: a new customer, a booking change, a low rating.

They go through the outbox like the inbox's copies (services/inbox.py): a Telegram outage delays
them instead of losing them, and the worker renders each in its owner's language at send time,
so the payloads carry data (ids, names, ISO times, booleans), never text. Owners have no quiet
hours: `not_before` is the moment of the event. Each key starts with the kind and the customer's
id, as the inbox's copies do, so /forget finds them (`scrub_owner_notices`).

The owner's language is their Telegram app's, remembered when they write to the bot
(`OwnerLanguages`) in shop_settings under `owner_language:<telegram id>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from services.outbox import Outgoing, enqueue
from services.outbox_payloads import (
    OwnerBooking,
    OwnerLowRating,
    OwnerNewCustomer,
    Payload,
    PayloadError,
    load,
    to_json,
)
from storage.database import Database
from storage.repositories import Repositories

if TYPE_CHECKING:  # types only: /forget (services.privacy) imports this module
    from services.bookings import BookingItem
    from services.dto import CustomerCard
    from services.feedback import RatingResult

KINDS = (OwnerNewCustomer.kind, OwnerBooking.kind, OwnerLowRating.kind)
BOOKING_ACTIONS = ("booked", "moved", "confirmed", "cancelled")
_COMMENT_LIMIT = 3500  # the rest of Telegram's 4,096 is the header and the name
_LANGUAGE_KEY = "owner_language:"


def owner_language_key(telegram_id: int) -> str:
    return f"{_LANGUAGE_KEY}{telegram_id}"


async def owner_languages(repos: Repositories, telegram_ids: Iterable[int]) -> dict[int, str]:
    """The remembered languages of these owners (for the delivery worker, in its transaction)."""
    wanted = {owner_language_key(telegram_id): telegram_id for telegram_id in telegram_ids}
    if not wanted:
        return {}
    values = await repos.settings.values(wanted)
    return {wanted[key]: value for key, value in values.items()}


class OwnerLanguages:
    """Remembers each owner's language; writes only when it changes (a cache spares the rest)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: dict[int, str] = {}  # what the database holds, as far as this process knows

    async def remember(self, telegram_id: int, language: str) -> None:
        if self._known.get(telegram_id) == language:
            return
        key = owner_language_key(telegram_id)
        async with self._db.reading() as repos:
            stored = (await repos.settings.values([key])).get(key)
        if stored != language:
            async with self._db.transaction() as repos:
                await repos.settings.put(key, language)
        self._known[telegram_id] = language


class OwnerNotices:
    """Queues one notice per owner and wakes the delivery worker (`on_queued`)."""

    def __init__(
        self,
        db: Database,
        owner_ids: Collection[int],
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._owner_ids = tuple(owner_ids)
        self._on_queued = on_queued

    async def new_customer(self, card: CustomerCard, birthday_late: bool, now: datetime) -> None:
        """`birthday_late`: no gift by the 30-day rule, so the owner is offered to give it."""
        payload = OwnerNewCustomer(
            customer_id=card.id,
            customer=card.label,
            source=card.source,
            consent=bool(card.consent),
            birthday=card.birthday.as_text() if card.birthday else None,
            birthday_late=birthday_late and card.birthday is not None,
        )
        await self._queue(card.id, "", payload, now)

    async def booking(
        self,
        action: str,
        booking: BookingItem,
        now: datetime,
        was: datetime | None = None,
        refund: int = 0,
    ) -> None:
        """`action` is one of BOOKING_ACTIONS; `was` is the old time of a moved booking;
        `refund` a paid deposit to give back (issue 13)."""
        if action not in BOOKING_ACTIONS:
            raise ValueError(f"unknown booking action {action!r}")
        payload = OwnerBooking(
            customer_id=booking.customer.id,
            booking_id=booking.id,
            action=action,
            customer=booking.customer.label,
            service=booking.service.name,
            starts_at=booking.starts_at,
            was=was,
            refund=refund,
        )
        # The moment names the event: the same booking may be moved back and forth.
        event = f"{booking.id}:{action}:{int(now.timestamp() * 1000)}"
        await self._queue(booking.customer.id, event, payload, now)

    async def low_rating(self, result: RatingResult, comment: str | None, now: datetime) -> None:
        """`comment` None: the rating itself (their words are asked for); else their words."""
        payload = OwnerLowRating(
            customer_id=result.customer.id,
            purchase_id=result.purchase_id,
            stars=result.stars,
            customer=result.customer.label,
            comment=comment[:_COMMENT_LIMIT] if comment is not None else None,
        )
        stage = "rated" if comment is None else "words"
        await self._queue(result.customer.id, f"{result.purchase_id}:{stage}", payload, now)

    async def _queue(self, customer_id: int, event: str, payload: Payload, now: datetime) -> None:
        if not self._owner_ids:
            return
        async with self._db.transaction() as repos:
            for owner_id in self._owner_ids:
                key = ":".join(
                    part for part in (payload.kind, str(customer_id), event, str(owner_id)) if part
                )
                # Addressed to the owner (customer_id None): not held by quiet hours.
                await enqueue(repos, Outgoing(key, owner_id, None, now, payload), now)
        if self._on_queued is not None:
            self._on_queued()


async def scrub_owner_notices(repos: Repositories, customer_id: int, label: str) -> None:
    """For /forget, inside its transaction: the notices' names and words go too.

    Except a refund the owners have not heard of yet (issue 13): it still goes, naming the
    customer as `label` (the anonymised "#12 —"), or the paid deposit would never be returned.
    """
    refunds = []
    for row in await repos.inbox.pending_owner_rows(OwnerBooking.kind, customer_id):
        try:
            notice = load(OwnerBooking, row.payload)
        except PayloadError:
            continue
        if notice.refund:
            refunds.append((row, dataclasses.replace(notice, customer=label)))
    # The inbox's scrub blanks the owners' rows whose keys start with `<kind>:<customer id>:`.
    await repos.inbox.scrub(customer_id, KINDS)
    for row, notice in refunds:
        row.payload = to_json(notice)
