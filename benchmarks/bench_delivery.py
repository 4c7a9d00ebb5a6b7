"""Deliver N outbox messages to N chats through a fake Bot API that enforces Telegram's limits.

Run from the repository root (the full run takes about six minutes):

    .venv/bin/python benchmarks/bench_delivery.py                 # 10,000 messages
    .venv/bin/python benchmarks/bench_delivery.py --messages 600  # a quick look

The fake server (tests/fakes/telegram.py with 30 messages/s overall, 1/s per chat, 429 with
retry_after beyond) runs in a child process, so the memory figures are the bot's alone. The
real DeliveryWorker with its default limiter drains a SQLite outbox; the figures come from the
server's own arrival times. Then, for comparison, a naive sender that fires 30 messages at the
start of every second (a fixed window) sends to fresh chats through the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy import insert

from bot.app import create_bot
from bot.config import Settings, load_settings
from scheduler.delivery import DeliveryWorker
from storage.database import Database
from storage.models import Customer, OutboxMessage
from storage.outbox import OutboxStatus
from tests.fakes.telegram import BOT_TOKEN, Call, FakeTelegram
from ui.i18n import create_i18n

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 10.0  # seconds per steady-state window


# --------------------------------------------------------------------------- the fake server


def _limit(fake: FakeTelegram) -> None:
    fake.rate_limits(global_per_second=30, per_chat_per_second=1)


async def serve_fake() -> None:
    """Child process: serve the fake until stdin closes; print the base URL first."""
    fake = FakeTelegram()
    _limit(fake)

    def stats(call: Call) -> dict[str, Any]:
        sends = [
            [c.at, c.chat_id, c.status] for c in fake.calls if c.method.lower() == "sendmessage"
        ]
        return {"sends": sends, "too_many_requests": fake.too_many_requests}

    def reset(call: Call) -> bool:
        fake.calls.clear()
        fake.too_many_requests = 0
        _limit(fake)  # fresh buckets
        return True

    fake.register("benchStats", stats)
    fake.register("benchReset", reset)
    await fake.start()
    print(fake.base_url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes the pipe
    await fake.stop()


async def call_fake(base_url: str, method: str) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/bot{BOT_TOKEN}/{method}") as response,
    ):
        return (await response.json())["result"]


# --------------------------------------------------------------------------- figures


def figures(stats: dict[str, Any], label: str) -> dict[str, Any]:
    ok = sorted(at for at, _, status in stats["sends"] if status == 200)
    per_chat = Counter(chat for _, chat, status in stats["sends"] if status == 200)
    start, end = ok[0], ok[-1]
    windows = Counter(int((at - start) // WINDOW) for at in ok)
    full = [windows[w] / WINDOW for w in range(int((end - start) // WINDOW))]
    return {
        "label": label,
        "delivered": len(ok),
        "seconds": end - start,
        "overall_per_s": (len(ok) - 1) / (end - start) if end > start else float("nan"),
        "median_window_per_s": statistics.median(full) if full else float("nan"),
        "min_window_per_s": min(full) if full else float("nan"),
        "too_many_requests": stats["too_many_requests"],
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
    }


def show(result: dict[str, Any]) -> None:
    print(
        f"{result['label']:<28} {result['delivered']:>6} msgs in {result['seconds']:7.1f} s  "
        f"overall {result['overall_per_s']:5.2f}/s  "
        f"median {WINDOW:.0f}-s window {result['median_window_per_s']:5.2f}/s "
        f"(min {result['min_window_per_s']:5.2f})  "
        f"429s {result['too_many_requests']}  duplicates {result['duplicates']}"
    )


# --------------------------------------------------------------------------- the worker


async def prefill(db: Database, n: int) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    customers = [
        {
            "id": i + 1,
            "telegram_id": 1_000_000 + i,
            "name": f"Customer {i}",
            "language": "en" if i % 2 else "ru",
            "created_at": now,
        }
        for i in range(n)
    ]
    rows = [
        {
            "dedup_key": f"bench:{i}",
            "kind": "text",
            "customer_id": i + 1,
            "chat_id": 1_000_000 + i,
            "payload": json.dumps({"text": f"Bench message {i}: see you soon!"}),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for i in range(n)
    ]
    async with db.transaction() as repos:
        await repos.session.execute(insert(Customer), customers)
        await repos.session.execute(insert(OutboxMessage), rows)


async def run_worker(settings: Settings, db: Database, n: int) -> dict[str, Any]:
    tracemalloc.start()
    bot = create_bot(settings)
    worker = DeliveryWorker(db, bot, settings, create_i18n(settings.default_language))
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        while True:
            await asyncio.sleep(1)
            async with db.reading() as repos:
                counts = await repos.outbox.count_by_status()
            left = counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0)
            elapsed = time.perf_counter() - started
            if int(elapsed) % 30 == 0 or not left:
                print(f"  {elapsed:6.0f} s: {n - left} of {n} done {dict(counts)}", flush=True)
            if not left:
                break
    finally:
        stop.set()
        await task
        await bot.session.close()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"statuses": counts, "tracemalloc_peak_mib": peak / 2**20}


# --------------------------------------------------------------------------- the baseline


async def run_naive(base_url: str, n: int) -> None:
    """30 sends at the start of every second, whatever happened at the edges; 429s retried."""
    settings = load_settings(bot_token=BOT_TOKEN, telegram_api_url=base_url, _env_file=None)
    bot = create_bot(settings)
    queue = list(range(2_000_000, 2_000_000 + n))
    retry_at = 0.0

    async def send(chat: int) -> None:
        nonlocal retry_at
        try:
            await bot.send_message(chat, "Naive message")
        except TelegramRetryAfter as exc:
            retry_at = max(retry_at, time.monotonic() + exc.retry_after)
            queue.append(chat)

    try:
        tick = time.monotonic()
        while queue:
            if time.monotonic() < retry_at:
                await asyncio.sleep(retry_at - time.monotonic())
                tick = time.monotonic()
            burst, queue[:] = queue[:30], queue[30:]
            await asyncio.gather(*(send(chat) for chat in burst))
            tick += 1
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
    finally:
        await bot.session.close()


# --------------------------------------------------------------------------- main


async def main(messages: int, baseline_messages: int) -> None:
    rss_after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-fake",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert server.stdout is not None
        base_url = (await server.stdout.readline()).decode().strip()
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            settings = load_settings(
                bot_token=BOT_TOKEN, telegram_api_url=base_url, database_url=url, _env_file=None
            )
            db = Database(settings.database_url)
            await db.migrate()
            await prefill(db, messages)
            print(f"DeliveryWorker: {messages:,} outbox rows to {messages:,} chats")
            memory = await run_worker(settings, db, messages)
            maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            await db.dispose()
        worker = figures(await call_fake(base_url, "benchStats"), "DeliveryWorker")

        await call_fake(base_url, "benchReset")
        print(f"naive fixed-window sender: {baseline_messages:,} messages")
        await run_naive(base_url, baseline_messages)
        naive = figures(await call_fake(base_url, "benchStats"), "naive 30 per second")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), 10)
        except TimeoutError:
            server.kill()
            await server.wait()

    print()
    show(worker)
    show(naive)
    print(f"worker outbox statuses: {memory['statuses']}")
    print(
        f"bot peak memory: tracemalloc {memory['tracemalloc_peak_mib']:.1f} MiB, "
        f"maxrss {maxrss_mib:.0f} MiB (process; {rss_after_imports:.0f} MiB of it before the "
        "run: interpreter and libraries)"
    )
    goal = worker["median_window_per_s"] >= 28 and not worker["too_many_requests"]
    print(
        f"goal (>= 28/s steady state, 0 × 429, 0 duplicates): "
        f"{'met' if goal and not worker['duplicates'] else 'NOT met'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--baseline-messages", type=int, help="for the naive sender (default: min(messages, 3000))"
    )
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
    else:
        baseline = args.baseline_messages or min(args.messages, 3000)
        asyncio.run(main(args.messages, baseline))
