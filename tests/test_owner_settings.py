"""The owner's knobs and birthday corrections in chat; promo codes at the counter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from sqlalchemy import select

from bot.shop_profile import ShopProfileMiddleware
from services.birthdays import queue_birthdays
from services.shop import ShopProfile
from storage.models import OutboxMessage, Purchase
from tests.conftest import RunningBot


async def test_settings_by_buttons_and_one_line(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/settings")
    assert "Rebooking reminder, days before due: 4" in (owner.last_text or "")
    await owner.click("Rebooking reminder, days before due")
    await owner.send("20")
    assert "from 1 to 14" in (owner.last_text or "")
    await owner.send("6")
    assert "Saved" in (owner.last_text or "")
    await owner.send("/settings window 09:00-21:30")
    assert "09:00-21:30" in (owner.last_text or "")
    for command, expected in [
        ("/settings window 21:00-09:00", "10:00-20:00"),
        ("/settings currency doubloons", "RUB, USD"),
        ("/settings margin_percent", "Write it like this"),
        ("/settings colour blue", "No such setting"),
        ("/settings lead_days " + "9" * 4000, "from 1 to 14"),
    ]:
        await owner.send(command)
        assert expected in (owner.last_text or ""), command
    profile = await app.dp["shop"].profile()
    assert (profile.lead_days, f"{profile.window_start:%H:%M}") == (6, "09:00")


async def test_a_changed_setting_shows_at_once_and_in_the_next_update(app: RunningBot) -> None:
    """The update's profile is read before the change: the reply shows what the write
    returned, the next update reads the new value (receipts in the new currency)."""
    owner = app.owner
    await owner.send("/settings currency usd")
    assert "USD" in (owner.last_text or "")
    await owner.send("/settings")
    assert "USD" in (owner.last_text or "")
    await owner.send("/sale Anna 12.50")  # nobody yet: the offer names the amount
    assert "$12.50" in (owner.last_text or "")
    await owner.click("Add customer and log the sale")
    assert "$12.50" in (owner.last_text or "")  # the receipt carries the currency


async def test_the_profile_is_read_for_conversations_only() -> None:
    """One read for a private message or any button; none for channel posts, join requests
    or group chatter (no handler there shows money)."""
    reads = 0

    class CountingShop:
        async def profile(self) -> ShopProfile:
            nonlocal reads
            reads += 1
            return ShopProfile(currency="EUR")

    middleware = ShopProfileMiddleware(CountingShop())  # type: ignore[arg-type]
    seen: list[ShopProfile | None] = []

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        seen.append(data.get("shop_profile"))

    moment = datetime(2026, 11, 25, tzinfo=UTC)
    person = User(id=42, is_bot=False, first_name="Anna")

    def message(chat: Chat) -> Message:
        return Message(message_id=1, date=moment, chat=chat, from_user=person, text="hi")

    private, group = Chat(id=42, type="private"), Chat(id=-5, type="group")
    channel = Chat(id=-100, type="channel")
    press = CallbackQuery(id="1", from_user=person, chat_instance="c", data="x")
    for update, chat in [
        (Update(update_id=1, message=message(private)), private),
        (Update(update_id=2, message=message(group)), group),
        (Update(update_id=3, channel_post=message(channel)), channel),
        (Update(update_id=4, callback_query=press), None),
    ]:
        await middleware(handler, update, {"event_chat": chat})
    assert reads == 2
    assert [p.currency if p else None for p in seen] == ["EUR", None, None, "EUR"]


async def test_customer_sets_a_birthday_once_then_only_the_owner(app: RunningBot) -> None:
    anna = app.user(42, first_name="Anna", language_code="en")
    await anna.send("/start")
    await anna.send("Skip")
    await anna.send("05.03")
    await anna.click("Yes, send me offers")
    await app.owner.send("/birthday #1 31.02")
    assert "no such date" in (app.owner.last_text or "")
    await app.owner.send("/birthday #1")
    assert "/birthday #12 05.03" in (app.owner.last_text or "")
    await app.owner.send("/birthday #1 06.03.1990")
    assert "06.03.1990" in (app.owner.last_text or "")
    async with app.db.reading() as repos:
        row = await repos.customers.get(1)
    assert row is not None and (row.birth_day, row.birth_month, row.birth_year) == (6, 3, 1990)


async def test_guided_sale_offers_the_birthday_code(app: RunningBot) -> None:
    anna = app.user(42, first_name="Anna", language_code="en")
    await anna.send("/start")
    await anna.send("Skip")
    await anna.send("Skip")
    await anna.click("Yes, send me offers")
    customers = app.dp["customers"]
    long_ago = app.clock.now - timedelta(days=100)
    async with app.db.transaction() as repos:
        row = await repos.customers.get(1)
        assert row is not None
        row.birth_day, row.birth_month, row.birthday_set_at = 28, 11, long_ago
    assert customers is not None
    assert await queue_birthdays(app.db, app.settings.zone, app.clock.now) == 1
    async with app.db.reading() as repos:
        # The owners' new-customer notice is an outbox row too: take the greeting.
        greeting = (
            await repos.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "birthday")
            )
        ).one()
    code = json.loads(greeting.payload)["code"]

    owner = app.owner
    await owner.send("/sale")
    await owner.send("#1")
    await owner.send("2000")
    assert code in (owner.last_text or "")
    await owner.click(f"Apply {code}")
    await owner.click("Today")
    assert f"Promo code {code}: −300" in (owner.last_text or "")
    async with app.db.reading() as repos:
        purchase = (await repos.session.scalars(select(Purchase))).one()
    assert (purchase.amount, purchase.discount) == (170000, 30000)
    # The code is spent: the next sale does not offer it, and typing it is refused.
    await owner.send("/sale")
    await owner.send("#1")
    await owner.send("1000")
    assert "points" in (owner.last_text or "")  # no code offered; the cashback points are

    await owner.send("/cancel")
    await owner.send(f"/sale #1 1000 {code}")
    assert "already been used" in (owner.last_text or "")
