"""An outage delays, never loses: replies and outbox rows survive 5xx, HTML or empty bodies,
and dropped connections; only a definite refusal fails a row."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from scheduler.delivery import DEFAULT_MAX_BACKOFF, DeliveryWorker
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Text
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxStatus
from tests.conftest import FakeClock, RunningBot, eventually, make_settings, use_limiter
from tests.fakes.telegram import Call, FakeTelegram
from ui.i18n import create_i18n

BAD_GATEWAY = "<html>Bad Gateway</html>"
SERVER_ERROR = '{"ok":false,"error_code":500,"description":"Internal Server Error"}'


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.reading() as repos:
        return list((await repos.session.scalars(select(OutboxMessage))).all())


def make_worker(fake: FakeTelegram, db: Database, clock: FakeClock) -> DeliveryWorker:
    fast = RateLimiter(10_000, 10_000, margin=0)
    settings = make_settings(fake, db)
    return DeliveryWorker(
        db, fake.make_bot(), settings, create_i18n("ru"), clock=clock, limiter=fast
    )


async def queue(db: Database, clock: FakeClock, key: str, chat_id: int) -> int:
    async with db.transaction() as repos:
        message = Outgoing(key, chat_id, None, clock(), Text(f"hello {key}"))
        outbox_id = await enqueue(repos, message, clock())
    assert outbox_id is not None
    return outbox_id


async def close(worker: DeliveryWorker) -> None:
    if worker._bot is not None:
        await worker._bot.session.close()


# --------------------------------------------------------------------------- the outbox


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (502, BAD_GATEWAY, "text/html"),  # aiogram: ClientDecodeError, not a TelegramAPIError
        (502, "", "text/html"),  # an empty body
        (500, SERVER_ERROR, "application/json"),  # TelegramServerError
    ],
)
async def test_an_outage_longer_than_five_attempts_delays_the_row_and_never_fails_it(
    fake: FakeTelegram,
    db: Database,
    clock: FakeClock,
    status: int,
    body: str,
    content_type: str,
) -> None:
    outbox_id = await queue(db, clock, "outage", 3000)
    worker = make_worker(fake, db, clock)
    fake.outage(status, body, content_type=content_type)
    try:
        for _ in range(12):  # an hour of outage; the old worker gave up after five attempts
            report = await worker.run_once(clock())
            assert report.retried == 1, report
            [row] = await rows(db)
            assert row.status == OutboxStatus.PENDING  # never left in `sending`
            assert row.not_before - clock() <= DEFAULT_MAX_BACKOFF  # the backoff is capped
            clock.advance(minutes=5)
        fake.outage_off()
        assert (await worker.run_once(clock())).sent == 1
    finally:
        await close(worker)
    [row] = await rows(db)
    assert (row.id, row.status, row.attempts) == (outbox_id, OutboxStatus.SENT, 13)
    assert len([c for c in fake.calls_of("sendMessage") if c.ok]) == 1


async def test_a_dropped_connection_puts_the_row_back_not_in_sending(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    await queue(db, clock, "dropped", 3100)
    worker = make_worker(fake, db, clock)
    fake.drop_connections(1, "sendMessage")
    try:
        assert (await worker.run_once(clock())).retried == 1
        [row] = await rows(db)
        assert row.status == OutboxStatus.PENDING
        assert "NetworkError" in (row.last_error or "")
        clock.advance(minutes=1)
        assert (await worker.run_once(clock())).sent == 1
    finally:
        await close(worker)


async def test_a_definite_refusal_still_fails_at_once(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with db.transaction() as repos:
        message = Outgoing("long", 3200, None, clock(), Text("x" * 5000))
        await enqueue(repos, message, clock())
    worker = make_worker(fake, db, clock)
    try:
        assert (await worker.run_once(clock())).failed == 1
    finally:
        await close(worker)
    [row] = await rows(db)
    assert row.status == OutboxStatus.FAILED
    assert "message is too long" in (row.last_error or "")


async def test_a_502_outage_during_a_50_customer_promo_delays_it_and_delivers_each_once(
    app: RunningBot,
) -> None:
    now = app.clock()
    async with app.db.transaction() as repos:
        for n in range(50):
            await repos.customers.add(
                telegram_id=70_000 + n,
                name=f"C{n}",
                consent=True,
                registered_at=now,
                created_at=now,
            )
    fake = app.fake
    fake.rate_limits()
    use_limiter(app, RateLimiter())  # production pacing: a 429 would wait on the frozen clock
    owner = app.owner
    await owner.send("/promo")
    await owner.send("Autumn sale this weekend!")
    await owner.click("Everyone who agreed to offers")
    await eventually(
        lambda: any(b.get("text") == "Send to 50" for b in owner.inline_buttons()),
        10,
        "the Send button (the preview is paced at 1 message a second)",
    )
    # Telegram goes down for messages (edits of the progress message still work).
    fake.outage(502, BAD_GATEWAY, methods=("sendMessage",))
    await owner.click("Send to 50")

    async def all_tried_and_waiting() -> bool:
        promo = [r for r in await rows(app.db) if r.kind == "promo"]
        return len(promo) == 50 and all(
            r.status == OutboxStatus.PENDING and r.attempts >= 1 for r in promo
        )

    await eventually(all_tried_and_waiting, 20, "every promo row tried and put back")
    fake.outage_off()
    app.clock.advance(minutes=10)  # past the backoff
    app.dp["delivery"].notify()

    async def all_sent() -> bool:
        promo = [r for r in await rows(app.db) if r.kind == "promo"]
        return all(r.status == OutboxStatus.SENT for r in promo)

    await eventually(all_sent, 20, "every promo row sent after the outage")
    delivered = [
        c.chat_id
        for c in fake.calls_of("sendMessage")
        if c.ok and c.chat_id != owner.id and "Autumn" in (c.text or "")
    ]
    assert sorted(delivered) == [70_000 + n for n in range(50)]  # each exactly once
    statuses = {r.status for r in await rows(app.db) if r.kind == "promo"}
    assert statuses == {OutboxStatus.SENT}  # none uncertain, none failed


# --------------------------------------------------------------------------- replies


async def _switch_off_after_first_failure(fake: FakeTelegram, since: int) -> Call:
    call = await fake.wait_for(lambda c: c.method == "sendMessage" and c.status == 502, since=since)
    fake.outage_off()
    return call


async def test_a_reply_survives_a_502_html_answer_on_the_first_attempt(app: RunningBot) -> None:
    fake = app.fake
    mark = len(fake.calls)
    fake.outage(502, BAD_GATEWAY)
    watcher = asyncio.create_task(_switch_off_after_first_failure(fake, mark))
    anna = app.user(71_000, first_name="Anna")
    await anna.send("/start")
    await watcher
    await eventually(lambda: fake.sent_messages(71_000), 10, "the reply after the 502")
    statuses = [c.status for c in fake.calls_of("sendMessage") if c.chat_id == 71_000]
    assert statuses[:2] == [502, 200]
    assert "something went wrong" not in (anna.last_text or "")


async def test_a_reply_survives_a_dropped_connection(app: RunningBot) -> None:
    fake = app.fake
    fake.drop_connections(1, "sendMessage")
    anna = app.user(72_000, first_name="Anna")
    await anna.send("/start")
    await eventually(lambda: fake.sent_messages(72_000), 10, "the reply after the drop")
    calls = [c for c in fake.calls_of("sendMessage") if c.chat_id == 72_000]
    assert calls[0].dropped
    assert calls[1].ok
    assert len(fake.sent_messages(72_000)) == len([c for c in calls if c.ok])


async def test_a_reply_gives_up_after_a_bounded_time_and_nothing_hangs(
    fake: FakeTelegram,
) -> None:
    from aiogram.exceptions import ClientDecodeError

    from ui.telegram_requests import PacedRequests

    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    clock = iter(range(0, 1000, 3))
    bot = fake.make_bot()
    bot.session.middleware(
        PacedRequests(RateLimiter(10_000, 10_000), sleep=no_wait, clock=lambda: float(next(clock)))
    )
    fake.outage(502, BAD_GATEWAY)
    try:
        with pytest.raises(ClientDecodeError):
            await bot.send_message(73_000, "hi")
    finally:
        await bot.session.close()
    assert slept == [0.5, 1, 2, 4, 8]  # then 3 s "passed" per try: the 30 s budget is spent
    assert len(fake.calls_of("sendMessage")) == 6
