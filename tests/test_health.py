"""/healthz, /readyz and /metrics (bot/health.py, bot/metrics.py) on the running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_bot, create_dispatcher
from bot.health import Readiness, create_health_app
from bot.metrics import BotMetrics
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.outbox import OutboxStatus
from tests.conftest import FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def health(app: RunningBot) -> AsyncIterator[TestClient[Any, Any]]:
    client = TestClient(TestServer(create_health_app(app.dp), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def scrape(client: TestClient[Any, Any]) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def add_outbox_row(db: Database, key: str, *, status: str, due: Any) -> None:
    async with db.transaction() as repos:
        await repos.outbox.insert_once(
            dedup_key=key,
            kind="owner_notice",
            chat_id=1000,
            payload="{}",
            status=status,
            not_before=due,
            created_at=due,
        )


async def test_healthz_and_readyz_answer_on_a_running_bot(
    app: RunningBot, health: TestClient[Any, Any]
) -> None:
    response = await health.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    response = await health.get("/readyz")
    assert response.status == 200, await response.text()
    assert await response.json() == {"status": "ok"}


async def test_readyz_is_503_when_the_delivery_worker_stopped(
    app: RunningBot, health: TestClient[Any, Any]
) -> None:
    await app.dp["delivery"].stop()
    response = await health.get("/readyz")
    assert response.status == 503
    assert await response.json() == {
        "status": "unavailable",
        "reason": "delivery worker is not running",
    }
    app.dp["delivery"].start()  # the fixture's shutdown stops it again


async def test_readyz_is_503_when_a_due_row_waits_too_long(
    sqlite_db: Database, clock: FakeClock
) -> None:
    worker = SimpleNamespace(running=True)  # alive, but (say) stuck: rows are not sent
    readiness = Readiness(sqlite_db, worker, clock, timedelta(minutes=15))  # type: ignore[arg-type]
    assert await readiness.problem() is None
    await add_outbox_row(sqlite_db, "later", status="pending", due=clock.now + timedelta(hours=1))
    await add_outbox_row(sqlite_db, "due", status="pending", due=clock.now)
    await add_outbox_row(sqlite_db, "old", status="sent", due=clock.now - timedelta(days=1))
    clock.advance(minutes=15)
    assert await readiness.problem() is None  # due 15 min ago: still within the limit
    clock.advance(minutes=1)
    assert await readiness.problem() == "outbox is behind: a message due 16 min ago is not sent"


async def test_readyz_is_503_when_the_database_does_not_answer(clock: FakeClock) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    try:
        worker = SimpleNamespace(running=True)
        readiness = Readiness(db, worker, clock, timedelta(minutes=15))  # type: ignore[arg-type]
        problem = await readiness.problem()
    finally:
        await db.dispose()
    assert problem is not None
    assert problem.startswith("database does not answer")


async def test_metrics_count_updates_sends_and_the_outbox(
    app: RunningBot, health: TestClient[Any, Any]
) -> None:
    before = await scrape(health)
    anna = app.user(42, first_name="Anna")
    await anna.send("/start")
    await add_outbox_row(app.db, "later", status="pending", due=app.clock.now + timedelta(days=1))
    samples = await scrape(health)

    assert samples[("bot_updates_total", (("type", "message"),))] == 1
    assert samples[("bot_update_seconds_count", (("type", "message"),))] == 1
    assert samples[("bot_update_seconds_sum", (("type", "message"),))] > 0
    # The reply to /start; the start-up's setMyCommands is no message.
    sent_before = before[("bot_messages_sent_total", ())]
    assert samples[("bot_messages_sent_total", ())] == sent_before + 1
    assert samples[("bot_telegram_429_total", ())] == 0
    assert samples[("bot_outbox_uncertain_found_total", ())] == 0
    assert samples[("bot_outbox_rows", (("status", "pending"),))] == 1
    for status in OutboxStatus:
        assert ("bot_outbox_rows", (("status", status.value),)) in samples


async def test_metrics_count_429s(app: RunningBot, health: TestClient[Any, Any]) -> None:
    app.fake.fail_next("sendMessage", chat_id=42, retry_after=1)
    anna = app.user(42, first_name="Anna")
    await anna.send("/start")  # answered after the pause
    samples = await scrape(health)
    assert samples[("bot_telegram_429_total", ())] == 1
    assert samples[("bot_messages_sent_total", ())] == 1


async def test_metrics_count_rows_found_uncertain_at_start_up(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> None:
    # A crash left a row half-sent; the next start marks it uncertain and counts it.
    await add_outbox_row(sqlite_db, "half-sent", status="sending", due=clock.now)
    settings = make_settings(fake, sqlite_db)
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])):
        metrics: BotMetrics = dp["metrics"]
        samples = {
            (s.name, tuple(s.labels.items())): s.value
            for f in text_string_to_metric_families((await metrics.render(sqlite_db)).decode())
            for s in f.samples
        }
    assert samples[("bot_outbox_uncertain_found_total", ())] == 1
    assert samples[("bot_outbox_rows", (("status", "uncertain"),))] == 1


def test_each_dispatcher_has_its_own_registry() -> None:
    first, second = BotMetrics(), BotMetrics()  # the global registry would refuse the second
    first.updates.labels("message").inc()
    assert second.updates.labels("message")._value.get() == 0
