"""Handler latency and throughput: the bot against a bare aiogram echo bot, same fake server.

Run from the repository root::

    .venv/bin/python benchmarks/bench_handlers.py [--rate 50] [--seconds 5] [--repeats 5]

Both bots poll the fake Telegram Bot API server of the tests (tests/fakes/telegram.py) over
HTTP on 127.0.0.1, in the same process and event loop as the server, so the figures include
getUpdates, aiogram's dispatch, the handler and its answer (sendMessage) through the fake.

Two kinds of update for the bot (SQLite, the production dispatcher as the tests build it, the
flood limiter opened wide as in tests/conftest.py, no scheduled scans):

* ``/sale +7916... 2500 Manicure`` from the owner, for customers who already exist (one line:
  parse, find the customer, write the purchase, answer with the receipt);
* ``/start`` from a new person each time (a customer row, the language, the phone request).

The echo bot answers every text with the same text: aiogram and the fake server alone.

Two loads, each repeated ``--repeats`` times (medians reported, the echo bot in the same run):

* **open loop at a fixed rate** (default 50 updates/s): updates are injected on a schedule,
  whether or not the bot has finished the earlier ones; latency = from injection until the
  dispatcher has finished handling the update (its ``feed_update`` returned);
* **maximum throughput**: a burst of updates injected at once; updates/s = updates / time
  until the last one is handled;
* **one at a time** (closed loop): the next update only once the last is handled: what one
  update costs without any queueing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OWNER_ID = 1000
CUSTOMERS = 200  # existing customers the /sale lines pick from
FIRST_PHONE = 79160000000


@dataclass
class Timing:
    """When each update was injected and when the dispatcher finished it."""

    injected: dict[int, float] = field(default_factory=dict)
    finished: dict[int, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    pending: int = 0  # injected in this round and not finished yet

    def watch(self, dp: Any) -> None:
        feed_update = dp.feed_update

        async def timed(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed_update(bot, update, **kwargs)
            finally:
                update_id = int(update.update_id)
                self.finished[update_id] = time.perf_counter()
                if update_id in self.injected:
                    self.pending -= 1
                    if self.pending == 0:
                        self.done.set()

        dp.feed_update = timed

    def start(self, expected: int) -> None:
        self.injected.clear()
        self.finished.clear()
        self.done = asyncio.Event()
        self.pending = expected

    def latencies_ms(self) -> list[float]:
        return [(self.finished[u] - at) * 1000 for u, at in self.injected.items()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


MakeUpdate = Callable[[int], dict[str, Any]]


async def open_loop(timing: Timing, make: MakeUpdate, rate: float, count: int) -> dict[str, float]:
    """Inject `count` updates at `rate` per second on a fixed schedule; latency percentiles."""
    timing.start(count)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for i in range(count):
        delay = begin + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        update = make(i)
        timing.injected[int(update["update_id"])] = time.perf_counter()
    await asyncio.wait_for(timing.done.wait(), timeout=120)
    lat = timing.latencies_ms()
    return {"p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99), "max_ms": max(lat)}


async def one_at_a_time(timing: Timing, make: MakeUpdate, count: int) -> dict[str, float]:
    """Closed loop: the next update only after the last one is handled (no queueing)."""
    times = []
    for i in range(count):
        timing.start(1)
        update = make(i)
        timing.injected[int(update["update_id"])] = time.perf_counter()
        await asyncio.wait_for(timing.done.wait(), timeout=60)
        times.extend(timing.latencies_ms())
    return {"alone_ms": percentile(times, 0.5)}


async def burst(timing: Timing, make: MakeUpdate, count: int) -> dict[str, float]:
    """Inject `count` updates at once; updates handled per second."""
    timing.start(count)
    started = time.perf_counter()
    for i in range(count):
        update = make(i)
        timing.injected[int(update["update_id"])] = time.perf_counter()
    await asyncio.wait_for(timing.done.wait(), timeout=300)
    return {"per_s": count / (max(timing.finished.values()) - started)}


# --- the two bots --------------------------------------------------------------------------------


async def run_bot(args: argparse.Namespace, workdir: Path) -> dict[str, list[dict[str, float]]]:
    from bot.app import create_bot, create_dispatcher
    from bot.config import load_settings
    from services.ratelimit import RateLimiter
    from storage.database import Database
    from tests.fakes.telegram import FakeTelegram

    db = Database(f"sqlite+aiosqlite:///{workdir / 'bot.db'}")
    await db.migrate()
    out: dict[str, list[dict[str, float]]] = {}
    async with FakeTelegram() as fake:
        settings = load_settings(
            bot_token="123456:TEST-TOKEN",
            owner_ids=str(OWNER_ID),
            database_url=db.url,
            telegram_api_url=fake.base_url,
            timezone="Europe/Moscow",
            default_language="en",
            _env_file=None,
        )
        dp = create_dispatcher(settings, db, schedule_jobs=False)
        now = datetime.now(UTC)
        await dp["catalogue"].add(
            name="Manicure", price=250_000, cycle_days=21, duration_minutes=60, now=now
        )
        for n in range(CUSTOMERS):
            await dp["customers"].add_offline(f"Customer {n}", f"+{FIRST_PHONE + n}", now)
        # as tests/conftest.py: the fake enforces no flood limits, so neither does the bot
        dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
        timing = Timing()
        timing.watch(dp)
        async with fake.polling(dp, create_bot(settings, dp["limiter"])):
            owner = fake.user(OWNER_ID, first_name="Owner", language_code="en")
            owner.timeout = 60.0
            receipt = await owner.send(f"/sale +{FIRST_PHONE} 2500 Manicure")
            print(f"/sale answers: {receipt[-1]['text']!r}", file=sys.stderr)
            purchases = await _purchases(db)
            people = iter(range(10_000_000, 20_000_000))

            sales = itertools.count(1)

            def sale(i: int) -> dict[str, Any]:
                # a new amount each time: the same sale twice within minutes is refused as a
                # duplicate (an answer with a question instead of a saved sale)
                k = next(sales)
                phone = FIRST_PHONE + k % CUSTOMERS
                return fake.user_message(OWNER_ID, f"/sale +{phone} {2000 + k} Manicure")

            def start(i: int) -> dict[str, Any]:
                return fake.user_message(next(people), "/start", language_code="en")

            for _ in range(args.repeats):
                for name, make in (("sale", sale), ("start", start)):
                    count = int(args.rate * args.seconds)
                    rec = await open_loop(timing, make, args.rate, count)
                    rec.update(await burst(timing, make, args.burst))
                    rec.update(await one_at_a_time(timing, make, args.alone))
                    out.setdefault(name, []).append(rec)
        answers = collections.Counter(
            (c.text or "").split("\n")[0][:60] for c in fake.calls if c.chat_id == OWNER_ID
        )
        print(f"the owner's answers: {answers.most_common(5)}", file=sys.stderr)
    logged = await _purchases(db) - purchases
    print(f"purchases logged by the /sale lines: {logged}", file=sys.stderr)
    await db.dispose()
    return out


async def _purchases(db: Any) -> int:
    from sqlalchemy import func, select

    from storage.models import Purchase

    async with db.reading() as repos:
        return int(await repos.session.scalar(select(func.count(Purchase.id))) or 0)


async def run_echo(args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    from aiogram import Dispatcher, Router
    from aiogram.types import Message

    from tests.fakes.telegram import FakeTelegram

    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    dp = Dispatcher()
    dp.include_router(router)
    out: dict[str, list[dict[str, float]]] = {}
    async with FakeTelegram() as fake:
        timing = Timing()
        timing.watch(dp)
        async with fake.polling(dp):

            def text(i: int) -> dict[str, Any]:
                return fake.user_message(20_000_000 + i % 200, f"hello {i}")

            for _ in range(args.repeats):
                rec = await open_loop(timing, text, args.rate, int(args.rate * args.seconds))
                rec.update(await burst(timing, text, args.burst))
                rec.update(await one_at_a_time(timing, text, args.alone))
                out.setdefault("echo", []).append(rec)
    return out


def median_of(records: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop updates per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="open-loop duration")
    parser.add_argument("--burst", type=int, default=500, help="updates in the throughput burst")
    parser.add_argument("--alone", type=int, default=50, help="updates sent one at a time")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handlers-") as tmp:
        # The echo bot between the bot's runs' neighbours would see the same machine load;
        # here it runs first and the bot right after, both in this process.
        echo = asyncio.run(run_echo(args))
        ours = asyncio.run(run_bot(args, Path(tmp)))
    results = {**echo, **ours}
    print(
        f"\nopen loop at {args.rate:g} updates/s for {args.seconds:g} s, burst of {args.burst}; "
        f"medians of {args.repeats} runs\n"
    )
    print(f"{'':24}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'max upd/s':>11}{'alone p50 ms':>14}")
    labels = {"echo": "aiogram echo bot", "sale": "bot: /sale one line", "start": "bot: /start"}
    for key, label in labels.items():
        rec = results[key]
        print(
            f"{label:24}{median_of(rec, 'p50_ms'):>9.1f}{median_of(rec, 'p99_ms'):>9.1f}"
            f"{median_of(rec, 'max_ms'):>9.1f}{median_of(rec, 'per_s'):>11.0f}"
            f"{median_of(rec, 'alone_ms'):>14.1f}"
        )


if __name__ == "__main__":
    main()
