"""The Telegram budget shared by several instances through Redis (storage/redis_budget.py).

Real time against the Redis on this machine: the script times grants with Redis's clock.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from bot.app import create_limiter
from bot.config import Settings, load_settings
from services.ratelimit import Pacing, RateLimiter
from storage.redis_budget import RedisBudget

REDIS_URL = os.environ.get("TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="the shared limiter needs Redis: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/7)",
)

Instances = Callable[..., RateLimiter]


@pytest.fixture
async def instances() -> AsyncIterator[Instances]:
    """Limiters of separate "processes" (a Redis connection each) sharing one bot's budget."""
    assert REDIS_URL is not None
    bot_key = f"test-{uuid.uuid4().hex[:10]}"
    made: list[RateLimiter] = []

    def make(per_second: float = 30, per_chat_per_second: float = 1) -> RateLimiter:
        assert REDIS_URL is not None
        pacing = Pacing.of(per_second, per_chat_per_second)
        budget = RedisBudget.from_url(REDIS_URL, bot_key, pacing)
        limiter = RateLimiter(per_second, per_chat_per_second, shared=budget)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"tg-budget:{{{bot_key}}}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def most_in_any(times: list[float], span: float) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= span:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_three_instances_together_stay_under_the_overall_rate(
    instances: Instances,
) -> None:
    limiters = [instances(20, 1000) for _ in range(3)]
    granted: list[float] = []

    async def send(limiter: RateLimiter, chat_id: int, bulk: bool) -> None:
        await limiter.acquire(chat_id, bulk=bulk)
        granted.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(
        *(
            send(limiter, 1000 * n + chat, bulk=chat % 2 == 0)
            for n, limiter in enumerate(limiters)
            for chat in range(20)
        )
    )
    took = time.monotonic() - started
    assert len(granted) == 60
    # Alone, each would have sent its 20 at once; together they wait their turn.
    assert most_in_any(granted, 1.0) <= 20
    assert took >= 2 * 1.0  # 60 grants at 20 per (1.04 s) window: two windows at least


async def test_one_chat_gets_one_message_a_second_from_all_instances_together(
    instances: Instances,
) -> None:
    first, second = instances(1000, 5), instances(1000, 5)
    granted: list[float] = []

    async def send(limiter: RateLimiter) -> None:
        await limiter.acquire(42)
        granted.append(time.monotonic())

    await asyncio.gather(*(send(limiter) for limiter in (first, second) for _ in range(3)))
    ordered = sorted(granted)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    assert min(gaps) >= 0.2 * 0.95  # 5/s per chat, whoever sends


async def test_a_429_in_one_instance_pauses_them_all(instances: Instances) -> None:
    first, second = instances(), instances()
    first.pause(0.5)
    await asyncio.sleep(0.05)  # the pause reaches Redis in the background
    started = time.monotonic()
    await second.acquire(7)
    assert time.monotonic() - started >= 0.4
    assert second.shared is not None
    assert await second.shared.delay() == 0


async def test_a_reply_still_goes_before_the_bulk_sends_of_its_own_process(
    instances: Instances,
) -> None:
    limiter, other = instances(2, 1000), instances(2, 1000)
    await other.acquire(1)
    await other.acquire(2)  # the other instance spent the whole window
    order: list[str] = []

    async def send(chat_id: int, bulk: bool, name: str) -> None:
        await limiter.acquire(chat_id, bulk=bulk)
        order.append(name)

    bulk = asyncio.create_task(send(10, True, "bulk"))
    await asyncio.sleep(0.05)  # the bulk send is waiting first
    reply = asyncio.create_task(send(11, False, "reply"))
    await asyncio.gather(bulk, reply)
    assert order == ["reply", "bulk"]


async def test_wait_ready_sees_the_shared_window_fill(instances: Instances) -> None:
    limiter, other = instances(2, 1000), instances(2, 1000)
    await other.acquire(1)
    await other.acquire(2)
    assert limiter.global_delay() == 0  # nothing granted locally …
    started = time.monotonic()
    assert await limiter.wait_ready()  # … but the shared window is full
    assert time.monotonic() - started >= 0.5


async def test_the_setting_chooses_the_shared_budget() -> None:
    assert REDIS_URL is not None
    local = create_limiter(make_settings_for(None))
    assert local.shared is None
    shared = create_limiter(make_settings_for(REDIS_URL))
    try:
        assert isinstance(shared.shared, RedisBudget)
    finally:
        await shared.close()


def make_settings_for(url: str | None) -> Settings:
    return load_settings(
        _env_file=None, bot_token="123456:ABC-token", rate_limit_redis_url=url or ""
    )


async def test_an_unreachable_redis_leaves_each_process_pacing_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nobody listens there
    budget = RedisBudget.from_url(f"redis://127.0.0.1:{port}/0", "gone", Pacing.of())
    limiter = RateLimiter(shared=budget)
    try:
        with caplog.at_level(logging.WARNING, logger="services.ratelimit"):
            started = time.monotonic()
            await asyncio.wait_for(limiter.acquire(1), 10)
            await asyncio.wait_for(limiter.acquire(2, bulk=True), 10)
            assert await asyncio.wait_for(limiter.wait_ready(), 10)
            limiter.pause(0.01)
            await asyncio.sleep(0.1)
        assert time.monotonic() - started < 10
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 1  # once a minute, not once a message
    finally:
        await limiter.close()
