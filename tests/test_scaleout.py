"""Three bot processes in webhook mode on one PostgreSQL database and one Redis (issue #10).

The fake Bot API server enforces Telegram's flood limits (30 messages/s overall, 1/s per chat)
and the test plays Telegram's side of the webhook, posting updates to the three instances in
turn, as a load balancer in front of them would. A promo queued to every customer goes out
through all three; one instance is killed with SIGKILL half-way; the other two finish. Then
only the rows the dead one held in flight are `uncertain`, every other customer got the promo
exactly once, the combined rate stayed within Telegram's, no request got a 429, and a
registration whose steps landed on different instances completed (its state is in Redis).

Slow by nature: 600 messages at 30/s by default (≈ 25 s with start-up), SCALEOUT_MESSAGES=3000
for the issue's full run (≈ 2 min). Needs TEST_POSTGRES_URL and TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxStatus
from tests.conftest import _async_url
from tests.fakes.telegram import BOT_TOKEN, JSON, FakeTelegram
from tests.test_crash import stop, wait_for
from tests.test_shared_limiter import most_in_any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
MESSAGES = int(os.environ.get("SCALEOUT_MESSAGES", "600"))
INSTANCES = 3
FIRST_CHAT = 700_000
SECRET = "scale-out-secret"
WEBHOOK_URL = "https://bot.example.com/tg/updates"
LEASE = 3  # seconds: short, so the test need not wait a minute for the dead one's rows
CONCURRENCY = 8  # the delivery worker's default: the most rows one instance holds
CUSTOMER = 42_042  # who registers across the instances (their FSM keys are fsm:<id>:…)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="several instances need PostgreSQL and Redis: set TEST_POSTGRES_URL and "
        "TEST_REDIS_URL (e.g. postgresql://postgres@127.0.0.1:5432/test, "
        "redis://127.0.0.1:6379/7)",
    ),
]

# The production entry point (`python -m bot run --webhook`) with a short outbox lease.
BOOT = f"""
import functools, sys
from datetime import timedelta
import bot.app
bot.app.DeliveryWorker = functools.partial(
    bot.app.DeliveryWorker, lease=timedelta(seconds={LEASE}), renew_every={LEASE / 3}
)
from bot.cli import main
sys.exit(main(["run", "--webhook"]))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A database of its own: the bot processes cannot be given a test schema's search_path."""
    assert POSTGRES_URL is not None
    admin_url = _async_url(POSTGRES_URL)
    name = f"scaleout_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE {name}"))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


async def forget_bot_keys(url: str) -> None:
    """The test's conversation state and the bot's send budget, nothing else in that Redis."""
    redis = Redis.from_url(url)
    bot_id = BOT_TOKEN.split(":", 1)[0]
    for pattern in (f"fsm:{CUSTOMER}:*", f"tg-budget:{{{bot_id}}}*"):
        keys = [key async for key in redis.scan_iter(pattern)]
        if keys:
            await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """Redis for the FSM and the budget, without the test bot's keys from an earlier run."""
    assert REDIS_URL is not None
    await forget_bot_keys(REDIS_URL)
    try:
        yield REDIS_URL
    finally:
        await forget_bot_keys(REDIS_URL)


class Instance:
    def __init__(self, number: int, port: int, log: Path) -> None:
        self.number = number
        self.port = port
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg/updates"

    async def start(self, fake: FakeTelegram, database_url: str, redis_url: str) -> None:
        env = {
            **os.environ,
            "BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RATE_LIMIT_REDIS_URL": redis_url,
            "WEBHOOK_URL": WEBHOOK_URL,
            "WEBHOOK_SECRET": SECRET,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.port),
            "OWNER_IDS": "1",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("CHANNEL_ID", None)
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", BOOT, cwd=ROOT, env=env, stdout=out, stderr=out
            )

    async def ready(self, session: aiohttp.ClientSession) -> bool:
        """Listening: a GET on the webhook path answers (405: only POST is served)."""
        try:
            async with session.get(self.url) as response:
                return response.status == 405
        except aiohttp.ClientError:
            return False


class Balancer:
    """Telegram's side of the webhook: each update to the next live instance in turn."""

    def __init__(self, instances: list[Instance], session: aiohttp.ClientSession) -> None:
        self.instances = instances
        self.session = session
        self.turn = 0
        self.landed: list[int] = []

    async def post(self, update: JSON) -> None:
        live = [i for i in self.instances if i.process and i.process.returncode is None]
        instance = live[self.turn % len(live)]
        self.turn += 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with self.session.post(instance.url, json=update, headers=headers) as response:
            assert response.status == 200, await response.text()
        self.landed.append(instance.number)


async def prefill_promo(db: Database, messages: int = MESSAGES) -> None:
    """The promo, queued: one row per customer (what /promo's confirmation inserts)."""
    now = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {
            "dedup_key": f"scaleout-promo:{n}",
            "kind": "text",
            "chat_id": FIRST_CHAT + n,
            "payload": json.dumps({"text": f"Скидка 20% до воскресенья ({n})"}),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for n in range(messages)
    ]
    async with db.transaction() as repos:
        await repos.session.execute(insert(OutboxMessage), rows)


async def promo_rows(db: Database) -> dict[int, tuple[str, str | None, int]]:
    """id → (status, holder, chat) of the promo's rows."""
    async with db.reading() as repos:
        result = await repos.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.claimed_by,
                OutboxMessage.chat_id,
            ).where(OutboxMessage.dedup_key.like("scaleout-promo:%"))
        )
        return {i: (s, h, c) for i, s, h, c in result.all()}


def button_data(message: JSON, label: str) -> str:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == label:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {message.get('reply_markup')}")


async def register_across_instances(fake: FakeTelegram, balancer: Balancer, user: int) -> None:
    """/start, the phone, the birthday and the consent tap: four updates, four turns."""
    person: dict[str, Any] = {"first_name": "Anna", "language_code": "en"}
    await balancer.post(fake.user_message(user, "/start", **person))
    contact = {"phone_number": "79161230000", "first_name": "Anna", "user_id": user}
    await balancer.post(fake.user_message(user, contact=contact, **person))
    await balancer.post(fake.user_message(user, "05.03", **person))
    consent = fake.sent_messages(user)[-1]
    data = button_data(consent, "Yes, send me offers")
    await balancer.post(fake.callback(user, consent, data, **person))


async def test_three_webhook_instances_share_the_outbox_the_budget_and_the_scans(
    fake: FakeTelegram, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    await db.migrate()  # once, before the instances start (each would find it done)
    await prefill_promo(db)
    fake.rate_limits()  # Telegram's: 30/s overall, 1/s per chat; beyond them a 429

    def sends() -> list[Any]:
        return [c for c in fake.calls_of("sendMessage") if c.chat_id != 1]

    instances = [Instance(n, free_port(), tmp_path / f"bot{n}.log") for n in range(INSTANCES)]
    session = aiohttp.ClientSession()
    try:
        for instance in instances:
            await instance.start(fake, database_url, redis_url)
        for instance in instances:
            await wait_for(
                lambda i=instance: i.ready(session),  # type: ignore[misc]
                f"instance {instance.number} listening",
                60,
                instance.log,
                every=0.1,
            )
        balancer = Balancer(instances, session)

        # Half-way through the promo, a customer registers; each step on another instance.
        def promo_sent() -> int:
            return sum(1 for c in sends() if c.ok and int(c.chat_id or 0) >= FIRST_CHAT)

        await wait_for(
            lambda: promo_sent() >= MESSAGES // 4,
            "a quarter sent",
            120,
            instances[0].log,
            every=0.1,
        )
        user = CUSTOMER
        await register_across_instances(fake, balancer, user)
        assert len(set(balancer.landed)) >= 3, balancer.landed  # every instance took a step

        # Kill one instance half-way: whatever it held in flight stays `sending` …
        await wait_for(
            lambda: promo_sent() >= MESSAGES // 2, "half sent", 120, instances[0].log, every=0.1
        )
        victim = instances[1]
        victim_id = await kill_while_holding(fake, db, victim)
        at_kill = await promo_rows(db)
        held = {
            i for i, (s, h, _) in at_kill.items() if s == OutboxStatus.SENDING and h == victim_id
        }

        # … and the others carry on.
        async def drained() -> bool:
            found = await promo_rows(db)
            return not {OutboxStatus.PENDING, OutboxStatus.SENDING} & {
                s for s, _, _ in found.values()
            }

        await wait_for(
            drained, "the promo drained", 60 + MESSAGES / 20, instances[0].log, every=0.2
        )
        for instance in instances:
            if instance.process is not None:
                await stop(instance.process, signal.SIGTERM)
    finally:
        for instance in instances:
            if instance.process is not None:
                await stop(instance.process, signal.SIGKILL)
        await session.close()
        final = await promo_rows(db)
        async with db.reading() as repos:
            customer = await repos.customers.by_telegram_id(CUSTOMER)
        await db.dispose()

    logs = {i.number: i.log.read_text() for i in instances}
    # The registration completed although its steps were handled by different processes.
    assert customer is not None, logs
    assert (customer.phone, customer.birth_day, customer.birth_month) == ("+79161230000", 5, 3)
    assert customer.consent is True

    check_promo(fake, final, held)
    assert "Traceback" not in "".join(logs.values()), logs


async def kill_while_holding(fake: FakeTelegram, db: Database, victim: Any) -> str:
    """kill -9 an instance while it holds promo messages in flight; its instance id."""
    assert victim.process is not None
    started = re.search(r"bot started as instance (\S+)", victim.log.read_text())
    assert started is not None, victim.log.read_text()
    victim_id = started.group(1)

    async def victim_holds() -> bool:
        rows = await promo_rows(db)
        return any(s == OutboxStatus.SENDING and h == victim_id for s, h, _ in rows.values())

    # Answers take 0.3 s for a moment, so the kill lands while the victim holds rows.
    fake.send_latency = 0.3
    try:
        await wait_for(victim_holds, "the victim holding rows", 60, victim.log, every=0.01)
        victim.process.send_signal(signal.SIGKILL)
    finally:
        fake.send_latency = 0.0
    await victim.process.wait()
    return victim_id


def check_promo(
    fake: FakeTelegram, final: dict[int, tuple[str, str | None, int]], held: set[int]
) -> None:
    """What the issue asks of the promo's delivery through three instances, one of them killed."""
    sends = [c for c in fake.calls_of("sendMessage") if c.chat_id != 1]
    # Every customer at most once; every row marked sent reached its customer exactly once.
    received = Counter(int(c.chat_id or 0) for c in sends if c.ok)
    promo_received = {chat: n for chat, n in received.items() if chat >= FIRST_CHAT}
    assert max(promo_received.values()) == 1, "a customer got the promo twice"
    statuses = Counter(s for s, _, _ in final.values())
    assert set(statuses) <= {OutboxStatus.SENT, OutboxStatus.UNCERTAIN}, statuses
    sent = {i for i, (s, _, _) in final.items() if s == OutboxStatus.SENT}
    assert all(promo_received.get(final[i][2]) == 1 for i in sent)

    # Only the dead instance's rows in flight became uncertain, no more than it could hold.
    uncertain = {i for i, (s, _, _) in final.items() if s == OutboxStatus.UNCERTAIN}
    assert uncertain == held
    assert held, "the kill caught nothing in flight"
    # All three drained the one outbox (each claim names its holder).
    assert len({h for s, h, _ in final.values() if s == OutboxStatus.SENT}) == INSTANCES
    assert len(uncertain) <= CONCURRENCY
    assert len(sent) + len(uncertain) == MESSAGES

    # Telegram's limits held for all three together: no 429, never more than 30 in a second.
    refused = [c for c in fake.calls if c.status == 429]
    assert not refused, f"{len(refused)} requests got 429"
    # The fake enforces the limit as Telegram does (a bucket of 30, refilled at 30/s): no 429
    # above is the real check. Arrival times bunch up when this test's own loop is busy (it
    # shares it with the fake), so a single second can show more; over spans of 5 s, and over
    # the whole run, the rate is Telegram's at most (a bucket's burst of 30 the only slack).
    times = sorted(c.at for c in sends if c.ok)
    assert most_in_any(times, 5.0) <= 5 * 30 + 30
    assert (len(times) - 1) / (times[-1] - times[0]) <= 30
