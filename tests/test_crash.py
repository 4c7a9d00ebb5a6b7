"""kill -9 the bot while it drains 2,000 outbox rows, start it again: nothing twice, nothing lost.

The bot runs as a real child process (`bot.cli.main(["run"])`, what `python -m bot run` does)
against the fake Bot API server in this process. The only difference from production is the
limiter: 30 messages a second would make the test take a minute, so the child's delivery
worker is built with a limiter that does not throttle.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from scheduler.delivery import DEFAULT_CONCURRENCY
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxStatus
from tests.conftest import _async_url
from tests.fakes.telegram import BOT_ID, Call, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
ROWS = 2000
KILL_AFTER = 300  # sendMessage calls seen by the server before the kill
FIRST_CHAT = 500_000
# A token of its own: other tests' fake servers refuse its getUpdates should a child outlive us.
TOKEN = f"{BOT_ID}:CRASH{uuid.uuid4().hex[:8]}"

# The production entry point with an unthrottled limiter (see the module docstring).
BOOT = """
import ctypes, signal
# Die with the test: a child left behind would poll its port for ever, and a later test's
# fake server that happens to get that port would lose updates to it.
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
import functools, sys
import scheduler.delivery
from services.ratelimit import RateLimiter
scheduler.delivery.RateLimiter = functools.partial(RateLimiter, 1e6, 1e6)
import bot.app
bot.app.RateLimiter = functools.partial(RateLimiter, 1e6, 1e6)  # the app builds the limiter
from bot.cli import main
sys.exit(main(["run"]))
"""


async def prefill(db: Database) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    rows = [
        {
            "dedup_key": f"crash:{n}",
            "kind": "text",
            "chat_id": FIRST_CHAT + n,
            "payload": json.dumps({"text": f"message {n}"}),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "not_before": past,
            "created_at": past,
        }
        for n in range(ROWS)
    ]
    async with db.transaction() as repos:
        await repos.session.execute(insert(OutboxMessage), rows)


async def start_bot(fake: FakeTelegram, url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": url,
        "OWNER_IDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("REDIS_URL", "CHANNEL_ID"):
        env.pop(name, None)
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", BOOT, cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def wait_for(
    condition: Callable[[], object], what: str, seconds: float, log: Path, every: float = 0.005
) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > give_up:
            output = await asyncio.to_thread(log.read_text)
            raise AssertionError(f"{what} did not happen in {seconds}s; log:\n{output}")
        await asyncio.sleep(every)


async def statuses(db: Database) -> dict[int, str]:
    async with db.reading() as repos:
        result = await repos.session.execute(select(OutboxMessage.id, OutboxMessage.status))
        return dict(result.all())


async def stop(process: asyncio.subprocess.Process, sig: int) -> None:
    if process.returncode is None:
        process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


def answer_slowly(fake: FakeTelegram) -> None:
    """Telegram takes its time to answer, so the kill always catches sends in flight, some of
    them already delivered: the case the bot cannot know about."""
    send_message = fake._handlers["sendmessage"]

    async def slow_send(call: Call) -> Any:
        message = send_message(call)
        await asyncio.sleep(0.01)
        return message

    fake.register("sendMessage", slow_send)


async def test_kill_9_while_sending_then_restart(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = Database(_async_url(url))
    await db.migrate()
    await prefill(db)

    def sent_calls() -> int:
        return len(fake.calls_of("sendMessage"))

    answer_slowly(fake)
    processes: list[asyncio.subprocess.Process] = []
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    try:
        first = await start_bot(fake, url, first_log)
        processes.append(first)
        await wait_for(lambda: sent_calls() >= KILL_AFTER, "300 sends", 60, first_log)
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        at_crash = await statuses(db)
        in_flight = {i for i, s in at_crash.items() if s == OutboxStatus.SENDING}

        second = await start_bot(fake, url, second_log)
        processes.append(second)

        async def drained() -> bool:
            async with db.reading() as repos:
                counts = await repos.outbox.count_by_status()
            return not {OutboxStatus.PENDING, OutboxStatus.SENDING} & set(counts)

        await wait_for(drained, "draining the outbox", 60, second_log, every=0.1)
        await stop(second, signal.SIGTERM)
    finally:
        for process in processes:
            await stop(process, signal.SIGKILL)
        final = await statuses(db)
        async with db.reading() as repos:
            result = await repos.session.execute(select(OutboxMessage.id, OutboxMessage.chat_id))
            chats: dict[int, int] = dict(result.all())
        await db.dispose()

    received = Counter(c.chat_id for c in fake.calls_of("sendMessage") if c.ok)
    assert max(received.values()) == 1, "a chat received two messages"
    assert set(final.values()) <= {OutboxStatus.SENT, OutboxStatus.UNCERTAIN}
    sent = {i for i, s in final.items() if s == OutboxStatus.SENT}
    uncertain = {i for i, s in final.items() if s == OutboxStatus.UNCERTAIN}
    assert len(sent) + len(uncertain) == ROWS
    assert all(received[chats[i]] == 1 for i in sent), "a row marked sent never reached Telegram"
    # Uncertain are exactly the rows that were in flight when the process died …
    assert uncertain == in_flight
    assert uncertain, "the kill caught nothing in flight"
    assert len(uncertain) <= DEFAULT_CONCURRENCY
    # … and every message that reached Telegram without being recorded is among them.
    unrecorded = {i for i in chats if received[chats[i]] and i not in sent}
    assert unrecorded <= uncertain
    # The restarted bot said which rows it could not vouch for.
    log = second_log.read_text()
    logged = re.search(r"marked uncertain, not re-sent: ids ([\d,]+)", log)
    assert logged is not None, log
    assert {int(i) for i in logged.group(1).split(",")} == uncertain
    assert "Traceback" not in first_log.read_text()
    assert "Traceback" not in log
