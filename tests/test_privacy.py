"""/forget and what issues 12 and 13 store: the eve's lists to the owners name nobody forgotten,
their waitlist entries go, their deposits stay as money records without the payment ids, and
their own messages (offers, a released hold, the shop's change to a booking) are blanked."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.bookings import BookingService
from services.catalogue import CatalogueService
from services.no_shows import queue_unconfirmed
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import (
    BookingChanged,
    DepositReleased,
    OwnerBooking,
    OwnerUnconfirmed,
    WaitlistOffer,
    load,
)
from services.owner_notices import OwnerNotices
from services.privacy import PrivacyService
from services.waitlist import WaitlistService
from storage.database import Database
from storage.deposits import PAID
from storage.models import Deposit, OutboxMessage, WaitlistEntry
from tests.conftest import OWNER_ID, FakeClock, RunningBot, drained, register

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow
EVE = datetime.combine(date(2026, 11, 25), time(18), tzinfo=MOSCOW).astimezone(UTC)
NAME, PHONE = "Zinaida", "+79165554433"


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=MOSCOW).astimezone(UTC)


async def test_forget_covers_the_eve_list_the_waitlist_and_deposits(
    db: Database, clock: FakeClock
) -> None:
    service = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    async with db.transaction() as repos:
        for telegram_id, name, phone in ((42, NAME, PHONE), (43, "Boris", "+79160000043")):
            await repos.customers.add(
                telegram_id=telegram_id,
                name=name,
                phone=phone,
                registered_at=clock.now,
                created_at=clock.now,
            )
    bookings, waitlist = BookingService(db, MOSCOW), WaitlistService(db, MOSCOW)
    hers = await bookings.book(
        telegram_id=42, service_id=service.id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    his = await bookings.book(
        telegram_id=43, service_id=service.id, starts_at=local(THURSDAY, 12), now=clock.now
    )
    for telegram_id in (42, 43):
        await waitlist.join(telegram_id=telegram_id, service_id=service.id, days=3, now=clock.now)
    async with db.transaction() as repos:
        for booking, customer_id in ((hers, 1), (his, 2)):
            await repos.deposits.add(
                booking_id=booking.id,
                customer_id=customer_id,
                amount=50000,
                currency="RUB",
                status=PAID,
                hold_until=clock.now,
                telegram_charge_id=f"tg-{customer_id}",
                provider_charge_id=f"prov-{customer_id}",
                paid_at=clock.now,
                created_at=clock.now,
            )
        # Her own messages of issues 12 and 13, as the services queue them.
        for key, payload in (
            ("waitoffer:1:1", WaitlistOffer(1, service.id, "Manicure", local(THURSDAY, 14))),
            ("depreleased:1", DepositReleased("Manicure", local(THURSDAY, 10))),
            ("booking_changed:1", BookingChanged(hers.id, "cancelled", "Manicure", clock.now)),
        ):
            await enqueue(repos, Outgoing(key, 42, 1, clock.now, payload), clock.now)
    assert await queue_unconfirmed(db, MOSCOW, EVE, (OWNER_ID, 1001)) == 2
    async with db.transaction() as repos:  # one owner's list went out already
        row = (
            await repos.session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == OWNER_ID)
            )
        ).one()
        row.status = "sent"
        assert NAME in row.payload and PHONE in row.payload

    assert await PrivacyService(db).forget(42, EVE) == 1

    async with db.reading() as repos:
        rows = (await repos.session.scalars(select(OutboxMessage))).all()
        entries = (await repos.session.scalars(select(WaitlistEntry))).all()
        deposits = (await repos.session.scalars(select(Deposit).order_by(Deposit.id))).all()
    for secret in (NAME, PHONE, "tg-1", "prov-1"):
        assert not any(secret in r.payload for r in rows), secret
    lists = [r for r in rows if r.kind == OwnerUnconfirmed.kind]
    assert sorted(r.status for r in lists) == ["pending", "sent"]
    for r in lists:
        payload = load(OwnerUnconfirmed, r.payload)
        # The owner still sees both bookings; hers no longer says whose it is.
        assert payload.booking_ids == (hers.id, his.id)
        assert payload.customers == ("#1 —", "#2 Boris · +79160000043")
    own = [r for r in rows if r.customer_id == 1]
    assert sorted(r.kind for r in own) == ["booking_changed", "deposit_released", "waitlist_offer"]
    assert all(r.payload == "{}" and r.chat_id == 0 and r.status == "cancelled" for r in own)
    assert [e.customer_id for e in entries] == [2]  # whom she waited for is gone; his stays
    # Money stays, as purchases do: tied to the anonymised customer, without the payment ids.
    assert [(d.customer_id, d.amount, d.status) for d in deposits] == [
        (1, 50000, PAID),
        (2, 50000, PAID),
    ]
    assert (deposits[0].telegram_charge_id, deposits[0].provider_charge_id) == (None, None)
    assert (deposits[1].telegram_charge_id, deposits[1].provider_charge_id) == ("tg-2", "prov-2")


async def test_a_list_naming_nobody_forgotten_is_left_as_it_was(
    db: Database, clock: FakeClock
) -> None:
    """#1 must not match #12: only the forgotten customer's lines change."""
    service = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    async with db.transaction() as repos:
        for telegram_id in range(40, 52):
            await repos.customers.add(
                telegram_id=telegram_id,
                name=f"C{telegram_id}",
                registered_at=clock.now,
                created_at=clock.now,
            )
    await BookingService(db, MOSCOW).book(
        telegram_id=51, service_id=service.id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    assert await queue_unconfirmed(db, MOSCOW, EVE, (OWNER_ID,)) == 1
    async with db.reading() as repos:
        before = (await repos.session.scalars(select(OutboxMessage.payload))).one()
    assert "#12 C51" in before
    await PrivacyService(db).forget(40, EVE)  # customer #1
    async with db.reading() as repos:
        after = (await repos.session.scalars(select(OutboxMessage.payload))).one()
    assert after == before


async def test_the_eve_list_queued_before_forget_goes_out_without_her_name(
    app: RunningBot,
) -> None:
    anna = await register(app, 42, "Anna", "79161234567")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    await drained(app)
    app.clock.advance(hours=6)  # Wednesday 18:00
    assert await queue_unconfirmed(app.db, MOSCOW, app.clock.now, app.settings.owner_ids) == 1
    await anna.send("/forget")
    await anna.click("Yes, erase my data")
    assert "erased" in (anna.last_text or "")
    await drained(app)
    call = await app.fake.wait_for(
        lambda c: c.ok and c.chat_id == OWNER_ID and "Not confirmed" in (c.text or "")
    )
    assert "10:00 Gel manicure — #1 —" in (call.text or "")
    assert "Anna" not in (call.text or "") and "1234567" not in (call.text or "")
    async with app.db.reading() as repos:
        payloads = (await repos.session.scalars(select(OutboxMessage.payload))).all()
        eve = await repos.session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.kind == OwnerUnconfirmed.kind)
        )
    assert not any("Anna" in p or "79161234567" in p for p in payloads)
    assert eve is not None and json.loads(eve)["customers"] == ["#1 —"]


async def test_a_refund_the_owners_have_not_heard_of_survives_forget(
    db: Database, clock: FakeClock
) -> None:
    """Names go from the owners' notices, but a refund still due must reach them, anonymised."""
    service = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    async with db.transaction() as repos:
        await repos.customers.add(
            telegram_id=42, name=NAME, phone=PHONE, registered_at=clock.now, created_at=clock.now
        )
    booking = await BookingService(db, MOSCOW).book(
        telegram_id=42, service_id=service.id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    notices = OwnerNotices(db, (OWNER_ID,))
    await notices.booking("booked", booking, clock.now)
    await notices.booking("cancelled", booking, clock.now, refund=50000)
    async with db.transaction() as repos:  # the first went out; the refund waits (an outage)
        first = (
            await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ).first()
        assert first is not None
        first.status = "sent"

    await PrivacyService(db).forget(42, clock.now)

    async with db.reading() as repos:
        rows = (await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert rows[0].payload == "{}"
    refund = load(OwnerBooking, rows[1].payload)
    assert (refund.customer, refund.refund, refund.action) == ("#1 —", 50000, "cancelled")
    assert rows[1].status == "pending"
    assert not any(NAME in r.payload or PHONE in r.payload for r in rows)
