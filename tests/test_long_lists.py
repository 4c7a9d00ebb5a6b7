"""Owner lists of a shop that has grown (500 of everything) fit Telegram's limits: every
message is at most 4,096 characters, keyboards stay small, and nothing is left out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import create_bot, create_dispatcher
from services.growth import GrowthService
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import (
    Booking,
    ChannelPost,
    Customer,
    InviteLink,
    OutboxMessage,
    Purchase,
    Service,
    ShopSetting,
    TimeBlock,
)
from tests.conftest import FakeClock, RunningBot, make_settings
from tests.fakes.telegram import Call, FakeTelegram
from ui.long_text import BUTTONS_PER_MESSAGE, TEXT_LIMIT, split_text, telegram_length

MANY = 500
TELEGRAM_LIMIT = 4096  # Bot API: sendMessage text, after entity parsing


def customer_name(i: int) -> str:
    return (f"Анна-Мария {i:03d} Константинопольская-Длиннофамильная " * 3)[:100].strip()


def source_name(i: int) -> str:
    return f"blogger_{i:03d}_" + "x" * 48  # 60 characters, the longest /cac accepts


def service_name(i: int) -> str:
    return (f"Услуга {i:03d}: маникюр с покрытием и дизайном " * 3)[:100].strip()


async def seed(app: RunningBot) -> None:
    """500 customers (long names, each from a source of their own, each with a sale and a
    booking today), 500 services, links, posts, blocked hours and per-source costs."""
    now = app.clock.now
    local_midnight = now.astimezone(app.settings.zone).replace(hour=0, minute=0)
    async with app.db.transaction() as repos:
        session = repos.session
        services = [
            Service(name=service_name(i), price=250000, cycle_days=21, created_at=now)
            for i in range(MANY)
        ]
        customers = [
            Customer(
                name=customer_name(i),
                phone=f"+7916{i:07d}",
                source=source_name(i),
                created_at=now - timedelta(days=200),
                registered_at=now - timedelta(days=200),
            )
            for i in range(MANY)
        ]
        session.add_all([*services, *customers])
        await session.flush()
        for i, customer in enumerate(customers):
            for days in (120, 60 + i % 30):
                session.add(
                    Purchase(
                        customer_id=customer.id,
                        service_id=services[i].id,
                        amount=100000 + i * 100,
                        purchased_at=now - timedelta(days=days),
                        created_at=now - timedelta(days=days, minutes=-i),
                    )
                )
            start = local_midnight + timedelta(minutes=2 * i)
            session.add(
                Booking(
                    customer_id=customer.id,
                    service_id=services[0].id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=2),
                    status="booked",
                    source="owner",
                    created_at=now,
                )
            )
            session.add(
                InviteLink(
                    name=f"link_{i:03d}_" + "y" * 23,
                    url=f"https://t.me/+{i:03d}{'z' * 40}",
                    created_at=now,
                )
            )
            session.add(ShopSetting(key=f"cac:{source_name(i)}", value="50000"))
            block_start = now + timedelta(days=2 + i)
            session.add(
                TimeBlock(
                    starts_at=block_start,
                    ends_at=block_start + timedelta(hours=1),
                    note=None,
                    created_at=now,
                )
            )
        posts = [
            ChannelPost(
                text=f"Пост {i:03d}: " + "новая коллекция " * 20,
                publish_at=now + timedelta(days=1, minutes=i),
                created_at=now,
            )
            for i in range(MANY)
        ]
        session.add_all(posts)
        await session.flush()
        session.add_all(
            OutboxMessage(
                dedup_key=f"post:{post.id}",
                kind="channel_post",
                chat_id=-100123,
                payload=json.dumps({"post_id": post.id}),
                status="pending",
                not_before=post.publish_at,
                created_at=now,
            )
            for post in posts
        )


def _buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _outgoing(app: RunningBot, since: int) -> list[Call]:
    calls = app.fake.calls[since:]
    return [c for c in calls if c.method.lower() in {"sendmessage", "editmessagetext"}]


async def show(app: RunningBot, command: str) -> tuple[str, list[str]]:
    """Send a command; check every message it caused; their joined text and button texts."""
    mark = len(app.fake.calls)
    await app.owner.send(command)
    return _checked(app, mark, command)


def _checked(app: RunningBot, mark: int, what: str) -> tuple[str, list[str]]:
    calls = _outgoing(app, mark)
    assert calls, f"{what}: no answer"
    for call in calls:
        text = call.text or ""
        assert telegram_length(text) <= TELEGRAM_LIMIT, (what, telegram_length(text))
        assert call.ok, (what, call.error)
        assert len(_buttons(call)) <= BUTTONS_PER_MESSAGE, (what, len(_buttons(call)))
    texts = "\n".join(call.text or "" for call in calls)
    buttons = [str(b["text"]) for call in calls for b in _buttons(call)]
    return texts, buttons


@pytest.fixture
async def big_shop(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The production bot with a fast limiter: a list split in 15 messages would otherwise
    take 15 seconds to reach one chat (Telegram's pace of about one message a second)."""
    settings = make_settings(fake, sqlite_db)
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        app = RunningBot(fake, dp, bot, sqlite_db, settings, clock)
        await seed(app)
        yield app


async def test_every_owner_list_of_a_big_shop_fits_telegram(big_shop: RunningBot) -> None:
    app = big_shop
    reports = await GrowthService(app.db).sources()
    assert len(reports) >= MANY

    text, _ = await show(app, "/sources")
    for report in reports:  # every source the report has, the last one too
        assert report.source in text

    text, buttons = await show(app, "/services")
    assert len(buttons) == MANY + 1  # one per service and "add"
    assert any(b.startswith(service_name(MANY - 1)[:50]) for b in buttons)

    text, buttons = await show(app, "/today")
    for i in (0, MANY // 2, MANY - 1):
        assert customer_name(i)[:60] in text
    assert sum(1 for b in buttons if b.endswith(" done")) == MANY

    text, buttons = await show(app, "/link")
    assert f"link_{MANY - 1:03d}_" in text

    text, buttons = await show(app, "/posts")
    assert f"Пост {MANY - 1:03d}" in text
    assert len(buttons) == MANY

    text, _ = await show(app, "/hours")
    assert text.count("#") >= MANY  # every blocked hour is listed with its id

    text, _ = await show(app, "/cac")
    assert source_name(MANY - 1) in text

    text, _ = await show(app, "/sales")
    for line in await app.dp["sales"].recent():
        assert f"#{line.purchase_id} " in text

    mark = len(app.fake.calls)
    await app.owner.send("/stats")
    stats_text, _ = _checked(app, mark, "/stats")
    assert source_name(MANY - 1) in stats_text
    screen = next(
        m for m in reversed(app.owner.messages) if "ABC" in str(m.get("reply_markup", ""))
    )
    for view in ("ABC", "At risk", "Cohorts", "Predicted value", "Campaigns"):
        mark = len(app.fake.calls)
        await app.owner.click(view, message=screen)
        _checked(app, mark, view)


def test_split_text_keeps_lines_whole_and_everything_in() -> None:
    lines = [f"{i:04d} " + "ж" * (i % 90) for i in range(3000)]
    text = "\n".join(lines)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(telegram_length(part) <= TEXT_LIMIT for part in parts)
    assert "\n".join(parts) == text  # split only at line ends, nothing lost or added


def test_split_text_counts_like_telegram_and_cuts_a_giant_line() -> None:
    emoji_line = "😀" * 3000  # 6,000 UTF-16 units: Telegram counts each of these twice
    words = " ".join(["слово"] * 2000)
    parts = split_text(emoji_line + "\n" + words)
    assert all(telegram_length(part) <= TEXT_LIMIT for part in parts)
    assert "".join(parts).count("😀") == 3000
    assert " ".join(parts).split().count("слово") == 2000
