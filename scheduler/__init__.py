"""APScheduler, configured for jobs that are plain functions of (database, now).

The retention scans (rebooking, birthdays, feedback, booking reminders) register here; the
foundation only builds and starts the scheduler.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def create_scheduler(zone: ZoneInfo) -> AsyncIOScheduler:
    # A memory job store: due-ness lives in our tables, so nothing is pickled or lost.
    # The default misfire_grace_time of 1 s would drop runs missed during downtime.
    return AsyncIOScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
