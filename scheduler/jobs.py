"""The scans the scheduler runs: plain functions of (database, shop zone, now) → rows queued.

Each scan is idempotent (the outbox dedup key), so running one twice, at start-up after
downtime, or from the CLI while the bot runs, never queues a message twice. With several
instances on one PostgreSQL database a scan also runs in one of them at a time (an advisory
lock, storage/locks.py); the others skip that round. The dedup keys stay the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.backups import BackupPlan, register_backups
from services.birthdays import queue_birthdays
from services.booking_reminders import queue_booking_reminders
from services.business_scan import business_scan
from services.deposits import release_unpaid
from services.feedback import queue_feedback
from services.no_shows import queue_unconfirmed
from services.rebooking import queue_rebooking
from services.schedule import nearest_slots
from services.waitlist import tidy_waitlist
from storage.database import Database
from storage.locks import exclusive

log = logging.getLogger(__name__)

Scan = Callable[[Database, ZoneInfo, datetime], Awaitable[int]]
# issue 13: a scan that writes to the owners needs their ids (deployment settings, not the db).
OwnerScan = Callable[[Database, ZoneInfo, datetime, Collection[int]], Awaitable[int]]
EVERY = timedelta(minutes=5)


async def _nearest(
    db: Database, service_id: int, around: datetime, now: datetime, zone: ZoneInfo
) -> list[datetime]:
    return await nearest_slots(db, service_id=service_id, around=around, now=now, zone=zone)


async def rebooking(db: Database, zone: ZoneInfo, now: datetime) -> int:
    return await queue_rebooking(db, zone, now, _nearest)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    scan: Scan | OwnerScan
    what: str
    for_owners: bool = False  # `scan` is an OwnerScan


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("rebooking", rebooking, "rebooking reminders and their one follow-up"),
        Job("birthdays", queue_birthdays, "birthday greetings with a promo code"),
        Job("feedback", queue_feedback, "rating questions after a visit"),
        Job("booking_reminders", queue_booking_reminders, "reminders the day before a booking"),
        # issue 11
        Job("business", business_scan, "Telegram Business: free slots on request, daily digest"),
        # issue 13
        Job(
            "unconfirmed",
            queue_unconfirmed,
            "the owners hear of tomorrow's unconfirmed bookings, once, on the eve",
            for_owners=True,
        ),
        Job("deposits", release_unpaid, "deposits not paid in time: their slots are released"),
        Job(
            "waitlist", tidy_waitlist, "waitlist: offers of begun slots withdrawn, old entries end"
        ),
    )
}


def _last_run_key(name: str) -> str:
    return f"job:{name}:last_run"


async def run_job(
    name: str, db: Database, zone: ZoneInfo, now: datetime, owner_ids: Collection[int] = ()
) -> int:
    """Run one scan now and record when it ran (for `python -m bot jobs list`); 0 when
    another instance is running the same scan."""
    return await try_run_job(name, db, zone, now, owner_ids) or 0


async def try_run_job(
    name: str, db: Database, zone: ZoneInfo, now: datetime, owner_ids: Collection[int] = ()
) -> int | None:
    """Rows queued by the scan, or None when another instance holds it right now."""
    job = JOBS[name]
    async with exclusive(db, f"scan:{name}") as mine:
        if not mine:
            log.info("job %s: another instance is running it; skipped", name)
            return None
        queued = await _run_scan(job, db, zone, now, owner_ids)
        async with db.transaction() as repos:
            await repos.settings.put(_last_run_key(name), now.isoformat())
    if queued:
        log.info("job %s queued %d message(s)", name, queued)
    return queued


async def _run_scan(
    job: Job, db: Database, zone: ZoneInfo, now: datetime, owner_ids: Collection[int]
) -> int:
    if job.for_owners:
        owner_scan: OwnerScan = job.scan  # type: ignore[assignment]  # for_owners says so
        return await owner_scan(db, zone, now, owner_ids)
    scan: Scan = job.scan  # type: ignore[assignment]
    return await scan(db, zone, now)


async def last_runs(db: Database) -> dict[str, datetime | None]:
    async with db.reading() as repos:
        values = await repos.settings.all()
    return {
        name: datetime.fromisoformat(values[key])
        if (key := _last_run_key(name)) in values
        else None
        for name in JOBS
    }


class RunningScans:
    """The scans in progress. APScheduler's shutdown only cancels them; shutdown awaits them
    here so they end (roll back, give their connection back) before the database closes.
    A scan cut off while its connection was being closed by a disposed engine hung forever."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    async def stop(self) -> None:
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def register_jobs(
    scheduler: AsyncIOScheduler,
    db: Database,
    zone: ZoneInfo,
    clock: Callable[[], datetime],
    on_queued: Callable[[], None],
    backups: BackupPlan | None = None,
    scans: RunningScans | None = None,
    owner_ids: Collection[int] = (),
) -> None:
    """Every scan every few minutes, and once right at start-up to catch up after downtime."""
    if backups is not None:
        register_backups(scheduler, db, backups, clock)  # SQLite: a backup a day

    running = scans or RunningScans()

    async def tick(name: str) -> None:
        with running.track():
            try:
                if await run_job(name, db, zone, clock(), owner_ids):
                    on_queued()
            except Exception:  # one failing scan must not stop the others or the scheduler
                log.exception("job %s failed", name)

    for name in JOBS:
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=EVERY.total_seconds()),
            args=(name,),
            id=name,
            name=name,
            replace_existing=True,
            next_run_time=datetime.now(zone),
        )
