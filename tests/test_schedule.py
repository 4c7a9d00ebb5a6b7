"""Working hours, days off, blocks and free slots; /hours in chat, with the wrong things typed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.bookings import BookingService
from services.catalogue import CatalogueService
from services.errors import InputError
from services.parsing import parse_weekday
from services.schedule import (
    HOURS_KEY,
    ScheduleService,
    Week,
    free_slots,
    local_bounds,
    nearest_slots,
    parse_day_hours,
)
from storage.database import Database
from tests.conftest import FakeClock, RunningBot

MOSCOW = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = MOSCOW) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def clock_times(slots: list[datetime], zone: ZoneInfo = MOSCOW) -> list[str]:
    return [f"{slot.astimezone(zone):%H:%M}" for slot in slots]


def half_hours(first: str, last: str) -> list[str]:
    """Every half hour from `first` to `last` inclusive, as "HH:MM"."""
    minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (first, last)]
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(minutes[0], minutes[1] + 1, 30)]


async def day_slots(
    db: Database, day: date, now: datetime, minutes: int = 60, zone: ZoneInfo = MOSCOW
) -> list[datetime]:
    start, end = local_bounds(day, zone)
    return await free_slots(db, duration_minutes=minutes, zone=zone, start=start, end=end, now=now)


async def add_customer(db: Database, telegram_id: int, now: datetime) -> int:
    async with db.transaction() as repos:
        row = await repos.customers.add(
            telegram_id=telegram_id, name=f"C{telegram_id}", registered_at=now, created_at=now
        )
        return row.id


# --- free slots ----------------------------------------------------------------------------


async def test_default_hours_monday_to_saturday_10_to_19(db: Database, clock: FakeClock) -> None:
    assert clock_times(await day_slots(db, THURSDAY, clock.now)) == half_hours("10:00", "18:00")
    assert await day_slots(db, date(2026, 11, 29), clock.now) == []  # Sunday
    saturday = await day_slots(db, date(2026, 11, 28), clock.now)
    assert clock_times(saturday) == half_hours("10:00", "18:00")
    # Stored in UTC: 10:00 in Moscow is 07:00 UTC.
    assert saturday[0] == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


async def test_the_past_and_the_next_hour_are_not_offered(db: Database, clock: FakeClock) -> None:
    today = clock.now.astimezone(MOSCOW).date()  # 12:00 local now
    assert clock_times(await day_slots(db, today, clock.now)) == half_hours("13:00", "18:00")
    clock.advance(minutes=1)  # 12:01: 13:00 is less than an hour away
    assert clock_times(await day_slots(db, today, clock.now))[0] == "13:30"
    assert await day_slots(db, date(2026, 11, 24), clock.now) == []  # yesterday


async def test_custom_hours_and_a_day_made_off(db: Database, clock: FakeClock) -> None:
    schedule = ScheduleService(db, MOSCOW)
    await schedule.set_day(6, "12:00-15:00")  # open on Sunday
    await schedule.set_day(3, "off")  # Thursday off
    sunday = await day_slots(db, date(2026, 11, 29), clock.now)
    assert clock_times(sunday) == half_hours("12:00", "14:00")
    assert await day_slots(db, THURSDAY, clock.now) == []
    week = await schedule.week()
    assert week.on(0) == (time(10), time(19)) and week.on(3) is None
    assert week.on(6) == (time(12), time(15))


async def test_a_day_off_and_a_blocked_interval(db: Database, clock: FakeClock) -> None:
    schedule = ScheduleService(db, MOSCOW)
    off = await schedule.add_day_off("2026-11-27", clock.now)
    assert await day_slots(db, date(2026, 11, 27), clock.now) == []
    await schedule.add_block("26.11", "14:00-16:00", clock.now)
    expected = [t for t in half_hours("10:00", "18:00") if t not in half_hours("13:30", "15:30")]
    assert clock_times(await day_slots(db, THURSDAY, clock.now)) == expected
    assert [b.id for b in await schedule.upcoming_blocks(clock.now)] == [off.id + 1, off.id]
    await schedule.remove_block(str(off.id))
    assert len(await day_slots(db, date(2026, 11, 27), clock.now)) == 17


async def test_existing_bookings_take_their_cells(db: Database, clock: FakeClock) -> None:
    catalogue = CatalogueService(db)
    long = await catalogue.add(
        name="Long", price=100, cycle_days=None, duration_minutes=90, now=clock.now
    )
    await add_customer(db, 42, clock.now)
    await BookingService(db, MOSCOW).book(
        telegram_id=42, service_id=long.id, starts_at=local(THURSDAY, 11), now=clock.now
    )
    taken = half_hours("10:30", "12:00")  # 60-minute slots overlapping 11:00–12:30
    expected = [t for t in half_hours("10:00", "18:00") if t not in taken]
    assert clock_times(await day_slots(db, THURSDAY, clock.now)) == expected


async def test_durations_that_do_not_fit_before_closing(db: Database, clock: FakeClock) -> None:
    assert clock_times(await day_slots(db, THURSDAY, clock.now, 120))[-1] == "17:00"
    # 45 minutes is three cells: 18:00–18:45 fits, 18:30 would run past 19:00.
    assert clock_times(await day_slots(db, THURSDAY, clock.now, 45))[-1] == "18:00"
    # 50 minutes rounds up to 60.
    assert clock_times(await day_slots(db, THURSDAY, clock.now, 50))[-1] == "18:00"
    assert clock_times(await day_slots(db, THURSDAY, clock.now, 540)) == ["10:00"]
    assert await day_slots(db, THURSDAY, clock.now, 600) == []


async def test_time_zones_are_the_shops(db: Database, clock: FakeClock) -> None:
    moscow = await day_slots(db, THURSDAY, clock.now, zone=MOSCOW)
    almaty = await day_slots(db, THURSDAY, clock.now, zone=ALMATY)
    assert moscow[0] == local(THURSDAY, 10, zone=MOSCOW)
    assert almaty[0] == local(THURSDAY, 10, zone=ALMATY)
    assert almaty[0] < moscow[0]  # Almaty is east of Moscow: its 10:00 comes first
    assert clock_times(almaty, ALMATY) == half_hours("10:00", "18:00")


async def test_a_daylight_saving_change_keeps_local_hours(db: Database) -> None:
    now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    start = local(date(2026, 10, 24), 0, zone=BERLIN)  # Saturday, summer time (UTC+2)
    end = local(date(2026, 10, 27), 0, zone=BERLIN)  # over Sunday 25th, winter time after
    slots = await free_slots(db, duration_minutes=60, zone=BERLIN, start=start, end=end, now=now)
    firsts = sorted({s for s in slots if f"{s.astimezone(BERLIN):%H:%M}" == "10:00"})
    assert firsts == [
        datetime(2026, 10, 24, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 9, 0, tzinfo=UTC),
    ]
    assert len(slots) == 34  # two working days (Sunday is off), 17 slots each


async def test_nearest_slots_around_a_moment(db: Database, clock: FakeClock) -> None:
    item = await CatalogueService(db).add(
        name="Cut", price=100, cycle_days=30, duration_minutes=60, now=clock.now
    )
    around = local(THURSDAY, 14)
    found = await nearest_slots(
        db, service_id=item.id, around=around, now=clock.now, zone=MOSCOW, count=4
    )
    assert clock_times(found) == ["13:00", "13:30", "14:00", "14:30"]
    # Around Sunday (a day off) the nearest are Saturday evening and Monday morning.
    sunday = local(date(2026, 11, 29), 14)
    found = await nearest_slots(
        db, service_id=item.id, around=sunday, now=clock.now, zone=MOSCOW, count=2
    )
    assert found == [local(date(2026, 11, 28), 18), local(date(2026, 11, 30), 10)]
    assert await nearest_slots(db, service_id=999, around=around, now=clock.now, zone=MOSCOW) == []


async def test_broken_stored_hours_fall_back_to_the_default(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as repos:
        await repos.settings.put(HOURS_KEY, "{not json")
    assert await ScheduleService(db, MOSCOW).week() == Week.default()
    assert len(await day_slots(db, THURSDAY, clock.now)) == 17


# --- what the owner types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("25:00-26:00", "error-hours-format"),
        ("10:61-19:00", "error-hours-format"),
        ("19:00-10:00", "error-hours-order"),
        ("10:00-10:00", "error-hours-order"),
        ("someday", "error-hours-format"),
        ("", "error-hours-format"),
        ("ten-seven", "error-hours-format"),
        ("9" * 4000, "error-hours-format"),
        ("10:00-19:00-" + "1" * 4000, "error-hours-format"),
    ],
)
def test_bad_hours_are_refused(typed: str, error: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_day_hours(typed)
    assert raised.value.code == error


def test_hours_and_weekdays_people_type() -> None:
    assert parse_day_hours("10-19") == (time(10), time(19))
    assert parse_day_hours(" 9.30 – 18.00 ") == (time(9, 30), time(18))
    assert parse_day_hours("Выходной") is None
    assert [parse_weekday(w) for w in ("mon", "Вс", "friday", "ср.")] == [0, 6, 4, 2]
    for bad in ("someday", "", "8", "x" * 4000):
        with pytest.raises(InputError):
            parse_weekday(bad)


# --- /hours in chat ------------------------------------------------------------------------


async def stored_schedule(app: RunningBot) -> tuple[str | None, int]:
    async with app.db.reading() as repos:
        hours = (await repos.settings.all()).get(HOURS_KEY)
        blocks = await repos.bookings.blocks_overlapping(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
    return hours, len(blocks)


async def test_hours_shows_the_week_and_changes_it(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/hours")
    text = owner.last_text or ""
    assert "Mon: 10:00–19:00" in text and "Sun: day off" in text
    await owner.send("/hours sun 11:00-15:00")
    assert "Sun: 11:00–15:00" in (owner.last_text or "")
    await owner.send("/hours off 31.12.2026")
    assert "31.12.2026 — day off" in (owner.last_text or "")
    await owner.send("/hours block 2026-12-01 14:00-16:00")
    assert "01.12.2026 14:00–16:00" in (owner.last_text or "")
    await owner.send("/hours")
    assert "#2 01.12.2026 14:00–16:00" in (owner.last_text or "")
    await owner.send("/hours unblock 2")
    assert "Removed" in (owner.last_text or "")
    assert (await stored_schedule(app))[1] == 1


async def test_hours_guided_by_weekday_button(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/hours")
    await owner.click("Tue")
    assert "Tuesday" in (owner.last_text or "")
    for typed, expected in [
        ("25:00-26:00", "I need hours like"),
        ("19:00-10:00", "after opening"),
        ("someday", "I need hours like"),
        ("x" * 4000, "I need hours like"),
    ]:
        await owner.send(typed)
        assert expected in (owner.last_text or ""), typed
    await owner.share_contact("79990000000")  # not text at all
    assert await stored_schedule(app) == (None, 0)
    await owner.send("off")  # still waiting for Tuesday: a good answer goes through
    assert "Tue: day off" in (owner.last_text or "")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/hours mon 25:00-26:00", "I need hours like"),
        ("/hours mon 19:00-10:00", "after opening"),
        ("/hours someday 10:00-19:00", "I don't know that weekday"),
        ("/hours mon", "Write it like this"),
        ("/hours mon " + "1" * 4000, "Write it like this"),
        ("/hours " + "x" * 4000, "Write it like this"),
        ("/hours off", "Write it like this"),
        ("/hours off someday", "I need a date"),
        ("/hours off 2026-02-30", "no such date"),
        ("/hours off 2020-01-01", "already passed"),
        ("/hours off 2030-01-01", "more than a year"),
        ("/hours block 2026-12-01", "Write it like this"),
        ("/hours block 2026-12-01 25:00-26:00", "I need hours like"),
        ("/hours block 2026-12-01 16:00-14:00", "after opening"),
        ("/hours unblock", "Write it like this"),
        ("/hours unblock abc", "Write it like this"),
        ("/hours unblock 99", "There is no blocked time #99"),
    ],
)
async def test_hours_bad_input_changes_nothing(
    app: RunningBot, command: str, expected: str
) -> None:
    replies = await app.owner.send(command)
    assert expected in replies[-1]["text"]
    assert len(replies[-1]["text"]) <= 4096
    assert await stored_schedule(app) == (None, 0)
