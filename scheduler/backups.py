"""The daily SQLite backup: a plain function of (database, plan, now), checked every hour.

Whether a backup is due is read from the backup folder itself (the newest file's time), so a
restart or a night the machine was off loses nothing: the next check after start-up makes the
missing backup. PostgreSQL is left to the server's own backups (or `python -m bot backup`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.backup import backup, backup_name, backup_time, backups_in, rotate
from storage.database import Database

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
CHECK_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class BackupPlan:
    folder: Path
    keep: int  # 0: no automatic backups


async def backup_if_due(db: Database, plan: BackupPlan, now: datetime) -> Path | None:
    """Back up a SQLite database when the newest backup is a day old (or none exists), then
    keep the newest `plan.keep`; returns the new file, or None when none was due."""
    if not db.is_sqlite or plan.keep <= 0:
        return None
    found = backups_in(plan.folder)
    newest = backup_time(found[-1]) if found else None
    if newest is not None and now - newest < DAY:
        return None
    made = await backup(db, plan.folder / backup_name(now))
    removed = rotate(plan.folder, plan.keep)
    log.info("backed up the database to %s (%d old backup(s) removed)", made, len(removed))
    return made


def register_backups(
    scheduler: AsyncIOScheduler, db: Database, plan: BackupPlan, clock: Callable[[], datetime]
) -> None:
    if not db.is_sqlite or plan.keep <= 0:
        return

    async def tick() -> None:
        try:
            await backup_if_due(db, plan, clock())
        except Exception:  # a full disk must not stop the scans; the next check tries again
            log.exception("the daily backup failed")

    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=CHECK_EVERY.total_seconds()),
        id="backup",
        name="backup",
        replace_existing=True,
        next_run_time=datetime.now(UTC),  # at start-up: catch up a backup missed while off
    )
