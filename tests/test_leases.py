"""Several instances on one outbox: claims with leases, and one scan runner at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import jobs
from storage.database import Database
from storage.locks import exclusive
from storage.outbox import OutboxStatus
from tests.conftest import FakeClock, eventually
from tests.fakes.telegram import Call, FakeTelegram
from tests.test_delivery import make_worker, queue, row, second_engine, worker_bot_close

LEASE = timedelta(seconds=60)


def hold_sends(fake: FakeTelegram) -> asyncio.Event:
    """Telegram answers sendMessage only once the returned event is set: sends stay in flight."""
    send_message = fake._handlers["sendmessage"]
    release = asyncio.Event()

    async def held(call: Call) -> Any:
        await release.wait()
        return send_message(call)

    fake.register("sendMessage", held)
    return release


async def statuses(db: Database, ids: list[int]) -> list[tuple[str, str | None]]:
    return [((r := await row(db, i)).status, r.claimed_by) for i in ids]


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("several instances share one outbox on PostgreSQL; SQLite has one process")


async def test_a_starting_instance_leaves_the_rows_a_live_one_is_sending(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Renewal keeps a long send alive past its first lease; the other instance's start and
    sweeps never touch it, and it ends `sent`."""
    postgres_only(db)
    ids = [await queue(db, clock, f"lease:{n}", 5000 + n) for n in range(3)]
    assert all(i is not None for i in ids)
    release = hold_sends(fake)
    first = make_worker(
        fake, db, clock, instance="first", lease=LEASE, renew_every=0.05, concurrency=2
    )
    other_db = await second_engine(db)
    second = make_worker(fake, other_db, clock, instance="second", lease=LEASE)
    sending = asyncio.create_task(first.run_once(clock()))
    try:

        async def two_in_flight() -> bool:
            found = await statuses(db, ids)  # type: ignore[arg-type]
            return found.count((OutboxStatus.SENDING, "first")) == 2

        await eventually(two_in_flight, what="the first instance sending two rows")
        assert await second.recover(clock()) == 0  # the second instance starts

        first_lease = (await row(db, ids[0])).lease_until  # type: ignore[arg-type]
        assert first_lease == clock() + LEASE
        clock.advance(seconds=LEASE.total_seconds() + 1)  # the send outlives its first lease

        async def renewed() -> bool:
            lease = (await row(db, ids[0])).lease_until  # type: ignore[arg-type]
            return lease is not None and lease > clock()

        await eventually(renewed, what="the lease renewed while the send is in flight")
        assert await second.recover(clock()) == 0  # a later sweep: still alive, left alone
        release.set()
        report = await asyncio.wait_for(sending, 10)
    finally:
        release.set()
        await asyncio.gather(sending, return_exceptions=True)
        await worker_bot_close(first)
        await worker_bot_close(second)
        await other_db.dispose()
    assert report.sent == 3
    assert [s for s, _ in await statuses(db, ids)] == [OutboxStatus.SENT] * 3  # type: ignore[arg-type]
    assert len(fake.calls_of("sendMessage")) == 3


async def test_a_dead_instances_rows_become_uncertain_after_its_lease(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    postgres_only(db)
    ids = [await queue(db, clock, f"dead:{n}", 5100 + n) for n in range(3)]
    async with db.transaction() as repos:  # claimed by an instance that then died
        await repos.outbox.claim_due(clock(), 2, holder="dead-1", lease_until=clock() + LEASE)
    worker = make_worker(fake, db, clock, instance="alive", lease=LEASE)
    try:
        assert await worker.recover(clock()) == 0  # its lease still runs: maybe alive
        clock.advance(seconds=LEASE.total_seconds() - 1)
        assert await worker.recover(clock()) == 0
        clock.advance(seconds=1)
        assert await worker.recover(clock()) == 2
        report = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert report.sent == 1  # only the row nobody had claimed
    found = [await row(db, i) for i in ids]  # type: ignore[arg-type]
    assert [r.status for r in found] == [
        OutboxStatus.UNCERTAIN,
        OutboxStatus.UNCERTAIN,
        OutboxStatus.SENT,
    ]
    assert "dead-1" in (found[0].last_error or "")


async def test_the_running_worker_sweeps_a_dead_instances_rows(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Not only at start: a live instance reports a dead one's rows once their lease ran out."""
    postgres_only(db)
    ids = [await queue(db, clock, f"sweep:{n}", 5200 + n) for n in range(2)]
    async with db.transaction() as repos:
        await repos.outbox.claim_due(clock(), 2, holder="dead-2", lease_until=clock() + LEASE)
    worker = make_worker(fake, db, clock, instance="alive", lease=LEASE)
    worker.attach(fake.make_bot())
    await worker.recover(clock())
    worker.start()
    try:
        await asyncio.sleep(0.2)
        assert {s for s, _ in await statuses(db, ids)} == {OutboxStatus.SENDING}  # type: ignore[arg-type]
        clock.advance(seconds=LEASE.total_seconds())

        async def reported() -> bool:
            found = await statuses(db, ids)  # type: ignore[arg-type]
            return {s for s, _ in found} == {OutboxStatus.UNCERTAIN}

        await eventually(reported, what="the dead instance's rows marked uncertain")
    finally:
        await worker.stop()
        await worker_bot_close(worker)
    assert fake.calls_of("sendMessage") == []


async def test_sqlite_has_one_process_so_any_other_holders_rows_are_leftovers(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> None:
    db = sqlite_db
    ids = [await queue(db, clock, f"one:{n}", 5300 + n) for n in range(3)]
    async with db.transaction() as repos:
        await repos.outbox.claim_due(clock(), 2, holder="crashed", lease_until=clock() + LEASE)
    worker = make_worker(fake, db, clock, instance="restarted", lease=LEASE)
    try:
        assert await worker.recover(clock()) == 2  # at once: no other process can hold them
        report = await worker.run_once(clock())
    finally:
        await worker_bot_close(worker)
    assert report.sent == 1
    assert [s for s, _ in await statuses(db, ids)] == [  # type: ignore[arg-type]
        OutboxStatus.UNCERTAIN,
        OutboxStatus.UNCERTAIN,
        OutboxStatus.SENT,
    ]


async def test_claims_name_their_holder_and_lease(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    outbox_id = await queue(db, clock, "named", 5400)
    assert outbox_id is not None
    release = hold_sends(fake)
    worker = make_worker(fake, db, clock, lease=LEASE)
    assert worker.instance.count("-") >= 2  # host-pid-random
    sending = asyncio.create_task(worker.run_once(clock()))
    try:
        await eventually(
            lambda: _status_is(db, outbox_id, OutboxStatus.SENDING), what="the row claimed"
        )
        claimed = await row(db, outbox_id)
        assert claimed.claimed_by == worker.instance
        assert claimed.lease_until == clock() + LEASE
        assert await worker.recover(clock()) == 0  # its own live row is not a leftover
    finally:
        release.set()
        await asyncio.gather(sending, return_exceptions=True)
        await worker_bot_close(worker)
    assert (await row(db, outbox_id)).status == OutboxStatus.SENT


async def _status_is(db: Database, outbox_id: int, status: str) -> bool:
    return (await row(db, outbox_id)).status == status


# --------------------------------------------------------------------------- scan lock


def slow_scan(
    runs: list[str], started: asyncio.Event, release: asyncio.Event
) -> Callable[[Database, ZoneInfo, datetime], Awaitable[int]]:
    async def scan(db: Database, zone: ZoneInfo, now: datetime) -> int:
        runs.append(now.isoformat())
        started.set()
        await release.wait()
        return 1

    return scan


async def test_two_instances_scanning_at_once_one_runs_the_other_skips(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()
    job = jobs.Job("slow", slow_scan(runs, started, release), "a scan that takes its time")
    monkeypatch.setitem(jobs.JOBS, "slow", job)
    other_db = await second_engine(db)  # the other instance has its own engine
    zone = ZoneInfo("Europe/Moscow")
    try:
        first = asyncio.create_task(jobs.try_run_job("slow", db, zone, clock()))
        await asyncio.wait_for(started.wait(), 5)
        second = asyncio.create_task(jobs.try_run_job("slow", other_db, zone, clock()))
        if db.is_sqlite:
            # One process owns an SQLite file: no lock, the dedup keys are the guard.
            await eventually(lambda: len(runs) == 2, what="both scans running")
            release.set()
            assert await asyncio.gather(first, second) == [1, 1]
            return
        assert await asyncio.wait_for(second, 5) is None  # skipped, not waiting
        release.set()
        assert await first == 1
        assert len(runs) == 1
        # The lock went with the scan: the next round runs.
        assert await jobs.try_run_job("slow", other_db, zone, clock()) == 1
        assert await jobs.run_job("slow", db, zone, clock()) == 1
    finally:
        release.set()
        await other_db.dispose()


async def test_the_scan_lock_is_per_name_and_released_on_error(db: Database) -> None:
    postgres_only(db)
    other_db = await second_engine(db)
    try:
        async with exclusive(db, "scan:a") as mine:
            assert mine
            async with (
                exclusive(other_db, "scan:a") as theirs,
                exclusive(other_db, "scan:b") as other_name,
            ):
                assert not theirs
                assert other_name
        with pytest.raises(RuntimeError):
            async with exclusive(db, "scan:a") as mine:
                assert mine
                raise RuntimeError("the scan failed")
        async with exclusive(other_db, "scan:a") as theirs:
            assert theirs
    finally:
        await other_db.dispose()
