"""Bookings: a customer takes a free slot, confirms, moves or cancels it; the owner closes it.

A booking claims its 15-minute cells in the same transaction as the booking row, so of two
people tapping overlapping slots the database lets exactly one through (the cells' primary
key); the other gets `SlotTaken` and is offered fresh slots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.booking_reminders import reminder_key, reminder_moment
from services.business import note_booking
from services.customers import customer_totals
from services.deposits import (
    deposit_needed,
    deposit_on_cancel,
    deposit_on_done,
    deposit_on_no_show,
    hold_deposit,
)
from services.dto import CustomerCard, SaleReceipt, ServiceItem
from services.errors import InputError
from services.loyalty import recompute_cashback
from services.no_shows import is_late_cancel
from services.parsing import parse_money
from services.sales import record_sale, refresh_thanks, sale_moment
from services.schedule import cells_of, local_bounds, slot_end, slot_is_free
from services.shop import ShopProfile, profile_from
from services.waitlist import check_entry, close_entry, free_for_waiting, freed_span, offer_freed
from storage.bookings import BOOKED, CANCELLED, DONE, NO_SHOW, BookingRecord
from storage.database import Database
from storage.errors import CellsTaken
from storage.models import Customer
from storage.repositories import Repositories

# Freed time joins what was free beside it: slots within this margin may newly fit (issue 13).

__all__ = [
    "BOOKED",
    "CANCELLED",
    "DONE",
    "NO_SHOW",
    "AlreadyBooked",
    "BookingItem",
    "BookingService",
    "ClosedBooking",
    "SlotTaken",
]


@dataclass(frozen=True, slots=True)
class BookingItem:
    id: int
    customer: CustomerCard
    service: ServiceItem
    starts_at: datetime
    ends_at: datetime
    status: str  # booked | done | no_show | cancelled
    confirmed: bool
    purchase_id: int | None
    # issue 13: a deposit waiting to be paid (the slot is held), or one the owner must refund
    deposit_due: int = 0
    deposit_refund: int = 0

    @classmethod
    def of(cls, record: BookingRecord) -> BookingItem:
        row = record.booking
        return cls(
            id=row.id,
            customer=CustomerCard.of(record.customer),
            service=ServiceItem.of(record.service),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            status=row.status,
            confirmed=row.confirmed_at is not None,
            purchase_id=row.purchase_id,
        )


@dataclass(frozen=True, slots=True)
class ClosedBooking:
    """A booking marked done, with the sale it logged."""

    booking: BookingItem
    sale: SaleReceipt
    deposit: int = 0  # issue 13: paid in advance, counted in the sale


class SlotTaken(InputError):
    """The slot is no longer free (someone was faster, or the button is stale)."""

    def __init__(self, service_id: int, wanted: datetime, booking_id: int | None = None) -> None:
        super().__init__("error-slot-taken")
        self.service_id = service_id
        self.wanted = wanted
        self.booking_id = booking_id  # set when moving an existing booking


class AlreadyBooked(InputError):
    """One future booking per customer and service: offer to move the one they have."""

    def __init__(self, booking: BookingItem, zone: ZoneInfo) -> None:
        local = booking.starts_at.astimezone(zone)
        super().__init__(
            "error-already-booked",
            service=booking.service.name,
            when=local.strftime("%d.%m.%Y %H:%M"),
        )
        self.booking = booking


class BookingService:
    def __init__(self, db: Database, zone: ZoneInfo, *, deposits: bool = False) -> None:
        self._db = db
        self._zone = zone
        self._deposits = deposits  # issue 13: a payment provider is connected

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()

    # --- the customer's side -------------------------------------------------------------

    async def book(
        self,
        *,
        telegram_id: int,
        service_id: int,
        starts_at: datetime,
        now: datetime,
        ref: int = 0,
        source: str = "book",
        waitlist_entry: int = 0,
    ) -> BookingItem:
        """Book a slot; `ref` is the outbox message whose button was pressed (0: none);
        `waitlist_entry` the waitlist entry whose offer it was (0: none; issue 13)."""
        async with self._db.transaction() as repos:
            customer = await _registered(repos, telegram_id)
            if waitlist_entry > 0:
                await check_entry(repos, waitlist_entry, customer.id)
            service = await repos.catalogue.get(service_id)
            if service is None or service.archived:
                raise InputError("error-service-unknown")
            await repos.bookings.lock_customer(customer.id)
            existing = await repos.bookings.upcoming_of_service(customer.id, service_id, now)
            if existing is not None:
                record = await repos.bookings.record(existing.id)
                assert record is not None
                raise AlreadyBooked(BookingItem.of(record), self._zone)
            free = await slot_is_free(
                repos,
                starts_at=starts_at,
                duration_minutes=service.duration_minutes,
                zone=self._zone,
                now=now,
            )
            if not free:
                raise SlotTaken(service_id, starts_at)
            outbox_id = ref if ref > 0 else None
            if outbox_id is not None:
                await _own_message(repos, customer, outbox_id)
            ends_at = slot_end(starts_at, service.duration_minutes)
            booking = await repos.bookings.add(
                customer_id=customer.id,
                service_id=service_id,
                starts_at=starts_at,
                ends_at=ends_at,
                status=BOOKED,
                source=source,
                outbox_id=outbox_id,
                created_at=now,
            )
            await _take_cells(repos, booking.id, starts_at, ends_at, service_id)
            if outbox_id is not None:
                await repos.outbox.react(outbox_id, "booked", now)
            else:  # issue 11: after the owner's reminder from the business digest
                await note_booking(repos, customer.id, now)
            if waitlist_entry > 0:
                await close_entry(repos, waitlist_entry, booking.id, starts_at)
            item = await _item(repos, booking.id)
            if self._deposits:
                profile = profile_from(await repos.settings.all())
                amount = await deposit_needed(repos, customer.id, service, profile)
                if amount > 0:
                    await hold_deposit(
                        repos,
                        booking_id=booking.id,
                        customer_id=customer.id,
                        amount=amount,
                        profile=profile,
                        now=now,
                    )
                    item = replace(item, deposit_due=amount)
            return item

    async def check_button(self, *, telegram_id: int, ref: int, move: int, now: datetime) -> None:
        """A booking button's links are the presser's own: `ref` the reminder it came on,
        `move` the booking being moved (0: none). Button data can be forged; others refuse."""
        async with self._db.reading() as repos:
            customer = await _registered(repos, telegram_id)
            if ref > 0:
                await _own_message(repos, customer, ref)
            if move > 0:
                await self._own_active(repos, telegram_id, move, now)

    async def reschedule(
        self, *, telegram_id: int, booking_id: int, starts_at: datetime, now: datetime
    ) -> BookingItem:
        """Move an active booking to another free slot; the old time is freed."""
        async with self._db.transaction() as repos:
            record = await self._own_active(repos, telegram_id, booking_id, now)
            await move_booking(repos, self._zone, record, starts_at, now)
            return await _item(repos, booking_id)

    async def cancel(self, *, telegram_id: int, booking_id: int, now: datetime) -> BookingItem:
        async with self._db.transaction() as repos:
            record = await self._own_active(repos, telegram_id, booking_id, now)
            profile = profile_from(await repos.settings.all())
            # issue 13: a cancellation after the cut-off counts as a lost visit.
            late = is_late_cancel(record.booking.starts_at, now, profile)
            freed = freed_span(record.booking.starts_at, record.booking.ends_at)
            before = await free_for_waiting(repos, self._zone, now, *freed)
            await repos.bookings.change_status(
                booking_id, expected=BOOKED, status=CANCELLED, cancelled_at=now, late_cancel=late
            )
            await repos.bookings.free_cells(booking_id)
            await offer_freed(repos, self._zone, now, *freed, before)  # issue 13: the waitlist
            refund = await deposit_on_cancel(repos, booking_id, late, now)
            return replace(await _item(repos, booking_id), deposit_refund=refund)

    async def confirm(self, *, telegram_id: int, booking_id: int, now: datetime) -> BookingItem:
        async with self._db.transaction() as repos:
            await self._own_active(repos, telegram_id, booking_id, now)
            await repos.bookings.set_values(booking_id, confirmed_at=now)
            return await _item(repos, booking_id)

    async def own(self, *, telegram_id: int, booking_id: int, now: datetime) -> BookingItem:
        """The customer's own active booking (for "reschedule": which service, which time)."""
        async with self._db.reading() as repos:
            return BookingItem.of(await self._own_active(repos, telegram_id, booking_id, now))

    async def upcoming(self, telegram_id: int, now: datetime) -> list[BookingItem]:
        async with self._db.reading() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            if customer is None:
                return []
            return [BookingItem.of(r) for r in await repos.bookings.upcoming_of(customer.id, now)]

    async def reminder_at(
        self, booking: BookingItem, now: datetime, profile: ShopProfile | None = None
    ) -> datetime | None:
        """When the day-before reminder of `booking` will come, if one still will.

        None for a booking today, one whose reminder moment has passed (a reminder may then
        still come within minutes; nothing is promised), and one already reminded (a moved
        booking keeps its reminder key, so the scan does not remind it again).
        """
        async with self._db.reading() as repos:
            profile = profile or profile_from(await repos.settings.all())
            if await repos.outbox.exists(reminder_key(booking.id)):
                return None
        moment = reminder_moment(booking.starts_at, now, self._zone, profile)
        return moment if moment is not None and moment > now else None

    async def _own_active(
        self, repos: Repositories, telegram_id: int, booking_id: int, now: datetime
    ) -> BookingRecord:
        record = await repos.bookings.record(booking_id)
        if record is None or record.customer.telegram_id != telegram_id:
            raise InputError("error-booking-unknown")
        if record.booking.status != BOOKED or record.booking.starts_at <= now:
            raise InputError("error-booking-not-active")
        return record

    # --- the owner's side ----------------------------------------------------------------

    async def of_day(self, day: date) -> list[BookingItem]:
        """The day's bookings (shop-local day) in time order; cancelled ones left out."""
        start, end = local_bounds(day, self._zone)
        async with self._db.reading() as repos:
            records = await repos.bookings.between(start, end)
        return [BookingItem.of(r) for r in records if r.booking.status != CANCELLED]

    async def get(self, booking_id: int) -> BookingItem | None:
        async with self._db.reading() as repos:
            record = await repos.bookings.record(booking_id)
            return BookingItem.of(record) if record else None

    async def mark_done(
        self, booking_id: int, now: datetime, profile: ShopProfile | None = None
    ) -> ClosedBooking:
        """Close a booking as done and log the sale at the service price (editable after).

        One transaction: the booking is claimed (so a second press of Done finds it closed),
        the sale is recorded by the same rule as any sale, and the booking points at it; if
        anything fails, nothing of it stays and the booking is still booked.
        """
        async with self._db.transaction() as repos:
            record = await _open_record(repos, booking_id)
            local_day = record.booking.starts_at.astimezone(self._zone).date()
            if local_day > self.today(now):
                raise InputError("error-booking-not-started")
            # Claimed first, so a second press of Done waits for this one and finds it closed.
            if not await repos.bookings.change_status(booking_id, expected=BOOKED, status=DONE):
                raise InputError("error-booking-closed")
            sale = await record_sale(
                repos,
                record.customer,
                amount=record.service.price,
                service_id=record.service.id,
                purchased_at=sale_moment(local_day, now, self._zone),
                now=now,
                profile=profile,
            )
            await repos.bookings.set_values(booking_id, purchase_id=sale.purchase_id)
            deposit = await deposit_on_done(repos, booking_id, sale.purchase_id, now)
            return ClosedBooking(await _item(repos, booking_id), sale, deposit)

    async def mark_no_show(self, booking_id: int, now: datetime) -> BookingItem:
        """The customer did not come; the time stays used (its cells are kept)."""
        async with self._db.transaction() as repos:
            record = await _open_record(repos, booking_id)
            if record.booking.starts_at > now:
                raise InputError("error-booking-not-started")
            if not await repos.bookings.change_status(booking_id, expected=BOOKED, status=NO_SHOW):
                raise InputError("error-booking-closed")
            await deposit_on_no_show(repos, booking_id, now)
            return await _item(repos, booking_id)

    async def change_amount(
        self, purchase_id: int, text: str, now: datetime, profile: ShopProfile | None = None
    ) -> SaleReceipt:
        """The owner corrects what a closed booking's sale was actually paid.

        In the same transaction: the sale's cashback follows the new amount (one correcting
        ledger line), and the thank-you, if still queued, tells the new amount and balance.
        """
        amount = parse_money(text)
        async with self._db.transaction() as repos:
            purchase = await repos.purchases.get(purchase_id)
            if purchase is None:
                raise InputError("error-purchase-gone")
            purchase.amount = amount
            await repos.session.flush()  # the totals and the balance below read the new amount
            customer = await repos.customers.get(purchase.customer_id)
            assert customer is not None  # purchases always belong to a customer
            service = (
                await repos.catalogue.get(purchase.service_id) if purchase.service_id else None
            )
            profile = profile or profile_from(await repos.settings.all())
            balance = await recompute_cashback(repos, purchase, profile, now)
            totals = await customer_totals(repos, customer.id)
            await refresh_thanks(repos, purchase, totals, balance)
            return SaleReceipt(
                purchase_id=purchase.id,
                customer=CustomerCard.of(customer),
                service_name=service.name if service else None,
                amount=amount,
                purchased_at=purchase.purchased_at,
                is_repeat=await repos.purchases.has_earlier(purchase),
                totals=totals,
                currency=profile.currency,
                discount=purchase.discount,
                points_used=purchase.points_used,
                points_balance=balance,
            )


async def _registered(repos: Repositories, telegram_id: int) -> Customer:
    """The customer behind a Telegram id. A row is enough: a customer the owner imported with
    their Telegram id receives reminders before ever pressing /start, and may use them."""
    customer = await repos.customers.by_telegram_id(telegram_id)
    if customer is None:
        raise InputError("error-book-not-registered")
    return customer


async def _own_message(repos: Repositories, customer: Customer, outbox_id: int) -> None:
    """A forged or foreign ref must not act on someone else's message: refuse the press."""
    message = await repos.outbox.get(outbox_id)
    if message is None or message.customer_id != customer.id:
        raise InputError("once-button-not-yours")


async def _open_record(repos: Repositories, booking_id: int) -> BookingRecord:
    record = await repos.bookings.record(booking_id)
    if record is None:
        raise InputError("error-booking-unknown")
    if record.booking.status != BOOKED:
        raise InputError("error-booking-closed")
    return record


async def move_booking(
    repos: Repositories, zone: ZoneInfo, record: BookingRecord, starts_at: datetime, now: datetime
) -> None:
    """Move an active booking to a free `starts_at` (the customer in chat, the owner in the Mini
    App): its new cells are claimed in this transaction, so of two people taking overlapping time
    one wins (`SlotTaken`); the old time goes to the waitlist; the customer confirms again."""
    booking_id, service = record.booking.id, record.service
    free = await slot_is_free(
        repos,
        starts_at=starts_at,
        duration_minutes=service.duration_minutes,
        zone=zone,
        now=now,
        ignore_booking=booking_id,
    )
    if not free:
        raise SlotTaken(service.id, starts_at, booking_id)
    ends_at = slot_end(starts_at, service.duration_minutes)
    freed = freed_span(record.booking.starts_at, record.booking.ends_at)
    before = await free_for_waiting(repos, zone, now, *freed)
    await repos.bookings.free_cells(booking_id)
    await repos.bookings.set_values(
        booking_id, starts_at=starts_at, ends_at=ends_at, confirmed_at=None
    )
    await _take_cells(repos, booking_id, starts_at, ends_at, service.id, booking_id)
    await offer_freed(repos, zone, now, *freed, before)  # issue 13: the waitlist


async def _take_cells(
    repos: Repositories,
    booking_id: int,
    starts_at: datetime,
    ends_at: datetime,
    service_id: int,
    moving: int | None = None,
) -> None:
    try:
        await repos.bookings.take_cells(booking_id, cells_of(starts_at, ends_at))
    except CellsTaken:
        # Someone else's cells won the race; the whole transaction rolls back.
        raise SlotTaken(service_id, starts_at, moving) from None


async def _item(repos: Repositories, booking_id: int) -> BookingItem:
    record = await repos.bookings.record(booking_id)
    assert record is not None
    return BookingItem.of(record)
