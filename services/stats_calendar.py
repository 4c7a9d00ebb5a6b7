"""The owner's calendar for the numbers: "as of" cutoffs, local days and local months.

A report is "as of" a cutoff (UTC): later purchases do not exist for it. The owner names a
day; its cutoff is the end of that day in the shop's time zone (or now, for today).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.errors import InputError

PERIOD_DAYS = 90
MONTHS_SHOWN = 12


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class StatsCalendar:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def cutoff_for(self, as_of: date | None, now: datetime) -> datetime:
        """The end of the local day `as_of` (UTC), or `now` for today and no date."""
        today = now.astimezone(self.zone).date()
        if as_of is None or as_of == today:
            return now
        if as_of > today:
            raise InputError("analytics-as-of-future", today=today.isoformat())
        return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=self.zone).astimezone(UTC)

    def local_day(self, cutoff: datetime) -> date:
        return (cutoff - timedelta(microseconds=1)).astimezone(self.zone).date()

    def month_bounds(self, cutoff: datetime, count: int) -> list[tuple[datetime, datetime]]:
        """The last `count` local months up to `cutoff` (the last one cut at the cutoff)."""
        first = add_months(month_start(self.local_day(cutoff)), -(count - 1))
        starts = [add_months(first, i) for i in range(count + 1)]
        utc = [datetime.combine(d, time(), tzinfo=self.zone).astimezone(UTC) for d in starts]
        return [(utc[i], min(utc[i + 1], cutoff)) for i in range(count)]

    def month_days(self, cutoff: datetime, count: int) -> list[date]:
        """The first days of the last `count` local months up to `cutoff`, oldest first."""
        first = add_months(month_start(self.local_day(cutoff)), -(count - 1))
        return [add_months(first, i) for i in range(count)]

    def utc_offset_seconds(self, moment: datetime) -> int:
        """The zone's offset at `moment` (SQLite has no time zone database)."""
        offset = self.zone.utcoffset(moment.replace(tzinfo=None))
        return int(offset.total_seconds()) if offset is not None else 0
