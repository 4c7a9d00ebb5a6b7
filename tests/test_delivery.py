"""The delivery worker against the fake Bot API server, and the rate limiter on its own."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import text

from scheduler.delivery import DeliveryWorker
from services import outbox_payloads
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Payload, Photo, Text
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import Customer, OutboxMessage
from storage.outbox import OutboxStatus
from tests.conftest import FakeClock, Monotonic, RunningBot, eventually, make_settings
from tests.fakes.telegram import BOT_TOKEN, Call, FakeTelegram, LocalAiohttpSession
from ui import render as render_module
from ui.i18n import create_i18n
from ui.messages.base import RenderContext, Rendered

# --------------------------------------------------------------------------- helpers


def fast_limiter() -> RateLimiter:
    return RateLimiter(10_000, 10_000, margin=0)


def make_worker(
    fake: FakeTelegram,
    db: Database,
    clock: FakeClock,
    bot: Bot | None = None,
    **options: Any,
) -> DeliveryWorker:
    settings = make_settings(fake, db)
    options.setdefault("limiter", fast_limiter())
    return DeliveryWorker(
        db, bot or fake.make_bot(), settings, create_i18n("ru"), clock=clock, **options
    )


async def add_customer(
    db: Database, clock: FakeClock, telegram_id: int, language: str | None = None
) -> int:
    async with db.transaction() as repos:
        customer = await repos.customers.add(
            telegram_id=telegram_id, name=f"C{telegram_id}", language=language, created_at=clock()
        )
        return customer.id


async def queue(
    db: Database,
    clock: FakeClock,
    key: str,
    chat_id: int,
    *,
    customer_id: int | None = None,
    payload: Payload | None = None,
    delay: timedelta = timedelta(0),
) -> int | None:
    async with db.transaction() as repos:
        return await enqueue(
            repos,
            Outgoing(
                key,
                chat_id,
                customer_id,
                clock() + delay,
                payload if payload is not None else Text(f"hello {key}"),
            ),
            clock(),
        )


async def row(db: Database, outbox_id: int) -> OutboxMessage:
    async with db.reading() as repos:
        found = await repos.outbox.get(outbox_id)
    assert found is not None
    return found


async def customer(db: Database, customer_id: int) -> Customer:
    async with db.reading() as repos:
        found = await repos.customers.get(customer_id)
    assert found is not None
    return found


def sends(fake: FakeTelegram, chat_id: int | None = None) -> list[Call]:
    return [
        c
        for c in fake.calls_of("sendMessage", "sendPhoto")
        if chat_id is None or c.chat_id == chat_id
    ]


def delivered(fake: FakeTelegram, chat_id: int | None = None) -> list[Call]:
    return [c for c in sends(fake, chat_id) if c.ok]


@dataclass(frozen=True, slots=True)
class Language(Payload):
    """A kind whose text is the language it was rendered in (registered by `echo_language`)."""

    kind: ClassVar[str] = "test-language"


@dataclass(frozen=True, slots=True)
class Unregistered(Payload):
    """A kind no renderer knows (a row left by a newer or older version)."""

    kind: ClassVar[str] = "no-such-kind"


@pytest.fixture
def echo_language() -> Iterator[None]:
    def language(payload: Language, context: RenderContext) -> Rendered:
        return Rendered(text=f"lang={context.language} cur={context.currency}")

    outbox_payloads.KINDS[Language.kind] = Language
    render_module.RENDERERS[Language] = language
    yield
    del render_module.RENDERERS[Language]
    del outbox_payloads.KINDS[Language.kind]


# --------------------------------------------------------------------------- the happy path


async def test_due_rows_are_sent_once_in_the_readers_language(
    fake: FakeTelegram, db: Database, clock: FakeClock, echo_language: None
) -> None:
    anna = await add_customer(db, clock, 501, language="en-US")
    boris = await add_customer(db, clock, 502, language="ru")
    first = await queue(db, clock, "a", 501, customer_id=anna, payload=Language())
    await queue(db, clock, "b", 502, customer_id=boris, payload=Language())
    await queue(db, clock, "c", 503, payload=Language())  # nobody we know: the default
    worker = make_worker(fake, db, clock)
    try:
        report = await worker.run_once(clock())
        again = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)

    assert (report.claimed, report.sent) == (3, 3)
    assert again.claimed == 0
    texts = {c.chat_id: c.text for c in delivered(fake)}
    assert texts == {
        501: "lang=en cur=RUB",
        502: "lang=ru cur=RUB",
        503: "lang=ru cur=RUB",
    }
    assert first is not None
    sent = await row(db, first)
    assert sent.status == OutboxStatus.SENT
    assert sent.sent_at == clock()
    assert sent.telegram_message_id == delivered(fake, 501)[0].result["message_id"]


async def worker_bot_close(worker: DeliveryWorker) -> None:
    bot = worker._bot
    if bot is not None:
        await bot.session.close()


async def test_the_same_dedup_key_queues_once(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    assert await queue(db, clock, "birthday:7:2026", 700) is not None
    assert await queue(db, clock, "birthday:7:2026", 700) is None
    worker = make_worker(fake, db, clock)
    try:
        await worker.run_once(clock())
        await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert len(delivered(fake, 700)) == 1


async def test_not_before_is_respected(fake: FakeTelegram, db: Database, clock: FakeClock) -> None:
    later = await queue(db, clock, "later", 800, delay=timedelta(hours=2))
    assert later is not None
    worker = make_worker(fake, db, clock)
    try:
        assert (await worker.run_once(clock())).claimed == 0
        clock.advance(hours=1, minutes=59)
        assert (await worker.run_once(clock())).claimed == 0
        assert sends(fake) == []
        clock.advance(minutes=1)
        assert (await worker.run_once(clock())).sent == 1
    finally:
        await worker_bot_close(worker)
    assert (await row(db, later)).status == OutboxStatus.SENT


async def test_a_photo_kind_goes_out_with_send_photo(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    await queue(db, clock, "promo", 900, payload=Photo("AgAD1", "-15%"))
    worker = make_worker(fake, db, clock)
    try:
        await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    (call,) = fake.calls_of("sendPhoto")
    assert call.ok
    assert call.params["caption"] == "-15%"


# --------------------------------------------------------------------------- Telegram says no


async def test_429_pauses_everything_and_the_row_is_delivered_once_after_retry_after(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    mono = Monotonic()
    limiter = RateLimiter(10_000, 10_000, margin=0, clock=mono, sleep=mono.sleep)
    outbox_id = await queue(db, clock, "x", 1001)
    assert outbox_id is not None
    fake.fail_next("sendMessage", error_code=429, retry_after=7)
    worker = make_worker(fake, db, clock, limiter=limiter)
    try:
        report = await worker.run_once(clock())
        assert report.retried == 1
        waiting = await row(db, outbox_id)
        assert waiting.status == OutboxStatus.PENDING
        assert waiting.not_before == clock() + timedelta(seconds=7)
        assert waiting.attempts == 0  # a 429 is Telegram's pacing, not the message's fault
        assert limiter.global_delay() == pytest.approx(7)  # every chat waits, not only this one

        clock.advance(seconds=6)
        assert (await worker.run_once(clock())).claimed == 0
        clock.advance(seconds=1)
        await queue(db, clock, "y", 1002)
        report = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert report.sent == 2
    # The limiter slept out the pause before letting anything out.
    assert mono.now >= 1007
    assert [c.status for c in sends(fake, 1001)] == [429, 200]
    assert (await row(db, outbox_id)).status == OutboxStatus.SENT


async def test_403_marks_the_customer_unreachable_and_is_never_retried(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    vera = await add_customer(db, clock, 1100)
    first = await queue(db, clock, "first", 1100, customer_id=vera)
    assert first is not None
    fake.block(1100)
    worker = make_worker(fake, db, clock)
    try:
        report = await worker.run_once(clock())
        assert report.blocked == 1
        assert (await row(db, first)).status == OutboxStatus.BLOCKED
        assert "blocked" in ((await row(db, first)).last_error or "")
        assert (await customer(db, vera)).blocked_at == clock()

        # Later messages to her are settled without a call to Telegram.
        clock.advance(days=1)
        second = await queue(db, clock, "second", 1100, customer_id=vera)
        assert second is not None
        report = await worker.run_once(clock())
        assert (report.claimed, report.blocked, report.sent) == (1, 1, 0)
        assert (await row(db, second)).status == OutboxStatus.BLOCKED
        clock.advance(days=30)
        assert (await worker.run_once(clock())).claimed == 0
    finally:
        await worker_bot_close(worker)
    assert len(sends(fake, 1100)) == 1


async def test_400_fails_the_row_with_the_error(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "bad", 1200)
    assert outbox_id is not None
    fake.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")
    worker = make_worker(fake, db, clock)
    try:
        assert (await worker.run_once(clock())).failed == 1
        clock.advance(days=1)
        assert (await worker.run_once(clock())).claimed == 0
    finally:
        await worker_bot_close(worker)
    failed = await row(db, outbox_id)
    assert failed.status == OutboxStatus.FAILED
    assert "chat not found" in (failed.last_error or "")


async def test_an_unknown_kind_fails_without_a_send(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "odd", 1250, payload=Unregistered())
    assert outbox_id is not None
    worker = make_worker(fake, db, clock)
    try:
        assert (await worker.run_once(clock())).failed == 1
    finally:
        await worker_bot_close(worker)
    assert sends(fake) == []
    assert "UnknownKind" in ((await row(db, outbox_id)).last_error or "")


async def test_5xx_is_retried_with_growing_backoff_then_delivered(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "flaky", 1300)
    assert outbox_id is not None
    fake.fail_next("sendMessage", error_code=502, times=2)
    worker = make_worker(fake, db, clock, backoff=timedelta(seconds=10))
    try:
        assert (await worker.run_once(clock())).retried == 1
        assert (await row(db, outbox_id)).not_before == clock() + timedelta(seconds=10)
        clock.advance(seconds=10)
        assert (await worker.run_once(clock())).retried == 1
        assert (await row(db, outbox_id)).not_before == clock() + timedelta(seconds=20)
        clock.advance(seconds=19)
        assert (await worker.run_once(clock())).claimed == 0
        clock.advance(seconds=1)
        assert (await worker.run_once(clock())).sent == 1
    finally:
        await worker_bot_close(worker)
    done = await row(db, outbox_id)
    assert (done.status, done.attempts) == (OutboxStatus.SENT, 3)
    assert len(delivered(fake, 1300)) == 1


async def test_5xx_gives_up_only_when_the_row_is_older_than_give_up_after(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "doomed", 1400)
    assert outbox_id is not None
    fake.fail_next("sendMessage", error_code=500, times=100)
    worker = make_worker(fake, db, clock, give_up_after=timedelta(hours=3))
    try:
        for _ in range(3):
            assert (await worker.run_once(clock())).retried == 1
            clock.advance(hours=1)
        # Three hours after its first attempt: that was the last try.
        assert (await worker.run_once(clock())).failed == 1
        clock.advance(hours=1)
        assert (await worker.run_once(clock())).claimed == 0
    finally:
        await worker_bot_close(worker)
    failed = await row(db, outbox_id)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 4)
    assert "Internal Server Error" in (failed.last_error or "")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_network_errors_are_retried_with_backoff(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "offline", 1500)
    assert outbox_id is not None
    nowhere = TelegramAPIServer.from_base(f"http://127.0.0.1:{_closed_port()}")
    offline = Bot(BOT_TOKEN, session=LocalAiohttpSession(api=nowhere))
    worker = make_worker(fake, db, clock, bot=offline, backoff=timedelta(seconds=30))
    try:
        assert (await worker.run_once(clock())).retried == 1
    finally:
        await offline.session.close()
    waiting = await row(db, outbox_id)
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.not_before == clock() + timedelta(seconds=30)
    assert "NetworkError" in (waiting.last_error or "")

    online = fake.make_bot()
    worker.attach(online)
    try:
        clock.advance(seconds=30)
        assert (await worker.run_once(clock())).sent == 1
    finally:
        await online.session.close()
    assert len(delivered(fake, 1500)) == 1


# --------------------------------------------------------------------------- concurrency


async def test_no_more_rows_in_flight_than_the_concurrency(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    in_flight = 0
    peak = 0
    send_message = fake._handlers["sendmessage"]

    async def slow_send(call: Call) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return send_message(call)

    fake.register("sendMessage", slow_send)
    async with db.transaction() as repos:
        for n in range(40):
            await enqueue(repos, Outgoing(f"k{n}", 2000 + n, None, clock(), Text("hi")), clock())
    worker = make_worker(fake, db, clock, concurrency=4)
    try:
        report = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert report.sent == 40
    assert peak == 4


async def second_engine(db: Database) -> Database:
    """Another engine on the same database (and, on PostgreSQL, the same test schema)."""
    if db.is_sqlite:
        return Database(db.url)
    async with db.reading() as repos:
        path = str(await repos.session.scalar(text("SHOW search_path")))
    return Database(db.url, connect_args={"server_settings": {"search_path": path}})


async def test_two_workers_never_send_the_same_row(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """On PostgreSQL claims use SKIP LOCKED; on SQLite BEGIN IMMEDIATE serialises them."""
    async with db.transaction() as repos:
        for n in range(300):
            message = Outgoing(f"bulk:{n}", 10_000 + n, None, clock(), Text("promo"))
            await enqueue(repos, message, clock())
    other_db = await second_engine(db)  # a second process would have its own engine
    first = make_worker(fake, db, clock, concurrency=6, batch=10)
    second = make_worker(fake, other_db, clock, concurrency=6, batch=10)
    try:
        reports = await asyncio.gather(first.run_once(clock()), second.run_once(clock()))
    finally:
        await worker_bot_close(first)
        await worker_bot_close(second)
        await other_db.dispose()
    per_chat = Counter(c.chat_id for c in delivered(fake))
    assert len(per_chat) == 300
    assert set(per_chat.values()) == {1}
    assert reports[0].sent + reports[1].sent == 300
    assert reports[0].sent > 0
    assert reports[1].sent > 0
    async with db.reading() as repos:
        assert await repos.outbox.count_by_status() == {OutboxStatus.SENT: 300}


# --------------------------------------------------------------------------- crash recovery


async def test_recover_marks_rows_left_sending_as_uncertain_and_logs_them(
    fake: FakeTelegram, db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [await queue(db, clock, f"r{n}", 3000 + n) for n in range(3)]
    async with db.transaction() as repos:
        await repos.outbox.claim_due(clock(), 2)  # then the process died
    worker = make_worker(fake, db, clock)
    try:
        with caplog.at_level(logging.WARNING, logger="scheduler.delivery"):
            assert await worker.recover(clock()) == 2
        assert f"ids {ids[0]},{ids[1]}" in caplog.text
        report = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert report.sent == 1  # only the row that was never claimed
    async with db.reading() as repos:
        statuses = await repos.outbox.count_by_status()
    assert statuses == {OutboxStatus.UNCERTAIN: 2, OutboxStatus.SENT: 1}


# --------------------------------------------------------------------------- through the bot


async def outbox_status(app: RunningBot, outbox_id: int) -> str:
    return (await row(app.db, outbox_id)).status


async def test_the_running_bot_delivers_what_is_queued_and_honours_retry_after(
    app: RunningBot,
) -> None:
    worker: DeliveryWorker = app.dp["delivery"]
    app.fake.fail_next("sendMessage", chat_id=4000, error_code=429, retry_after=1)
    outbox_id = await queue(app.db, app.clock, "live", 4000)
    assert outbox_id is not None
    worker.notify()
    await eventually(lambda: app.fake.too_many_requests == 1)
    await eventually(lambda: _has_status(app, outbox_id, OutboxStatus.PENDING))
    app.clock.advance(seconds=1)
    await eventually(lambda: _has_status(app, outbox_id, OutboxStatus.SENT))
    refused, accepted = sends(app.fake, 4000)
    assert refused.status == 429
    assert accepted.ok
    assert accepted.at - refused.at >= 1  # the whole limiter waited retry_after


async def _has_status(app: RunningBot, outbox_id: int, status: str) -> bool:
    return await outbox_status(app, outbox_id) == status


async def test_a_user_who_blocks_the_bot_gets_nothing_until_they_unblock_it(
    app: RunningBot,
) -> None:
    worker: DeliveryWorker = app.dp["delivery"]
    gala = app.user(4100, first_name="Gala")
    gala_id = await add_customer(app.db, app.clock, 4100)

    async def blocked_at() -> object:
        return (await customer(app.db, gala_id)).blocked_at

    gala.block_bot()
    await eventually(blocked_at)
    muted = await queue(app.db, app.clock, "muted", 4100, customer_id=gala_id)
    assert muted is not None
    worker.notify()
    await eventually(lambda: _has_status(app, muted, OutboxStatus.BLOCKED))
    assert sends(app.fake, 4100) == []  # settled without asking Telegram

    gala.unblock_bot()
    await eventually(lambda: _is_none(blocked_at))
    heard = await queue(app.db, app.clock, "heard", 4100, customer_id=gala_id)
    assert heard is not None
    worker.notify()
    await eventually(lambda: _has_status(app, heard, OutboxStatus.SENT))
    assert [c.text for c in delivered(app.fake, 4100)] == ["hello heard"]


async def _is_none(read: Callable[[], Any]) -> bool:
    return await read() is None


async def test_the_bot_stops_its_worker_cleanly(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> None:
    from bot.app import create_bot, create_dispatcher

    settings = make_settings(fake, sqlite_db)
    dp = create_dispatcher(settings, sqlite_db, clock=clock)
    async with fake.polling(dp, create_bot(settings)):
        worker: DeliveryWorker = dp["delivery"]
        assert worker._task is not None
        task = worker._task
    assert task.done()
    assert worker._task is None


# --------------------------------------------------------------------------- the limiter


async def test_limiter_never_lets_more_than_burst_through_in_a_window() -> None:
    mono = Monotonic()
    limiter = RateLimiter(30, 1000, margin=0.04, clock=mono, sleep=mono.sleep)
    granted: list[float] = []
    for n in range(300):
        await limiter.acquire(n)
        granted.append(mono())
    # Any 31 consecutive grants span at least the (stretched) window …
    assert min(b - a for a, b in zip(granted, granted[30:], strict=False)) >= 1.04 - 1e-9
    # … and the limiter is not needlessly slow: 300 grants take ten windows, no more.
    rate = len(granted) / (granted[-1] - granted[0] + limiter.window)
    assert rate == pytest.approx(30 / 1.04)


async def test_limiter_spaces_one_chat_and_lets_others_through() -> None:
    mono = Monotonic()
    limiter = RateLimiter(30, 1, margin=0.04, clock=mono, sleep=mono.sleep)
    await limiter.acquire(1)
    start = mono()
    await limiter.acquire(2)
    assert mono() == start  # another chat is not held up
    await limiter.acquire(1)
    assert mono() - start == pytest.approx(1.04)


async def test_limiter_pause_holds_every_chat() -> None:
    mono = Monotonic()
    limiter = RateLimiter(30, 1, clock=mono, sleep=mono.sleep)
    limiter.pause(5)
    start = mono()
    await limiter.acquire(77)
    assert mono() - start == pytest.approx(5)


async def test_limiter_is_safe_under_concurrent_waiters() -> None:
    mono = Monotonic()
    limiter = RateLimiter(10, 1, margin=0, clock=mono, sleep=mono.sleep)
    granted: list[tuple[float, int]] = []

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        granted.append((mono(), chat))

    await asyncio.gather(*(one(n % 7) for n in range(70)))
    times = sorted(t for t, _ in granted)
    assert min(b - a for a, b in zip(times, times[10:], strict=False)) >= 1 - 1e-9
    for chat in range(7):
        mine = sorted(t for t, c in granted if c == chat)
        assert min(b - a for a, b in itertools.pairwise(mine)) >= 1 - 1e-9


def test_limiter_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


async def test_limiter_sub_one_rates_mean_one_message_per_longer_window() -> None:
    mono = Monotonic()
    limiter = RateLimiter(0.5, 1000, margin=0, clock=mono, sleep=mono.sleep)
    await limiter.acquire(1)
    start = mono()
    await limiter.acquire(2)
    assert mono() - start == pytest.approx(2)
