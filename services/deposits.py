"""Deposits (issue 13): a booking that needs one holds its slot until the deposit is paid.

Only when the deployment has a Telegram Payments provider token (PAYMENT_PROVIDER_TOKEN). A
service may ask for a deposit (an amount, or a share of its price), and so may a customer with
`deposit_after_no_shows` no-shows (the service's deposit, or NO_SHOW_DEPOSIT_PERCENT of the
price when it has none). The slot is held `deposit_hold_minutes`; then the `deposits` scan
releases it (the booking is cancelled and its time offered to the waitlist). A pre-checkout
query is approved only while the hold stands and the amount and currency match exactly;
successful_payment confirms the booking. Done at the counter, the sale notes the deposit as
paid; cancelled in time, the owner is asked to refund it in the provider's cabinet (the bot
cannot refund) and the request is recorded; a late cancellation or a no-show keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.catalogue import require_service_by_name
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import DepositReleased
from services.parsing import parse_money
from services.shop import ShopProfile, profile_from
from services.waitlist import free_for_waiting, freed_span, offer_freed
from storage.bookings import BOOKED, CANCELLED
from storage.database import Database
from storage.deposits import HELD, KEPT, PAID, REFUND_ASKED, RELEASED, USED
from storage.models import Service
from storage.repositories import Repositories

NO_SHOW_DEPOSIT_PERCENT = 50
PAYLOAD_PREFIX = "dep:"


def deposit_of(service: Service) -> int:
    """The service's own deposit in minor units (0: none)."""
    if service.deposit_amount:
        return min(service.deposit_amount, service.price)
    if service.deposit_percent:
        return service.price * service.deposit_percent // 100
    return 0


async def deposit_needed(
    repos: Repositories, customer_id: int, service: Service, profile: ShopProfile
) -> int:
    own = deposit_of(service)
    if own:
        return own
    threshold = profile.deposit_after_no_shows
    if threshold:
        counts = (await repos.no_shows.of_customers({customer_id})).get(customer_id)
        if counts is not None and counts.no_shows >= threshold:
            return service.price * NO_SHOW_DEPOSIT_PERCENT // 100
    return 0


async def hold_deposit(
    repos: Repositories,
    *,
    booking_id: int,
    customer_id: int,
    amount: int,
    profile: ShopProfile,
    now: datetime,
) -> None:
    await repos.deposits.add(
        booking_id=booking_id,
        customer_id=customer_id,
        amount=amount,
        currency=profile.currency,
        status=HELD,
        hold_until=now + timedelta(minutes=profile.deposit_hold_minutes),
        created_at=now,
    )


async def deposit_on_cancel(repos: Repositories, booking_id: int, late: bool, now: datetime) -> int:
    """A cancelled booking's deposit: the amount the owner is asked to refund (0: none)."""
    row = await repos.deposits.of_booking(booking_id)
    if row is None:
        return 0
    if row.status == HELD:
        await repos.deposits.change_status(row.id, expected=HELD, status=RELEASED, closed_at=now)
        return 0
    if row.status != PAID:
        return 0
    if late:
        await repos.deposits.change_status(row.id, expected=PAID, status=KEPT, closed_at=now)
        return 0
    await repos.deposits.change_status(row.id, expected=PAID, status=REFUND_ASKED, closed_at=now)
    return row.amount


async def deposit_on_done(
    repos: Repositories, booking_id: int, purchase_id: int, now: datetime
) -> int:
    """The visit's sale counts the paid deposit: the amount left to pay is the rest."""
    row = await repos.deposits.of_booking(booking_id)
    if row is None or row.status != PAID:
        return 0
    await repos.deposits.change_status(
        row.id, expected=PAID, status=USED, purchase_id=purchase_id, closed_at=now
    )
    return row.amount


async def deposit_on_no_show(repos: Repositories, booking_id: int, now: datetime) -> None:
    row = await repos.deposits.of_booking(booking_id)
    if row is not None and row.status == PAID:
        await repos.deposits.change_status(row.id, expected=PAID, status=KEPT, closed_at=now)


async def release_unpaid(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """The `deposits` scan: holds that ran out are released, their bookings cancelled, the
    time offered to the waitlist and the customer told. Returns the messages queued."""
    queued = 0
    async with db.transaction() as repos:
        profile = profile_from(await repos.settings.all())
        for row in await repos.deposits.held_until(now):
            record = await repos.bookings.record(row.booking_id)
            if record is None or record.booking.status != BOOKED:
                continue
            # The release and a payment race on the deposit's status: one of them wins.
            if not await repos.deposits.change_status(
                row.id, expected=HELD, status=RELEASED, closed_at=now
            ):
                continue
            booking = record.booking
            freed = freed_span(booking.starts_at, booking.ends_at)
            before = await free_for_waiting(repos, zone, now, *freed)
            await repos.bookings.change_status(
                booking.id, expected=BOOKED, status=CANCELLED, cancelled_at=now
            )
            await repos.bookings.free_cells(booking.id)
            queued += await offer_freed(repos, zone, now, *freed, before)
            customer = record.customer
            if customer.telegram_id is not None and customer.blocked_at is None:
                outgoing = Outgoing(
                    key=f"depreleased:{row.id}",
                    chat_id=customer.telegram_id,
                    customer_id=customer.id,
                    # A service message about their own booking, yet still not in quiet hours.
                    not_before=profile.next_send_time(now, zone),
                    payload=DepositReleased(
                        service=record.service.name, starts_at=booking.starts_at
                    ),
                )
                if await enqueue(repos, outgoing, now) is not None:
                    queued += 1
    return queued


@dataclass(frozen=True, slots=True)
class DepositInvoice:
    payload: str
    amount: int
    currency: str
    service: str
    starts_at: datetime
    hold_until: datetime


@dataclass(frozen=True, slots=True)
class DepositPaid:
    """A successful payment: `confirmed` False when the hold had already been released, so
    the owner must refund it (the payment is recorded all the same)."""

    booking_id: int
    customer_id: int
    customer: str
    service: str
    starts_at: datetime
    amount: int
    currency: str
    confirmed: bool


def _deposit_id(payload: str) -> int | None:
    match = re.fullmatch(rf"{PAYLOAD_PREFIX}(\d{{1,12}})", payload)
    return int(match.group(1)) if match else None


class DepositService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def invoice(self, booking_id: int) -> DepositInvoice | None:
        """The invoice of a booking's held deposit; None when it needs none."""
        async with self._db.reading() as repos:
            row = await repos.deposits.of_booking(booking_id)
            record = await repos.bookings.record(booking_id)
            if row is None or row.status != HELD or record is None:
                return None
            return DepositInvoice(
                payload=f"{PAYLOAD_PREFIX}{row.id}",
                amount=row.amount,
                currency=row.currency,
                service=record.service.name,
                starts_at=record.booking.starts_at,
                hold_until=row.hold_until,
            )

    async def check(
        self, *, payload: str, telegram_id: int, currency: str, total: int, now: datetime
    ) -> None:
        """Before Telegram charges: the hold still stands and the amount is exactly it.
        InputError (its text goes to the payer) otherwise."""
        async with self._db.reading() as repos:
            deposit_id = _deposit_id(payload)
            row = await repos.deposits.get(deposit_id) if deposit_id else None
            customer = await repos.customers.by_telegram_id(telegram_id)
            if row is None or customer is None or row.customer_id != customer.id:
                raise InputError("dp-unknown")
            if row.status != HELD or row.hold_until <= now:
                raise InputError("dp-hold-over")
            if row.currency != currency or row.amount != total:
                raise InputError("dp-amount-mismatch")

    async def paid(
        self,
        *,
        payload: str,
        telegram_id: int,
        currency: str,
        total: int,
        telegram_charge_id: str,
        provider_charge_id: str,
        now: datetime,
    ) -> DepositPaid:
        async with self._db.transaction() as repos:
            deposit_id = _deposit_id(payload)
            row = await repos.deposits.get(deposit_id) if deposit_id else None
            customer = await repos.customers.by_telegram_id(telegram_id)
            if row is None or customer is None or row.customer_id != customer.id:
                raise InputError("dp-unknown")
            record = await repos.bookings.record(row.booking_id)
            assert record is not None
            charges = {
                "telegram_charge_id": telegram_charge_id,
                "provider_charge_id": provider_charge_id,
                "paid_at": now,
            }
            confirmed = await repos.deposits.change_status(
                row.id, expected=HELD, status=PAID, **charges
            )
            if confirmed:
                await repos.bookings.set_values(row.booking_id, confirmed_at=now)
            elif row.status == RELEASED:
                # Paid after the hold ran out: the time is gone; the money must go back.
                await repos.deposits.change_status(
                    row.id, expected=RELEASED, status=REFUND_ASKED, **charges
                )
            else:  # a redelivered update: the first one recorded it
                confirmed = row.status in {PAID, USED}
            return DepositPaid(
                booking_id=row.booking_id,
                customer_id=customer.id,
                customer=customer.name or f"#{customer.id}",
                service=record.service.name,
                starts_at=record.booking.starts_at,
                amount=total if currency == row.currency else row.amount,
                currency=row.currency,
                confirmed=confirmed,
            )

    async def set_for_service(self, text: str) -> tuple[str, int | None, int | None]:
        """`/deposit <service>; <amount | N% | ->`: the service, its amount and its percent."""
        name, sep, value = text.rpartition(";")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InputError("dp-usage")
        amount: int | None = None
        percent: int | None = None
        if value != "-":
            if value.endswith("%"):
                digits = value.rstrip("%").strip()
                if not digits.isdigit() or not 1 <= int(digits) <= 100:
                    raise InputError("dp-percent")
                percent = int(digits)
            else:
                amount = parse_money(value)
        async with self._db.transaction() as repos:
            service = await require_service_by_name(repos, name)
            service.deposit_amount, service.deposit_percent = amount, percent
            await repos.session.flush()
            return service.name, amount, percent
