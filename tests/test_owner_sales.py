"""The owner logs sales in chat: guided and one-line, lists and deletes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from storage.models import Purchase
from storage.repositories import Repositories
from storage.shop_settings import ShopSettingsRepository
from tests.conftest import RunningBot, register


async def purchases(app: RunningBot) -> list[Purchase]:
    async with app.db.reading() as repos:
        rows = await repos.purchases.all_rows()
        return [await repos.purchases.get(row.id) for row in rows]  # type: ignore[misc]


_IN_UPDATE: ContextVar[bool] = ContextVar("in_update", default=False)


@dataclass
class Tally:
    """Transactions opened and settings read while the dispatcher handled an update (the
    delivery worker runs beside it in its own task and is not counted)."""

    writes: int = 0
    reads: int = 0
    settings_reads: int = 0

    def reset(self) -> None:
        self.writes = self.reads = self.settings_reads = 0


def tally_updates(app: RunningBot, monkeypatch: pytest.MonkeyPatch) -> Tally:
    tally = Tally()
    feed_update = app.dp.feed_update

    async def feed_counted(bot: Any, update: Any, **kwargs: Any) -> Any:
        _IN_UPDATE.set(True)  # the update's own task: its context only
        return await feed_update(bot, update, **kwargs)

    def counted(name: str, field: str) -> Any:
        real = getattr(app.db, name)

        @asynccontextmanager
        async def opened() -> AsyncIterator[Repositories]:
            if _IN_UPDATE.get():
                setattr(tally, field, getattr(tally, field) + 1)
            async with real() as repos:
                yield repos

        return opened

    real_all = ShopSettingsRepository.all

    async def all_counted(self: ShopSettingsRepository) -> dict[str, str]:
        if _IN_UPDATE.get():
            tally.settings_reads += 1
        return await real_all(self)

    monkeypatch.setattr(app.dp, "feed_update", feed_counted)
    monkeypatch.setattr(ShopSettingsRepository, "all", all_counted)
    monkeypatch.setattr(app.db, "transaction", counted("transaction", "writes"))
    monkeypatch.setattr(app.db, "reading", counted("reading", "reads"))
    return tally


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await register(app, 43, "Annabel", "79161234568")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


async def test_guided_sale_with_service_price_and_today(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale")
    assert "Who bought" in (owner.last_text or "")
    await owner.send("anna")  # two customers match: pick one with a button
    assert "Several customers" in (owner.last_text or "")
    await owner.click("Annabel")
    assert "Which service" in (owner.last_text or "")
    await owner.click("Gel manicure")
    await owner.click("2\u00a0500\u00a0₽")  # the service price, suggested as a button
    await owner.click("Today")
    text = owner.last_text or ""
    assert "first purchase" in text
    assert "Annabel" in text
    assert "Purchases by this customer: 1, for 2\u00a0500\u00a0₽" in text

    [row] = await purchases(shop)
    assert (row.amount, row.service_id, row.purchased_at) == (250000, 1, shop.clock.now)


async def test_guided_sale_typed_amount_and_past_date(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale")
    await owner.send("+7 916 123-45-67")
    await owner.click("Without a service")
    await owner.send("2 500,50 ₽")
    await owner.send("2026-11-20")
    assert "20.11.2026" in (owner.last_text or "")
    [row] = await purchases(shop)
    assert row.amount == 250050
    assert row.service_id is None
    # A date-only sale sits at local noon (Moscow, UTC+3).
    assert row.purchased_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_one_line_sale_first_then_repeat(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale +79161234567 2500 gel manicure 2026-11-01")
    assert "first purchase" in (owner.last_text or "")
    await owner.send("/sale #1 1200")
    text = owner.last_text or ""
    assert "repeat purchase" in text
    assert "Purchases by this customer: 2, for 3\u00a0700\u00a0₽" in text
    await owner.send('/sale "Annabel" 900')
    assert "first purchase" in (owner.last_text or "")
    await owner.send("/sale @nobody 900")
    assert "No customer found" in (owner.last_text or "")
    assert len(await purchases(shop)) == 3


async def test_backdated_sale_before_a_later_one_is_first(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale #1 1000")
    await owner.send("/sale #1 1000 2026-10-01")  # logged later, but happened earlier
    # Ties and order are by the time of the sale, not the time it was typed in.
    assert "first purchase" in (owner.last_text or "")


async def test_a_one_line_sale_is_one_transaction(
    shop: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customer, service, repeat check and the sale itself: one write; the shop's settings
    are read once for the whole update (by the middleware), not again by the sale."""
    owner = shop.owner
    tally = tally_updates(shop, monkeypatch)
    await owner.send("/sale +79161234567 2500 gel manicure")
    assert "first purchase" in (owner.last_text or "")
    assert "2\u00a0500\u00a0₽" in (owner.last_text or "")
    # One read (the middleware's profile) and one write: no lookup of its own before the sale.
    assert (tally.reads, tally.writes, tally.settings_reads) == (1, 1, 1)
    tally.reset()
    await owner.send("/sale #1 2500 gel manicure")  # typed again: the question, no sale
    assert "The same sale was already logged" in (owner.last_text or "")
    assert (tally.reads, tally.writes, tally.settings_reads) == (1, 1, 1)
    assert len(await purchases(shop)) == 1


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/sale", None),
        ("/sale #1", "Write it like this"),
        ("/sale #1 ", "Write it like this"),
        ("/sale #1 abc", "I need an amount"),
        ("/sale #1 0", "free visit"),  # asked first (tests/test_data_fixes.py confirms one)
        ("/sale #1 -500", "can't be negative"),
        ("/sale #1 99999999999", "too large"),
        ("/sale #1 2500 Pedicure", "No such service"),
        ("/sale #1 2500 2030-01-01", "in the future"),
        ("/sale #1 2500 2026-02-30", "no such date"),
        ("/sale #1 2500 1990-01-01", "too long ago"),
        ("/sale anna 2500", "Several customers match"),
        ("/sale nobody 2500", "No customer found"),
        ("/sale " + "x" * 4000 + " 2500", "Write it like this"),
        ("/sale #1 " + "9" * 4000, "Write it like this"),
    ],
)
async def test_one_line_sale_bad_input_changes_nothing(
    shop: RunningBot, command: str, expected: str | None
) -> None:
    replies = await shop.owner.send(command)
    if expected is not None:
        assert expected in replies[-1]["text"]
        assert len(replies[-1]["text"]) <= 4096
    assert await purchases(shop) == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        ("letters", "I need an amount"),
        ("0", "more than zero"),
        ("-1", "can't be negative"),
        ("100000000", "too large"),
        ("2,5,0", "I need an amount"),
        ("x" * 4000, "I need an amount"),
    ],
)
async def test_guided_amount_bad_input(shop: RunningBot, typed: str, expected: str | None) -> None:
    owner = shop.owner
    await owner.send("/sale")
    await owner.send("#1")
    await owner.click("Without a service")
    if not typed:
        await owner.share_contact("79990000000")  # not text at all
        assert "answer with text" in (owner.last_text or "")
    else:
        await owner.send(typed)
        assert expected in (owner.last_text or "")
    # Still waiting for the amount: a good one goes through.
    await owner.send("2500.5")
    assert "When?" in (owner.last_text or "")
    assert await purchases(shop) == []


async def test_guided_customer_query_bad_input(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale")
    await owner.send("x" * 4000)
    assert "too long" in (owner.last_text or "")
    await owner.send("zzz")
    assert "Nobody found" in (owner.last_text or "")
    await owner.send("/cancel")
    assert "Cancelled" in (owner.last_text or "")
    await owner.send("#1")  # not in a form any more
    assert "didn't understand" in (owner.last_text or "")


async def test_guided_date_bad_input(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale")
    await owner.send("#1")
    await owner.click("Without a service")
    await owner.send("100")
    for typed, expected in [
        ("31.02.2026", "no such date"),
        ("tomorrow", "I need a date"),
        ("2027-01-01", "in the future"),
    ]:
        await owner.send(typed)
        assert expected in (owner.last_text or ""), typed
    assert await purchases(shop) == []
    await owner.click("Yesterday")
    assert "24.11.2026" in (owner.last_text or "")


async def test_list_and_delete_a_wrong_sale(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale #1 2500")
    await owner.send("/sale #2 300")
    await owner.send("/sales")
    listing = owner.last_text or ""
    assert listing.index("#2") < listing.index("#1")  # newest first
    await owner.click("✖ #2")
    assert "Delete sale #2?" in (owner.last_text or "")
    await owner.click("No, keep it")
    assert len(await purchases(shop)) == 2
    await owner.send("/delsale 2")
    await owner.click("Yes, delete")
    assert "Deleted" in (owner.last_text or "")
    assert [p.id for p in await purchases(shop)] == [1]
    await owner.send("/delsale 2")
    await owner.click("Yes, delete")
    assert "There is no sale #2" in (owner.last_text or "")
    await owner.send("/delsale two")
    assert "/delsale 12" in (owner.last_text or "")


async def test_add_offline_customer_bad_input(app: RunningBot) -> None:
    owner = app.owner
    for command, expected in [
        ("/addcustomer Maria", "Write it like this"),
        ("/addcustomer +79161234567", "Write it like this"),
        ("/addcustomer Maria 12345", "Write it like this"),
        ("/addcustomer " + "M" * 4000 + " +79161234567", "at most 100"),
    ]:
        await owner.send(command)
        assert expected in (owner.last_text or ""), command
    await owner.send("/addcustomer")
    await owner.send("Maria")
    await owner.send("not a phone")
    assert "doesn't look like a phone" in (owner.last_text or "")
    await owner.send("8 916 123 45 67")
    assert "+79161234567" in (owner.last_text or "")
    await owner.send("/addcustomer Other Maria +79161234567")
    assert "already belongs" in (owner.last_text or "")
    async with app.db.reading() as repos:
        assert await repos.customers.count() == 1
