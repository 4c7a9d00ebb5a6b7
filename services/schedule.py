"""The master's working schedule: weekly hours, days off, blocked time, and the free slots left.

Free slots = working hours − bookings − blocks − the past, in the shop's time zone. Slot starts
lie on a 30-minute grid from the day's opening; a slot is as long as the service, counted in
15-minute cells (the unit `booking_cells` locks).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.errors import InputError
from services.parsing import parse_day, parse_time_range
from storage.database import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)

HOURS_KEY = "hours"
CELL = timedelta(minutes=15)
GRID = timedelta(minutes=30)
LEAD = timedelta(hours=1)  # nobody books a slot that starts in less than this
SEARCH_DAYS = 14

DayHours = tuple[time, time]
DEFAULT_DAY: DayHours = (time(10, 0), time(19, 0))

_OFF_WORDS = frozenset({"off", "-", "closed", "выходной", "нет", "закрыто"})


@dataclass(frozen=True, slots=True)
class Week:
    """Working hours per weekday, Monday = 0; None is a day off."""

    days: tuple[DayHours | None, ...]

    def on(self, weekday: int) -> DayHours | None:
        return self.days[weekday]

    @classmethod
    def default(cls) -> Week:
        return cls(tuple(DEFAULT_DAY if weekday < 6 else None for weekday in range(7)))

    def with_day(self, weekday: int, hours: DayHours | None) -> Week:
        days = list(self.days)
        days[weekday] = hours
        return Week(tuple(days))

    def encode(self) -> str:
        data = {
            str(weekday): [hours[0].strftime("%H:%M"), hours[1].strftime("%H:%M")]
            for weekday, hours in enumerate(self.days)
            if hours is not None
        }
        return json.dumps(data, sort_keys=True)

    @classmethod
    def decode(cls, raw: str | None) -> Week:
        if raw is None:
            return cls.default()
        try:
            data = json.loads(raw)
            days: list[DayHours | None] = [None] * 7
            for key, (opens, closes) in data.items():
                hours = (time.fromisoformat(opens), time.fromisoformat(closes))
                if not 0 <= int(key) <= 6 or hours[1] <= hours[0]:
                    raise ValueError(key)
                days[int(key)] = hours
            return cls(tuple(days))
        except (ValueError, TypeError, AttributeError):
            # Only this module writes the key; a damaged value should not stop bookings.
            log.warning("shop setting %r is not valid working hours: %r", HOURS_KEY, raw)
            return cls.default()


@dataclass(frozen=True, slots=True)
class BlockItem:
    id: int
    starts_at: datetime
    ends_at: datetime
    note: str | None


# --- what the owner types ------------------------------------------------------------------


def parse_interval(text: str) -> DayHours:
    """Hours like 10:00-19:00 (also 10-19, 10.00–19.00): opening before closing, same day."""
    return parse_time_range(text, error="error-hours-format", order_error="error-hours-order")


def parse_day_hours(text: str) -> DayHours | None:
    """Working hours of one weekday, or None for "off"."""
    if text.strip().casefold() in _OFF_WORDS:
        return None
    return parse_interval(text)


def parse_future_day(text: str, *, today: date) -> date:
    """A day for a day off or a block: today or later, within a year."""
    day = parse_day(text, today=today)
    if day < today:
        raise InputError("error-hours-past-day")
    if day > today + timedelta(days=366):
        raise InputError("error-hours-far-day")
    return day


# --- time arithmetic -----------------------------------------------------------------------


def local_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar day (23 or 25 hours long on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def cell_count(duration_minutes: int) -> int:
    return max(1, -(-duration_minutes // 15))


def _floor_cell(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def cells_of(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The 15-minute UTC cells that [starts_at, ends_at) touches."""
    cells = []
    cell = _floor_cell(starts_at)
    while cell < ends_at:
        cells.append(cell)
        cell += CELL
    return cells


def slot_end(starts_at: datetime, duration_minutes: int) -> datetime:
    return starts_at + cell_count(duration_minutes) * CELL


def _candidates(week: Week, day: date, zone: ZoneInfo, duration_minutes: int) -> list[datetime]:
    """Slot starts (UTC) of one local day that fit inside its working hours."""
    hours = week.on(day.weekday())
    if hours is None:
        return []
    # Arithmetic in UTC: aware datetimes in one ZoneInfo add as wall clock, wrong on DST days.
    opens = datetime.combine(day, hours[0], tzinfo=zone).astimezone(UTC)
    closes = datetime.combine(day, hours[1], tzinfo=zone).astimezone(UTC)
    length = cell_count(duration_minutes) * CELL
    found = []
    start = opens
    while start + length <= closes:
        found.append(start)
        start += GRID
    return found


def _overlaps(start: datetime, end: datetime, blocks: Iterable[tuple[datetime, datetime]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in blocks)


async def _free_in(
    repos: Repositories,
    *,
    duration_minutes: int,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    now: datetime,
    ignore_booking: int | None = None,
) -> list[datetime]:
    week = Week.decode((await repos.settings.all()).get(HOURS_KEY))
    earliest = max(start, now + LEAD)
    if earliest >= end:
        return []
    length = cell_count(duration_minutes) * CELL
    blocks = [
        (b.starts_at, b.ends_at)
        for b in await repos.bookings.blocks_overlapping(earliest, end + length)
    ]
    taken = await repos.bookings.taken_cells(_floor_cell(earliest), end + length)
    if ignore_booking is not None:
        taken -= set(await _cells_of_booking(repos, ignore_booking))
    found = []
    day = earliest.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        for slot in _candidates(week, day, zone, duration_minutes):
            if not earliest <= slot < end:
                continue
            slot_stop = slot + length
            if _overlaps(slot, slot_stop, blocks):
                continue
            if any(cell in taken for cell in cells_of(slot, slot_stop)):
                continue
            found.append(slot)
        day += timedelta(days=1)
    return found


async def _cells_of_booking(repos: Repositories, booking_id: int) -> list[datetime]:
    booking = await repos.bookings.get(booking_id)
    if booking is None:
        return []
    return cells_of(booking.starts_at, booking.ends_at)


async def free_slots(
    db: Database,
    *,
    duration_minutes: int,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    now: datetime,
    ignore_booking: int | None = None,
) -> list[datetime]:
    """Free slot starts (UTC, in time order) in [start, end) for a service of this length;
    `ignore_booking`'s own time counts as free (where that booking may move)."""
    async with db.reading() as repos:
        return await _free_in(
            repos, duration_minutes=duration_minutes, zone=zone, start=start, end=end, now=now,
            ignore_booking=ignore_booking,
        )  # fmt: skip


async def nearest_slots(
    db: Database,
    *,
    service_id: int,
    around: datetime,
    now: datetime,
    zone: ZoneInfo,
    count: int = 6,
) -> list[datetime]:
    """The `count` free slots nearest to `around` (up to two weeks either side), in time order."""
    async with db.reading() as repos:
        service = await repos.catalogue.get(service_id)
        if service is None or service.archived:
            return []
        window = timedelta(days=SEARCH_DAYS)
        found = await _free_in(
            repos,
            duration_minutes=service.duration_minutes,
            zone=zone,
            start=around - window,
            end=around + window,
            now=now,
        )
    nearest = sorted(found, key=lambda slot: (abs(slot - around), slot))[:count]
    return sorted(nearest)


async def slot_is_free(
    repos: Repositories,
    *,
    starts_at: datetime,
    duration_minutes: int,
    zone: ZoneInfo,
    now: datetime,
    ignore_booking: int | None = None,
) -> bool:
    """Whether `starts_at` is one of the free slots (grid, hours, blocks, cells, the past).

    The cells' primary key is what really settles a race; this catches stale buttons.
    """
    found = await _free_in(
        repos,
        duration_minutes=duration_minutes,
        zone=zone,
        start=starts_at,
        end=starts_at + timedelta(minutes=1),
        now=now,
        ignore_booking=ignore_booking,
    )
    return found == [starts_at]


def group_by_day(slots: Sequence[datetime], zone: ZoneInfo) -> dict[date, list[datetime]]:
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        days.setdefault(slot.astimezone(zone).date(), []).append(slot)
    return days


# --- the owner's side ----------------------------------------------------------------------


class ScheduleService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()

    async def free_slots(
        self,
        *,
        duration_minutes: int,
        start: datetime,
        end: datetime,
        now: datetime,
        ignore_booking: int | None = None,
    ) -> list[datetime]:
        """Free slot starts in [start, end) for a service of this length (see free_slots)."""
        return await free_slots(
            self._db, duration_minutes=duration_minutes, zone=self._zone, start=start, end=end,
            now=now, ignore_booking=ignore_booking,
        )  # fmt: skip

    async def nearest_slots(
        self, *, service_id: int, around: datetime, now: datetime
    ) -> list[datetime]:
        """The free slots nearest to `around` (see nearest_slots)."""
        return await nearest_slots(
            self._db, service_id=service_id, around=around, now=now, zone=self._zone
        )

    async def week(self) -> Week:
        async with self._db.reading() as repos:
            return Week.decode((await repos.settings.all()).get(HOURS_KEY))

    async def set_day(self, weekday: int, text: str) -> Week:
        """Set one weekday's hours from "10:00-19:00" or "off"."""
        hours = parse_day_hours(text)
        async with self._db.transaction() as repos:
            week = Week.decode((await repos.settings.all()).get(HOURS_KEY)).with_day(weekday, hours)
            await repos.settings.put(HOURS_KEY, week.encode())
            return week

    async def add_day_off(self, day_text: str, now: datetime) -> BlockItem:
        day = parse_future_day(day_text, today=self.today(now))
        start, end = local_bounds(day, self._zone)
        return await self._block(start, end, "off", now)

    async def add_block(self, day_text: str, interval_text: str, now: datetime) -> BlockItem:
        day = parse_future_day(day_text, today=self.today(now))
        opens, closes = parse_interval(interval_text)
        start = datetime.combine(day, opens, tzinfo=self._zone).astimezone(UTC)
        end = datetime.combine(day, closes, tzinfo=self._zone).astimezone(UTC)
        if end <= now:
            raise InputError("error-hours-past-day")
        return await self._block(start, end, None, now)

    async def _block(
        self, start: datetime, end: datetime, note: str | None, now: datetime
    ) -> BlockItem:
        async with self._db.transaction() as repos:
            row = await repos.bookings.add_block(
                starts_at=start, ends_at=end, note=note, created_at=now
            )
            return BlockItem(row.id, row.starts_at, row.ends_at, row.note)

    async def remove_block(self, block_text: str) -> BlockItem:
        value = block_text.strip().lstrip("#")
        if not value.isdigit() or len(value) > 9:
            raise InputError("error-hours-usage")
        async with self._db.transaction() as repos:
            row = await repos.bookings.get_block(int(value))
            if row is None:
                raise InputError("error-block-unknown", id=value)
            item = BlockItem(row.id, row.starts_at, row.ends_at, row.note)
            await repos.bookings.delete_block(row)
            return item

    async def upcoming_blocks(self, now: datetime) -> list[BlockItem]:
        async with self._db.reading() as repos:
            rows = await repos.bookings.blocks_overlapping(now, now + timedelta(days=3660))
            return [BlockItem(r.id, r.starts_at, r.ends_at, r.note) for r in rows]
