"""Issue 13, deposits through Telegram Payments (a provider token, never Stars): a paid deposit
confirms, an unpaid hold expires and its slot goes to the waitlist, the pre-checkout answer
checks the hold and the exact amount, a no-show later requires a deposit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.deposits import release_unpaid
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import Booking, Deposit, Service
from tests.conftest import FakeClock, RunningBot, drained, make_settings, register
from tests.fakes.payments import FakePayments
from tests.fakes.telegram import JSON, FakeTelegram, TelegramUser

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


@pytest.fixture
async def paying(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[tuple[RunningBot, FakePayments]]:
    """The production bot with a payment provider connected."""
    settings = make_settings(fake, sqlite_db, payment_provider_token="381764678:TEST:1")
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    payments = FakePayments(fake)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])) as bot:
        app = RunningBot(fake, dp, bot, sqlite_db, settings, clock)
        await register(app, 42, "Anna", "79161234567")
        await register(app, 43, "Boris", "79161234568")
        await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
        yield app, payments


async def book(person: TelegramUser, day: str = "Thu 26.11", slot: str = "10:00") -> None:
    await person.send("/book")
    await person.click("Gel manicure")
    await person.click(day)
    await person.click(slot)


async def checkout(
    app: RunningBot, payments: FakePayments, user: int, invoice: JSON, **forged: object
) -> JSON:
    update = payments.pre_checkout(user, invoice, **forged)
    await app.fake.wait_until_handled(update)
    return payments.answers[update["pre_checkout_query"]["id"]]


async def deposits(app: RunningBot) -> list[Deposit]:
    async with app.db.reading() as repos:
        return list((await repos.session.scalars(select(Deposit).order_by(Deposit.id))).all())


async def test_payments_updates_are_asked_for_only_with_a_provider(
    paying: tuple[RunningBot, FakePayments], app: RunningBot
) -> None:
    shop, _ = paying
    assert "pre_checkout_query" in shop.dp.resolve_used_update_types()
    assert "pre_checkout_query" not in app.dp.resolve_used_update_types()


async def test_a_paid_deposit_confirms_and_the_sale_deducts_it(
    paying: tuple[RunningBot, FakePayments],
) -> None:
    shop, payments = paying
    owner = shop.owner
    await owner.send("/deposit Gel manicure; 30%")
    assert owner.last_text == "Gel manicure: deposit 30 % of the price."
    anna = shop.user(42)
    await book(anna)
    hold = next(m["text"] for m in anna.messages if "I am holding" in (m.get("text") or ""))
    assert "until 12:30" in hold and "750\u00a0₽" in hold
    [invoice] = payments.invoices
    # Minor units of the shop's currency, exactly 30 % of 2 500 ₽.
    assert (invoice["currency"], invoice["total_amount"], invoice["chat_id"]) == ("RUB", 75000, 42)
    # A forged total is refused; the real one is approved while the hold stands.
    wrong = await checkout(shop, payments, 42, invoice, total_amount=7500)
    assert wrong["ok"] is False and "does not match" in wrong["error_message"]
    right = await checkout(shop, payments, 42, invoice)
    assert right["ok"] is True
    update = payments.successful_payment(42, invoice)
    await shop.fake.wait_until_handled(update)
    assert (anna.last_text or "").startswith(
        "Deposit of 750\u00a0₽ received. Your booking is confirmed"
    )
    [deposit] = await deposits(shop)
    assert (deposit.status, deposit.amount, deposit.currency) == ("paid", 75000, "RUB")
    async with shop.db.reading() as repos:
        [booking] = (await repos.session.scalars(select(Booking))).all()
    assert booking.confirmed_at == shop.clock.now
    # The same payment delivered twice changes nothing.
    await shop.fake.wait_until_handled(payments.successful_payment(42, invoice))
    assert [d.status for d in await deposits(shop)] == ["paid"]
    await drained(shop)
    shop.clock.advance(days=1)
    await owner.send("/today")
    await owner.click("✅ 10:00 done")
    assert "A deposit of 750\u00a0₽ was paid through Telegram: 1\u00a0750\u00a0₽ is left" in (
        owner.last_text or ""
    )
    [deposit] = await deposits(shop)
    assert deposit.status == "used" and deposit.purchase_id is not None


async def test_an_unpaid_hold_expires_and_the_slot_goes_to_the_waitlist(
    paying: tuple[RunningBot, FakePayments],
) -> None:
    shop, payments = paying
    await shop.owner.send("/deposit Gel manicure; 500")
    anna, boris = shop.user(42), shop.user(43)
    await book(anna)
    [invoice] = payments.invoices
    await boris.send("/book")
    await boris.click("Gel manicure")
    await boris.click("⏳ Tell me if time frees up")
    await boris.click("The next 3 days")
    assert await release_unpaid(shop.db, MOSCOW, shop.clock.now) == 0  # still held
    shop.clock.advance(minutes=31)
    assert await release_unpaid(shop.db, MOSCOW, shop.clock.now) == 2  # Boris's offer, Anna's note
    await drained(shop)
    await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == 43 and "Time has freed up" in (c.text or "")
    )
    assert "Thu 26.11 10:00" in (boris.last_text or "")
    await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == 42 and "did not arrive in time" in (c.text or "")
    )
    late = await checkout(shop, payments, 42, invoice)
    assert late["ok"] is False and "run out" in late["error_message"]
    [deposit] = await deposits(shop)
    assert deposit.status == "released"
    await boris.click("✅ Book: Thu 26.11 10:00")
    assert "I am holding" in "".join(m.get("text") or "" for m in boris.messages[-3:])
    # Boris's own deposit is held now; a payment of Anna's old invoice arriving anyway is
    # recorded and the owner is asked to refund it.
    await shop.fake.wait_until_handled(payments.successful_payment(42, invoice))
    assert "arrived after the time had been released" in (anna.last_text or "")
    first = (await deposits(shop))[0]
    assert first.status == "refund_asked" and first.telegram_charge_id


async def test_a_no_show_later_requires_a_deposit(paying: tuple[RunningBot, FakePayments]) -> None:
    shop, payments = paying
    owner = shop.owner
    await owner.send("/settings deposit_after_no_shows 1")
    anna = shop.user(42)
    await book(anna)
    assert payments.invoices == []  # the service asks no deposit, and she never missed one
    await drained(shop)
    shop.clock.advance(days=1)
    await owner.send("/today")
    await owner.click("✖ 10:00 no-show")
    assert "The customer now has: 1 no-show." in (owner.last_text or "")
    await book(anna, "Fri 27.11")
    [invoice] = payments.invoices
    assert invoice["total_amount"] == 125000  # half the price


async def test_an_in_time_cancellation_asks_the_owner_to_refund(
    paying: tuple[RunningBot, FakePayments],
) -> None:
    shop, payments = paying
    await shop.owner.send("/deposit Gel manicure; 500")
    anna = shop.user(42)
    await book(anna, "Fri 27.11")
    [invoice] = payments.invoices
    assert (await checkout(shop, payments, 42, invoice))["ok"] is True
    await shop.fake.wait_until_handled(payments.successful_payment(42, invoice))
    await anna.send("/book")
    await anna.click("✖ Cancel", message=anna.messages[-2])
    assert "The shop will refund your deposit" in (anna.last_text or "")
    await drained(shop)
    call = await shop.fake.wait_for(
        lambda c: (
            c.ok and c.chat_id == 1000 and "refund it in your payment provider" in (c.text or "")
        )
    )
    assert "500\u00a0₽" in (call.text or "")
    [deposit] = await deposits(shop)
    assert deposit.status == "refund_asked" and deposit.closed_at == shop.clock.now


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/deposit", "Write: /deposit Manicure; 500"),
        ("/deposit Gel manicure 500", "Write: /deposit Manicure; 500"),
        ("/deposit Gel manicure; abc", "amount"),
        ("/deposit Gel manicure; 150%", "from 1 to 100"),
        ("/deposit Pedicure; 500", "No such service"),
    ],
)
async def test_deposit_command_rejects_wrong_input(
    app: RunningBot, command: str, expected: str
) -> None:
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    replies = await app.owner.send(command)
    assert expected in replies[-1]["text"]
    async with app.db.reading() as repos:
        [service] = (await repos.session.scalars(select(Service))).all()
    assert (service.deposit_amount, service.deposit_percent) == (None, None)


async def test_without_a_provider_no_deposit_is_asked(app: RunningBot) -> None:
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    await app.owner.send("/deposit Gel manicure; 500")
    assert "No payment provider is connected" in (app.owner.last_text or "")
    await register(app, 42, "Anna", "79161234567")
    await book(app.user(42))
    assert (app.user(42).last_text or "").startswith("Booked: Gel manicure")
    async with app.db.reading() as repos:
        assert (await repos.session.scalars(select(Deposit))).all() == []
