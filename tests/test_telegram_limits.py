"""Every request to Telegram goes through one limiter; bursts are answered late, never lost.

End to end: the production dispatcher and bot against the fake Bot API server with Telegram's
flood limits switched on (`fake.rate_limits()`: 30/s overall, 1/s per chat, 20/min per group).
"""

from __future__ import annotations

import asyncio

import pytest

from scheduler.delivery import DeliveryWorker
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Text
from services.ratelimit import RateLimiter
from storage.database import Database
from tests.conftest import (
    OWNER_ID,
    FakeClock,
    Monotonic,
    RunningBot,
    eventually,
    make_settings,
    use_limiter,
)
from tests.fakes.telegram import Call, FakeTelegram
from ui.i18n import create_i18n
from ui.telegram_requests import PacedRequests, pace_requests

APOLOGY = "something went wrong"


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in fake.sent_messages(chat_id)]


def apologies(fake: FakeTelegram) -> list[Call]:
    return [c for c in fake.calls_of("sendMessage") if APOLOGY in (c.text or "")]


async def add_customers(app: RunningBot, first_telegram_id: int, count: int) -> list[int]:
    now = app.clock()
    async with app.db.transaction() as repos:
        ids = []
        for n in range(count):
            customer = await repos.customers.add(
                telegram_id=first_telegram_id + n,
                name=f"Client{n}",
                phone=f"7916{first_telegram_id + n:07d}",
                consent=True,
                registered_at=now,
                created_at=now,
            )
            ids.append(customer.id)
        return ids


# --------------------------------------------------------------------------- wiring


async def test_the_bot_and_the_outbox_share_one_limiter(app: RunningBot) -> None:
    [paced] = [m for m in app.bot.session.middleware if isinstance(m, PacedRequests)]
    assert paced.limiter is app.dp["delivery"].limiter is app.dp["limiter"]
    # Installing again re-points the one middleware rather than stacking a second.
    other = RateLimiter()
    assert pace_requests(app.bot, other) is paced
    assert paced.limiter is other
    assert len([m for m in app.bot.session.middleware if isinstance(m, PacedRequests)]) == 1
    pace_requests(app.bot, app.dp["limiter"])


async def test_an_outbox_send_takes_one_grant_not_two(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> None:
    limiter = RateLimiter(10_000, 10_000, margin=0)
    bot = fake.make_bot()
    pace_requests(bot, limiter)
    settings = make_settings(fake, sqlite_db)
    worker = DeliveryWorker(
        sqlite_db, bot, settings, create_i18n("ru"), clock=clock, limiter=limiter
    )
    async with sqlite_db.transaction() as repos:
        for n in range(3):
            message = Outgoing(f"one:{n}", 700 + n, None, clock(), Text(f"hi {n}"))
            await enqueue(repos, message, clock())
    try:
        assert (await worker.run_once(clock())).sent == 3
        assert limiter._grants == 3
        await bot.send_message(800, "a reply")  # a reply through the middleware: one grant
        assert limiter._grants == 4
    finally:
        await bot.session.close()


# --------------------------------------------------------------------------- priorities


async def test_a_waiting_reply_is_granted_before_waiting_bulk_sends() -> None:
    mono = Monotonic()
    limiter = RateLimiter(2, 1000, margin=0, clock=mono, sleep=mono.sleep)
    await limiter.acquire(1)
    await limiter.acquire(2)  # the window is full for the next second
    order: list[str] = []

    async def send(name: str, chat: int, *, bulk: bool) -> None:
        await limiter.acquire(chat, bulk=bulk)
        order.append(name)

    bulk = [asyncio.create_task(send(f"bulk{n}", 10 + n, bulk=True)) for n in range(3)]
    reply = asyncio.create_task(send("reply", 99, bulk=False))  # queued after the bulk ones …
    await asyncio.gather(*bulk, reply)
    assert order[0] == "reply"  # … yet the reply goes first
    assert sorted(order[1:]) == ["bulk0", "bulk1", "bulk2"]


async def test_groups_and_channels_get_twenty_a_minute() -> None:
    mono = Monotonic()
    limiter = RateLimiter(1000, 1000, margin=0, clock=mono, sleep=mono.sleep)
    start = mono.now
    for _ in range(20):
        await limiter.acquire(-1001)
    assert mono.now - start < 1
    await limiter.acquire(-1001)
    assert mono.now - start >= 60
    await limiter.acquire(5)  # a private chat is not held by the channel's budget
    await limiter.acquire("@shop")
    assert limiter.chat_delay(5) == pytest.approx(0.001)


# --------------------------------------------------------------------------- bursts


async def test_200_people_press_start_at_once_and_every_one_is_answered(app: RunningBot) -> None:
    fake = app.fake
    fake.rate_limits()
    use_limiter(app, RateLimiter())  # production pacing against Telegram's limits
    people = range(50_000, 50_200)
    for user_id in people:
        fake.user_message(user_id, "/start", first_name=f"P{user_id}", language_code="en")

    def everyone_answered() -> bool:
        return all(fake.sent_messages(user_id) for user_id in people)

    await eventually(everyone_answered, 60, "an answer to each of 200 people")
    assert apologies(fake) == []
    lost = [c for c in fake.calls_of("sendMessage") if not c.ok and c.status != 429]
    assert lost == []
    # A 429 may happen (the fake's buckets and our window drift), but no reply is missing.
    for user_id in people:
        assert texts(fake, user_id), user_id


async def test_owner_logs_50_one_line_sales_at_10_a_second_and_gets_50_receipts(
    app: RunningBot,
) -> None:
    ids = await add_customers(app, 60_000, 50)
    fake = app.fake
    owner = app.owner
    # Telegram lets a private chat have short bursts; 1/s would make this test take a minute.
    # Both sides get the same 5/s, so a reply that bypassed the limiter would still hit 429.
    fake.rate_limits(per_chat_per_second=5)
    use_limiter(app, RateLimiter(30, 5))
    before = len(fake.sent_messages(OWNER_ID))
    for n, customer_id in enumerate(ids):
        fake.user_message(OWNER_ID, f"/sale #{customer_id} {500 + n}", first_name="Owner")
        await asyncio.sleep(0.1)

    async def fifty_sales() -> bool:
        async with app.db.reading() as repos:
            return len(await repos.purchases.all_rows()) == 50

    await eventually(fifty_sales, 30, "50 sales written")
    await eventually(
        lambda: len(fake.sent_messages(OWNER_ID)) - before >= 50, 30, "50 receipts arrived"
    )
    receipts = texts(fake, OWNER_ID)[before:]
    assert len(receipts) == 50
    assert all("purchase" in text for text in receipts)
    assert apologies(fake) == []
    assert owner.id == OWNER_ID


async def test_promo_preview_under_limits_shows_the_send_button(app: RunningBot) -> None:
    await add_customers(app, 61_000, 3)
    app.fake.rate_limits()
    use_limiter(app, RateLimiter())
    owner = app.owner
    await owner.send("/promo")
    await owner.send("-20% on everything this weekend!")
    await owner.click("Everyone who agreed to offers")
    await eventually(
        lambda: any(b.get("text") == "Send to 3" for b in owner.inline_buttons()),
        10,
        "the Send button",
    )
    assert apologies(app.fake) == []


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_sent(app: RunningBot) -> None:
    fake = app.fake
    fake.fail_next("sendMessage", chat_id=62_000, error_code=429, retry_after=1)
    anna = app.user(62_000, first_name="Anna")
    await anna.send("/start")
    await eventually(lambda: texts(fake, 62_000), 10, "the reply after the 429")
    refused, accepted = fake.calls_of("sendMessage")[:2]
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1  # retry_after was honoured
    assert apologies(fake) == []
