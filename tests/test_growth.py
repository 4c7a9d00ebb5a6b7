"""Growth end to end through the fake Bot API server: tracked channel links, promos with live
progress, referrals, loyalty points, channel posts, /stop and /forget."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.ratelimit import RateLimiter
from services.transfer import export_csv
from storage.database import Database
from storage.models import Customer, OutboxMessage
from tests.conftest import OWNER_ID, FakeClock, RunningBot, drained, make_settings, register
from tests.fakes.telegram import FakeTelegram

CHANNEL = -1001234567890


@pytest.fixture
async def shop(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The bot with the shop's channel set, and a fast limiter (the fake server has no limits)."""
    settings = make_settings(fake, sqlite_db, channel_id=str(CHANNEL))
    fake.add_chat(CHANNEL, type="channel", title="Nails by Anna")
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        yield RunningBot(fake, dp, bot, sqlite_db, settings, clock)


async def wait_until(predicate: object, seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def outbox(app: RunningBot, kind: str) -> list[OutboxMessage]:
    async with app.db.reading() as repos:
        rows = await repos.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return list(rows.all())


async def test_link_join_request_lead_start_sale_sources(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/link insta_ads")
    url = (owner.last_text or "").split(": ", 1)[1].split("\n")[0]
    assert url.startswith("https://t.me/+")
    [created] = shop.fake.calls_of("createChatInviteLink")
    assert created.params["creates_join_request"] is True
    assert created.params["name"] == "insta_ads"
    for bad, expected in [("/link two words", "1–32 Latin"), ("/link insta_ads", "already")]:
        await owner.send(bad)
        assert expected in (owner.last_text or "")

    # A subscriber asks to join through the link: approved, welcomed, stored as a lead.
    mark = len(shop.fake.calls)
    shop.fake.chat_join_request(
        CHANNEL,
        501,
        {
            "invite_link": url,
            "creator": shop.fake.bot_user,
            "creates_join_request": True,
            "is_primary": False,
            "is_revoked": False,
            "name": "insta_ads",
        },
        first_name="Lena",
        language_code="en",
    )
    await shop.fake.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 501, since=mark)
    assert shop.fake.calls_of("approveChatJoinRequest")[-1].params["user_id"] == 501
    [welcome] = shop.fake.sent_messages(501)
    assert "Welcome to the channel" in welcome["text"]
    button = welcome["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"].endswith("?start=insta_ads")
    # Someone joining without a tracked link is approved too, as source "channel".
    shop.fake.chat_join_request(CHANNEL, 502, None, first_name="Olga")
    await shop.fake.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 502)

    lena = await register(shop, 501, start="/start insta_ads")
    await owner.send("/sale #1 2500")
    await owner.send("/spend insta_ads 1000")
    await owner.send("/settings margin_percent 40")
    await owner.send("/sources")
    report = owner.last_text or ""
    line = next(row for row in report.splitlines() if row.startswith("insta_ads"))
    # subscribers · registered · buyers · revenue · spend · LTV:CAC (2500 × 0.4 / 1000)
    assert line.startswith("insta_ads: 1 · 1 · 1 · 2\u00a0500")
    assert line.endswith("1.00")
    assert any(row.startswith("Channel, no tracked link: 1 · 0 · 0") for row in report.splitlines())
    assert lena.id == 501


async def test_promo_to_500_with_5_blocked(shop: RunningBot) -> None:
    now = shop.clock.now
    async with shop.db.transaction() as repos:
        for i in range(500):
            await repos.customers.add(
                telegram_id=20_000 + i,
                name=f"C{i}",
                consent=True,
                registered_at=now,
                created_at=now,
            )
        await repos.customers.add(telegram_id=30_000, name="No", consent=False, created_at=now)
    for i in range(5):
        shop.fake.block(20_000 + i * 100)

    owner = shop.owner
    await owner.send("/promo")
    await owner.send("-20% on everything this weekend!")
    await owner.click("Everyone who agreed to offers")
    assert "500" in owner.messages[-3]["text"]  # the count, then the preview, then the question
    await owner.click("Send to 500")

    async def finished() -> bool:
        return "Promo done" in (owner.messages[-1].get("text") or "")

    await wait_until(finished, seconds=60)
    final = owner.messages[-1]["text"]
    assert "500 / 500" in final and "delivered 495" in final and "blocked the bot 5" in final
    sends = [
        c
        for c in shop.fake.calls_of("sendMessage")
        if c.ok and c.text and "weekend" in c.text and c.chat_id != OWNER_ID  # not the preview
    ]
    chats = [c.chat_id for c in sends]
    assert len(chats) == len(set(chats)) == 495  # once each
    assert 30_000 not in chats  # no consent, no promo
    async with shop.db.reading() as repos:
        blocked = await repos.session.scalars(
            select(Customer.telegram_id).where(Customer.blocked_at.is_not(None))
        )
        assert sorted(blocked.all()) == [20_000 + i * 100 for i in range(5)]
    assert len(shop.fake.edits) >= 1  # the progress message was edited, not re-sent


async def test_promo_bad_input(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/promo")
    await owner.send("x" * 4000)
    assert "at most 1024" in (owner.last_text or "")
    await owner.send("Hello")
    await owner.click("Not visited for N days")
    await owner.send("forever")
    assert "from 1 to 3650" in (owner.last_text or "")
    await owner.send("30")
    assert "Nobody in this segment" in (owner.last_text or "")
    assert await outbox(shop, "promo") == []


async def test_referral_credit_once_and_both_told(shop: RunningBot) -> None:
    anna = await register(shop, 601)
    await anna.send("/me")
    me = anna.last_text or ""
    link = next(word for word in me.split() if "?start=r_" in word)
    code = link.split("start=")[1]
    assert "Points: 0" in me

    friend = await register(shop, 602, start=f"/start {code}")
    await register(shop, 603)
    existing = shop.user(603, language_code="en")
    await existing.send(f"/start {code}")  # an existing customer earns nobody a bonus
    await anna.send(f"/start {code}")  # nor does one's own link

    owner = shop.owner
    await owner.send("/sale +79160000602 1000")  # the friend's first purchase
    await owner.send("/sale +79160000602 1000")  # a second one: no second bonus
    await owner.click("Yes, log another one")  # the same line twice is confirmed first
    await owner.send("/sale +79160000603 1000")

    async def told() -> bool:
        return any("first purchase: +300" in (m.get("text") or "") for m in anna.messages) and any(
            "recommendation" in (m.get("text") or "") for m in friend.messages
        )

    await wait_until(told)
    await anna.send("/me")
    assert "Points: 300" in (anna.last_text or "")
    assert "+300 for a friend you brought" in (anna.last_text or "")
    async with shop.db.reading() as repos:
        assert await repos.growth.balance(1) == 300
        assert await repos.growth.balance(2) == 100  # 5 % cashback on 2 × 1000


async def test_points_paid_at_the_counter_never_below_zero(shop: RunningBot) -> None:
    await register(shop, 701)
    owner = shop.owner
    await owner.send("/sale #1 2000")  # +100 points
    async with shop.db.reading() as repos:
        assert await repos.growth.balance(1) == 100
    services = shop.dp["sales"]
    from services.errors import InputError

    with pytest.raises(InputError):
        await services.log_sale(
            customer_id=1, amount=100000, service_id=None, day=None, now=shop.clock.now, points=101
        )
    receipt = await services.log_sale(
        customer_id=1, amount=100000, service_id=None, day=None, now=shop.clock.now, points=100
    )
    assert (receipt.amount, receipt.points_used) == (90000, 100)
    async with shop.db.reading() as repos:
        assert await repos.growth.balance(1) == 45  # 0 + 5 % of the 900 paid


async def test_channel_post_now_and_scheduled(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/post")
    await owner.send("New autumn colours are in!")
    await owner.click("Yes")
    await owner.click("Now")

    async def published() -> bool:
        return any("autumn" in (m.get("text") or "") for m in shop.fake.sent_messages(CHANNEL))

    await wait_until(published)
    post = shop.fake.sent_messages(CHANNEL)[-1]
    assert post["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=channel")

    await owner.send("/post")
    await owner.send("Winter sale tomorrow")
    await owner.click("No")
    await owner.send("2020-01-01 10:00")
    assert "has passed" in (owner.last_text or "")
    await owner.send("someday")
    assert "2026-12-01 18:30" in (owner.last_text or "")
    await owner.send("2026-11-26 18:30")
    assert "will be published 26.11.2026 18:30" in (owner.last_text or "")
    await owner.send("/posts")
    assert "#2" in (owner.last_text or "")
    await asyncio.sleep(0.5)
    assert len(shop.fake.sent_messages(CHANNEL)) == 1  # not before its time
    shop.clock.advance(days=1, hours=7)  # 26.11 16:00 UTC = 19:00 in Moscow
    shop.dp["delivery"].notify()

    async def second() -> bool:
        return len(shop.fake.sent_messages(CHANNEL)) == 2

    await wait_until(second)


async def test_cancel_a_scheduled_post(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/post")
    await owner.send("Maybe later")
    await owner.click("No")
    await owner.send("2026-11-27 12:00")
    await owner.send("/posts")
    await owner.click("✖ #1")
    assert "cancelled" in owner.alerts[-1]
    await owner.send("/posts")
    assert "No scheduled posts" in (owner.last_text or "")
    shop.clock.advance(days=3)
    shop.dp["delivery"].notify()
    await asyncio.sleep(0.5)
    assert shop.fake.sent_messages(CHANNEL) == []


async def test_stop_keeps_service_messages_and_resume(shop: RunningBot) -> None:
    anna = await register(shop, 801)
    await anna.send("/stop")
    assert "no more offers" in (anna.last_text or "")
    async with shop.db.reading() as repos:
        assert (await repos.customers.get(1)).consent is False  # type: ignore[union-attr]
    await anna.click("Send me offers again")
    async with shop.db.reading() as repos:
        assert (await repos.customers.get(1)).consent is True  # type: ignore[union-attr]


async def test_forget_leaves_no_personal_data(shop: RunningBot) -> None:
    anna = shop.user(901, first_name="Anna", username="anna_secret", language_code="en")
    await anna.send("/start")
    await anna.share_contact("79169999999")
    await anna.send("05.03.1990")
    await anna.click("Yes, send me offers")
    await shop.owner.send("/sale +79169999999 2500")
    await drained(shop)  # her thank-you arrives before she asks to be forgotten
    await anna.send("/forget")
    await anna.click("No, keep it")
    async with shop.db.reading() as repos:
        assert (await repos.customers.get(1)).phone == "+79169999999"  # type: ignore[union-attr]
    await anna.send("/forget")
    await anna.click("Yes, erase my data")
    assert "erased" in (anna.last_text or "")

    async with shop.db.reading() as repos:
        row = await repos.customers.get(1)
        assert row is not None
        values = [getattr(row, c.name) for c in Customer.__table__.columns]
        payloads = (await repos.session.scalars(select(OutboxMessage.payload))).all()
        sales = await repos.purchases.all_rows()
    for secret in ("Anna", "anna_secret", "79169999999", 901, 1990):
        assert secret not in values
        assert not any(str(secret) in p for p in payloads)
    assert [s.amount for s in sales] == [250000]  # the sale still counts, anonymised
    for kind in ("customers", "purchases"):
        out = io.StringIO()
        await export_csv(shop.db, kind, out, zone=shop.settings.zone)
        for secret in ("Anna", "anna_secret", "79169999999", "901", "1990"):
            assert secret not in out.getvalue(), (kind, secret)


async def test_points_at_the_counter_in_chat(shop: RunningBot) -> None:
    await register(shop, 702)
    owner = shop.owner
    await owner.send("/sale #1 4000")  # +200 points
    await owner.send("/sale")
    await owner.send("#1")
    await owner.send("1000")
    assert "has 200 points" in (owner.last_text or "")
    for typed in ("201", "-5", "lots", "9" * 4000):
        await owner.send(typed)
        assert "from 0 to 200" in (owner.last_text or ""), typed
    await owner.send("150")
    await owner.click("Today")
    assert "Paid with points: 150" in (owner.last_text or "")
    # 200 − 150 + 5 % of the 850 paid
    assert "Customer's points now: 92" in (owner.last_text or "")
    await owner.send("/sale #1 1000 points:500")
    assert "only 92 points" in (owner.last_text or "")
    await owner.send("/sale #1 1000 points:90")
    assert "Paid with points: 90" in (owner.last_text or "")
    async with shop.db.reading() as repos:
        assert await repos.growth.balance(1) == 2 + 45
