"""The Mini App meets the waitlist and deposits (issues 12 and 13): the time the owner frees in
the app is offered to the people waiting, as a cancellation in chat is; a booking made in the app
that needs a deposit gets its invoice in the chat; a paid deposit of a visit the shop cancels is
the customer's to get back, and the owner is asked to refund it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from services.waitlist import WaitlistService, offer_key
from storage.database import Database
from storage.models import Deposit, OutboxMessage
from tests.conftest import FakeClock, RunningBot, drained
from tests.fakes.payments import FakePayments
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webapp import signed_init_data
from tests.webapp_shop import ANNA, BORIS, running_shop, webapp_client

MOSCOW = ZoneInfo("Europe/Moscow")
TOKEN = "123456:TEST-TOKEN"
THURSDAY = date(2026, 11, 26)  # the clock: Wednesday 2026-11-25, 12:00 in Moscow
Client = TestClient[Any, Any]


def at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=MOSCOW).isoformat()


@pytest.fixture
async def shop(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    async with running_shop(
        fake, sqlite_db, clock, payment_provider_token="381764678:TEST:1"
    ) as running:
        yield running


@pytest.fixture
async def api(shop: RunningBot, tmp_path: Path) -> AsyncIterator[Client]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>app</title>", encoding="utf-8")
    async with webapp_client(shop, static) as client:
        yield client


async def call(
    api: Client, shop: RunningBot, user_id: int, path: str, body: Any = None
) -> tuple[int, Any]:
    user = {"id": user_id, "first_name": f"U{user_id}", "language_code": "en"}
    signed = int(shop.clock.now.timestamp())
    headers = {"Authorization": "tma " + signed_init_data(TOKEN, user, auth_date=signed)}
    method = "GET" if body is None else "POST"
    data = None if body is None else json.dumps(body)
    if data is not None:
        headers["Content-Type"] = "application/json"
    response = await api.request(method, path, headers=headers, data=data)
    return response.status, await response.json()


async def offers_to(shop: RunningBot, chat_id: int) -> list[OutboxMessage]:
    async with shop.db.reading() as repos:
        rows = await repos.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "waitlist_offer", OutboxMessage.chat_id == chat_id
            )
        )
        return list(rows.all())


async def deposit_rows(shop: RunningBot) -> list[Deposit]:
    async with shop.db.reading() as repos:
        return list((await repos.session.scalars(select(Deposit).order_by(Deposit.id))).all())


async def boris_waits(shop: RunningBot) -> None:
    waitlist = WaitlistService(shop.db, MOSCOW)
    await waitlist.join(telegram_id=BORIS, service_id=1, days=3, now=shop.clock.now)


@pytest.mark.parametrize("action", ["cancel", "move"])
async def test_time_the_owner_frees_in_the_app_goes_to_the_waitlist(
    api: Client, shop: RunningBot, action: str
) -> None:
    status, booking = await call(
        api, shop, ANNA, "/app/api/bookings", {"service_id": 1, "start": at(THURSDAY, 10)}
    )
    assert status == 201, booking
    await boris_waits(shop)
    assert await offers_to(shop, BORIS) == []
    path = f"/app/api/owner/bookings/{booking['id']}/{action}"
    body = {"start": at(THURSDAY + timedelta(1), 16)} if action == "move" else {}
    status, answer = await call(api, shop, shop.settings.owner_ids[0], path, body)
    assert status == 200, answer
    # Thursday 10:00, newly free, is offered to Boris (his entry is #1).
    [offer] = await offers_to(shop, BORIS)
    assert offer.dedup_key == offer_key(datetime.fromisoformat(at(THURSDAY, 10)), 1)


async def test_a_booking_in_the_app_that_needs_a_deposit_gets_its_invoice_in_the_chat(
    api: Client, shop: RunningBot
) -> None:
    payments = FakePayments(shop.fake)
    await shop.owner.send("/deposit Manicure; 500")
    status, booking = await call(
        api, shop, ANNA, "/app/api/bookings", {"service_id": 1, "start": at(THURSDAY, 10)}
    )
    assert status == 201, booking
    assert booking["deposit"]["amount"] == 50000
    [invoice] = payments.invoices
    assert invoice["chat_id"] == ANNA and invoice["currency"] == "RUB"
    assert invoice["total_amount"] == 50000
    hold = await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == ANNA and "deposit" in (c.text or "")
    )
    assert "Manicure" in (hold.text or "")
    [deposit] = await deposit_rows(shop)
    assert deposit.status == "held"


async def test_the_shop_cancelling_a_paid_visit_in_the_app_asks_the_owner_to_refund(
    api: Client, shop: RunningBot
) -> None:
    payments = FakePayments(shop.fake)
    await shop.owner.send("/deposit Manicure; 500")
    _, booking = await call(
        api, shop, ANNA, "/app/api/bookings", {"service_id": 1, "start": at(THURSDAY, 10)}
    )
    [invoice] = payments.invoices
    update = payments.pre_checkout(ANNA, invoice)
    await shop.fake.wait_until_handled(update)
    await shop.fake.wait_until_handled(payments.successful_payment(ANNA, invoice))
    assert [d.status for d in await deposit_rows(shop)] == ["paid"]
    owner = shop.settings.owner_ids[0]
    status, _ = await call(api, shop, owner, f"/app/api/owner/bookings/{booking['id']}/cancel", {})
    assert status == 200
    [deposit] = await deposit_rows(shop)
    assert deposit.status == "refund_asked"
    await drained(shop)
    notice = await shop.fake.wait_for(
        lambda c: (
            c.ok and c.chat_id == owner and "refund it in your payment provider" in (c.text or "")
        )
    )
    assert "500\u00a0₽" in (notice.text or "")
