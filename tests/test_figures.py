"""Figures that agree (issue 14): a corrected sale carries its points and thank-you along."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.analytics import AnalyticsService
from services.bookings import BookingService
from services.growth import GrowthService
from services.loyalty import CASHBACK
from services.sales import SalesService
from storage.database import Database
from storage.models import Customer, Purchase
from tests.conftest import RunningBot

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")


async def sale_of_2500(db: Database) -> int:
    """A customer on Telegram with 5 % cashback (the default), and a 2 500 sale today."""
    async with db.transaction() as repos:
        customer = await repos.customers.add(
            telegram_id=42, name="Anna", registered_at=NOW, created_at=NOW
        )
        customer_id = customer.id
    receipt = await SalesService(db, MOSCOW).log_sale(
        customer_id=customer_id, amount=250000, service_id=None, day=None, now=NOW
    )
    assert receipt.points_balance == 125
    return receipt.purchase_id


async def test_changing_the_amount_recomputes_points_and_the_queued_thanks(db: Database) -> None:
    """Issue 14: «Изменить сумму» said «Баллов у клиента теперь: 0» while /me showed 225, kept
    the cashback of the old amount and the thank-you with the old amount."""
    purchase_id = await sale_of_2500(db)
    bookings = BookingService(db, MOSCOW)
    receipt = await bookings.change_amount(purchase_id, "3 000", NOW)
    assert (receipt.amount, receipt.points_balance, receipt.totals.total) == (300000, 150, 300000)
    receipt = await bookings.change_amount(purchase_id, "2000", NOW)  # and down again
    assert receipt.points_balance == 100
    async with db.reading() as repos:
        assert await repos.growth.balance(receipt.customer.id) == 100
        assert await repos.growth.purchase_points(purchase_id, CASHBACK) == 100
        thanks = await repos.outbox.by_key(f"thanks:{purchase_id}")
        assert thanks is not None
        payload = json.loads(thanks.payload)
    assert (payload["amount"], payload["total"], payload["points"]) == (200000, 200000, 100)


async def test_a_sent_thanks_is_left_as_it_was(db: Database) -> None:
    purchase_id = await sale_of_2500(db)
    async with db.transaction() as repos:
        thanks = await repos.outbox.by_key(f"thanks:{purchase_id}")
        assert thanks is not None
        await repos.outbox.mark(thanks.id, "sent")
    receipt = await BookingService(db, MOSCOW).change_amount(purchase_id, "3000", NOW)
    assert receipt.points_balance == 150  # the points still follow the amount
    async with db.reading() as repos:
        thanks = await repos.outbox.by_key(f"thanks:{purchase_id}")
        assert thanks is not None
        assert json.loads(thanks.payload)["amount"] == 250000


async def two_instagram_buyers(db: Database, now: datetime) -> None:
    async with db.transaction() as repos:
        for i in range(3):
            customer = Customer(
                name=f"I{i}", source="instagram", created_at=now - timedelta(days=30)
            )
            repos.session.add(customer)
            await repos.session.flush()
            if i < 2:  # the third one never bought
                at = now - timedelta(days=3)
                repos.session.add(
                    Purchase(customer_id=customer.id, amount=250000, purchased_at=at, created_at=at)
                )


async def test_spend_and_cost_per_customer_are_one_figure(db: Database) -> None:
    """/spend (a total) and /cac (per customer) are two ways to type one acquisition figure:
    each is derived from the other, and the one typed last wins."""
    await two_instagram_buyers(db, NOW)
    growth, analytics = GrowthService(db), AnalyticsService(db, MOSCOW)
    await growth.set_spend("instagram", "1000")
    [row] = await growth.sources()
    assert (row.buyers, row.spend, row.per_customer) == (2, 100000, 50000)
    report = await analytics.report(NOW)
    assert report.settings.cac_by_source == {"instagram": 50000}  # 1 000 ÷ 2 buyers
    assert (await analytics.settings()).cac_by_source == {"instagram": 50000}

    assert await analytics.set_source_cac("instagram", "800") == 80000
    [row] = await growth.sources()
    assert (row.spend, row.per_customer) == (160000, 80000)  # 800 × 2 buyers
    assert row.ltv_to_cac is not None
    assert (await analytics.report(NOW)).settings.cac_by_source == {"instagram": 80000}

    await growth.set_spend("instagram", "600")  # typed last: the /cac figure goes
    [row] = await growth.sources()
    assert (row.spend, row.per_customer) == (60000, 30000)
    assert (await analytics.report(NOW)).settings.cac_by_source == {"instagram": 30000}


async def test_sources_use_a_cost_typed_with_cac(app: RunningBot) -> None:
    """Issue 14: after `/cac instagram 800`, /sources still showed «—» for spend and LTV:CAC."""
    await two_instagram_buyers(app.db, app.clock.now)
    owner = app.owner
    replies = await owner.send("/cac instagram 800")
    assert any("stored as typed" in r.get("text", "") for r in replies)
    await owner.send("/sources")
    line = next(r for r in (owner.last_text or "").splitlines() if r.startswith("instagram"))
    # subscribers · registered · buyers · revenue · spend (per buyer) · LTV:CAC
    assert "1\u00a0600\u00a0₽ (800\u00a0₽ per buyer)" in line
    assert not line.endswith("—")
