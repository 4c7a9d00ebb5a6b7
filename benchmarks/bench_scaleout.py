"""1, 2 and 3 bot instances (webhook mode, one PostgreSQL, one Redis) drain one outbox.

Run from the repository root with a PostgreSQL server and a Redis:

    TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
    TEST_REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python benchmarks/bench_scaleout.py --messages 10000   # ≈ 6 min per row
    ... benchmarks/bench_scaleout.py --messages 900                  # a quick look

The fake Bot API server (tests/fakes/telegram.py) enforces Telegram's limits (30 messages/s
overall, 1/s per chat, 429 beyond) and records when each message arrived; the instances are
real `python -m bot run --webhook` processes (tests/test_scaleout.py's launcher) sharing the
send budget through RATE_LIMIT_REDIS_URL. The point: more instances do not send faster than
Telegram allows, never send a row twice and never get a 429; they only share the work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import Database
from tests.conftest import _async_url
from tests.fakes.telegram import FakeTelegram
from tests.test_crash import stop, wait_for
from tests.test_scaleout import (
    FIRST_CHAT,
    Instance,
    forget_bot_keys,
    free_port,
    prefill_promo,
    promo_rows,
)
from tests.test_shared_limiter import most_in_any


async def fresh_database(admin_url: str, name: str) -> str:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def run(count: int, messages: int, postgres: str, redis_url: str) -> dict[str, float]:
    admin_url = _async_url(postgres)
    url = await fresh_database(admin_url, f"bench_scaleout_{count}")
    await forget_bot_keys(redis_url)
    db = Database(url)
    await db.migrate()
    await prefill_promo(db, messages)
    logs = Path(tempfile.mkdtemp(prefix="bench_scaleout_"))
    async with FakeTelegram() as fake, aiohttp.ClientSession() as session:
        fake.rate_limits()
        instances = [Instance(n, free_port(), logs / f"bot{n}.log") for n in range(count)]
        try:
            for instance in instances:
                await instance.start(fake, url, redis_url)
            for instance in instances:
                await wait_for(
                    lambda i=instance: i.ready(session),  # type: ignore[misc]
                    "listening",
                    60,
                    instance.log,
                    every=0.1,
                )

            async def drained() -> bool:
                found = await promo_rows(db)
                return all(s not in {"pending", "sending"} for s, _, _ in found.values())

            await wait_for(drained, "drained", 60 + messages / 10, instances[0].log, every=0.5)
        finally:
            for instance in instances:
                if instance.process is not None:
                    await stop(instance.process, signal.SIGTERM)
        calls = [c for c in fake.calls_of("sendMessage") if int(c.chat_id or 0) >= FIRST_CHAT]
        refused = sum(1 for c in fake.calls if c.status == 429)
    ok = [c for c in calls if c.ok]
    received = Counter(c.chat_id for c in ok)
    times = sorted(c.at for c in ok)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    final = await promo_rows(db)
    await db.dispose()
    await forget_bot_keys(redis_url)
    statuses = Counter(s for s, _, _ in final.values())
    return {
        "instances": count,
        "delivered": len(ok),
        "msgs_per_s": (len(ok) - 1) / span,
        "most_in_1s": most_in_any(times, 1.0),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "429s": refused,
        "uncertain": statuses.get("uncertain", 0),
    }


async def main(messages: int, counts: list[int]) -> None:
    postgres = os.environ.get("TEST_POSTGRES_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not (postgres and redis_url):
        sys.exit("set TEST_POSTGRES_URL and TEST_REDIS_URL (see the module docstring)")
    print(f"{messages:,} outbox rows to {messages:,} chats; Telegram's limits enforced")
    print("instances  delivered  msgs/s  most in 1 s  duplicates  429s  uncertain")
    for count in counts:
        started = time.monotonic()
        r = await run(count, messages, postgres, redis_url)
        print(
            f"{count:>9}  {r['delivered']:>9,}  {r['msgs_per_s']:>6.1f}  {r['most_in_1s']:>11}"
            f"  {r['duplicates']:>10}  {r['429s']:>4}  {r['uncertain']:>9}"
            f"   ({time.monotonic() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.instances))
