"""The story the retention engine must tell, end to end through the fake Bot API server.

A nail master's client had extensions 17 days ago; the service's cycle is 21 days; 4 days
before the due date she gets "time to refresh?" with the nearest free slots as buttons; one tap
books; she gets a confirmation and, the day before, a reminder with confirm / reschedule /
cancel; the master is told at once and sees the day's bookings.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from scheduler.jobs import run_job
from tests.conftest import OWNER_ID, RunningBot
from tests.fakes.telegram import TelegramUser


async def next_message(user: TelegramUser, after: int, seconds: float = 10.0) -> dict[str, object]:
    """The first bot message in the user's chat beyond the first `after` ones."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(user.messages) <= after:
        if loop.time() > deadline:
            raise AssertionError(f"no new message for {user}; last: {user.last_text!r}")
        await asyncio.sleep(0.05)
    return user.messages[after]


async def test_nail_master_story(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/addservice Extensions; 3000; 21; 120")

    anna = app.user(42, first_name="Anna", language_code="en")
    await anna.send("/start")
    await anna.share_contact("79161234567")
    await anna.send("Skip")
    await anna.click("Yes, send me offers")

    # Extensions 17 days ago (today is Wed 25.11.2026, 12:00 in Moscow).
    await owner.send("/sale +79161234567 3000 Extensions 2026-11-08")
    assert "first purchase" in (owner.last_text or "")

    seen = len(anna.messages)
    assert await run_job("rebooking", app.db, app.settings.zone, app.clock()) == 1
    app.dp["delivery"].notify()
    reminder = await next_message(anna, seen)
    assert "time to refresh your Extensions" in str(reminder["text"])
    buttons = anna.inline_buttons(reminder)  # type: ignore[arg-type]
    slots = [b["text"] for b in buttons if b["text"] not in {"Another time", "Not now"}]
    assert 3 <= len(slots) <= 6
    assert {"Another time", "Not now"} <= {b["text"] for b in buttons}

    # One tap books the first slot; the master hears at once.
    owner_seen = len(owner.messages)
    await anna.click(slots[0], message=reminder)  # type: ignore[arg-type]
    assert "Booked: Extensions" in (anna.last_text or "")
    # Owner notices speak the language the owner last wrote in (English here).
    assert "New booking" in str((await next_message(owner, owner_seen))["text"])

    async with app.db.reading() as repos:
        [record] = await repos.bookings.upcoming_of(1, app.clock())
        booking = record.booking
        assert booking.outbox_id is not None
        outbox_row = await repos.outbox.get(booking.outbox_id)
    assert outbox_row is not None and outbox_row.reaction == "booked"
    starts = booking.starts_at.astimezone(app.settings.zone)

    # Nobody is nudged again who booked.
    assert await run_job("rebooking", app.db, app.settings.zone, app.clock()) == 0

    # The day before, at noon: a reminder with confirm / reschedule / cancel.
    day_before = datetime.combine(
        starts.date() - timedelta(days=1), time(12, 0), tzinfo=app.settings.zone
    ).astimezone(UTC)
    app.clock.now = day_before
    seen = len(anna.messages)
    assert await run_job("booking_reminders", app.db, app.settings.zone, app.clock()) == 1
    app.dp["delivery"].notify()
    day_before_reminder = await next_message(anna, seen)
    assert "Reminder: tomorrow" in str(day_before_reminder["text"])
    labels = {b["text"] for b in anna.inline_buttons(day_before_reminder)}  # type: ignore[arg-type]
    assert {"✅ I'll come", "🔁 Reschedule", "✖ Cancel"} <= labels
    await anna.click("✅ I'll come", message=day_before_reminder)  # type: ignore[arg-type]
    assert "See you" in (anna.last_text or "")

    # The master sees the day's bookings.
    await owner.send(f"/today {starts:%Y-%m-%d}")
    assert "Anna" in (owner.last_text or "") and f"{starts:%H:%M}" in (owner.last_text or "")
    assert owner.id == OWNER_ID


async def test_thank_you_then_a_low_rating_reaches_the_master(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/addservice Manicure; 2000; 21; 60")
    await owner.send("/addservice Cuticle oil; 500")
    bob = app.user(43, first_name="Bob", language_code="en")
    await bob.send("/start")
    await bob.share_contact("79160000043")
    await bob.send("Skip")
    await bob.click("Yes, send me offers")
    await owner.send("/sale +79160000043 500 Cuticle oil 2026-11-01")
    kate = app.user(44, first_name="Kate", language_code="en")
    await kate.send("/start")
    await kate.share_contact("79160000044")
    await kate.send("Skip")
    await kate.click("Yes, send me offers")
    await owner.send("/sale +79160000043 2000 Manicure 2026-11-01")

    seen = len(kate.messages)
    await owner.send("/sale +79160000044 2000 Manicure")
    thanks = await next_message(kate, seen)  # queued with the sale, delivered at once
    assert "Thank you, Kate" in str(thanks["text"])
    assert "Cuticle oil" in str(thanks["text"])  # what others who had a manicure bought
    assert "Your points: 100" in str(thanks["text"])

    app.clock.advance(hours=2)
    assert await run_job("feedback", app.db, app.settings.zone, app.clock()) == 0
    app.clock.advance(hours=1)
    assert await run_job("feedback", app.db, app.settings.zone, app.clock()) == 1
    app.dp["delivery"].notify()
    question = await next_message(kate, seen + 1)
    assert "How was your Manicure" in str(question["text"])
    owner_seen = len(owner.messages)
    await kate.click("⭐⭐", message=question)  # type: ignore[arg-type]
    assert "What went wrong" in (kate.last_text or "")
    at_once = await next_message(owner, owner_seen)  # told at once, before any reason
    assert "2/5" in str(at_once["text"])
    await kate.send("The gel chipped after two days")
    alert = await next_message(owner, owner_seen + 1)
    assert "2/5" in str(alert["text"]) and "The gel chipped" in str(alert["text"])
    assert kate.inline_buttons(kate.messages[seen + 1]) == []  # the stars are gone once rated
