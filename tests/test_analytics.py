"""Owner analytics against a real database (SQLite, and PostgreSQL when given): every metric
with numbers worked out by hand."""

from __future__ import annotations

import csv
import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select

from services import clv, prediction
from services.analytics import AT_RISK_LIST, AnalyticsService
from services.errors import InputError
from storage.analytics import AnalyticsQueries
from storage.database import Database
from storage.models import Booking, Customer, OutboxMessage, Purchase, Service

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
CDNOW = Path(__file__).parent / "data" / "cdnow_transactions.csv"


async def add_customers(db: Database, count: int, **fields: object) -> list[int]:
    async with db.transaction() as repos:
        rows = [
            Customer(created_at=NOW - timedelta(days=200), name=f"C{i}", **fields)
            for i in range(count)
        ]
        repos.session.add_all(rows)
        await repos.session.flush()
        return [row.id for row in rows]


async def buy(db: Database, *sales: tuple[int, datetime, int]) -> None:
    async with db.transaction() as repos:
        repos.session.add_all(
            Purchase(customer_id=c, amount=a, purchased_at=at, created_at=at) for c, at, a in sales
        )


@pytest.fixture
def analytics(db: Database) -> AnalyticsService:
    return AnalyticsService(db, MSK)


async def test_empty_shop(analytics: AnalyticsService) -> None:
    report = await analytics.report(NOW)
    assert report.empty
    assert report.current.repeat_share is None
    assert report.aov is None and report.ltv_historical is None and report.clv_formula is None
    assert report.model is None
    assert [c.customers for c in report.abc.classes] == [0, 0, 0]


async def test_the_owners_60_sales_are_42_first_and_18_repeat(
    db: Database, analytics: AnalyticsService
) -> None:
    ids = await add_customers(db, 47)
    new, old = ids[:42], ids[42:]
    await buy(db, *[(c, NOW - timedelta(days=10), 1000) for c in new])
    await buy(db, *[(c, NOW - timedelta(days=5), 1000) for c in new[:18]])
    # the 90 days before: 5 first purchases and 5 repeat ones, and one just before that
    await buy(db, *[(c, NOW - timedelta(days=100), 3000) for c in old])
    await buy(db, *[(c, NOW - timedelta(days=95), 1000) for c in old])
    await buy(db, (old[0], NOW - timedelta(days=200), 500))
    report = await analytics.report(NOW)
    cur, prev = report.current, report.previous
    assert (cur.purchases, cur.first, cur.repeat) == (60, 42, 18)
    assert (cur.repeat_share, cur.repeat_revenue_share) == (0.3, 0.3)
    assert (cur.revenue, cur.first_revenue, cur.repeat_revenue) == (60000, 42000, 18000)
    # old[0] bought first 200 days ago: its purchase 100 days ago is a repeat one
    assert (prev.purchases, prev.first, prev.repeat) == (10, 4, 6)
    assert (prev.revenue, prev.first_revenue) == (20000, 12000)
    assert prev.repeat_revenue_share == pytest.approx(0.4)
    # new = first purchase in the window (not the creation time, 200 days ago)
    assert (report.customers, report.buyers, report.new_customers) == (47, 47, 42)
    assert report.purchases == 71
    assert report.months[-1].revenue == 60000  # November (Moscow)
    assert report.months[-1].first_revenue == 42000


async def test_same_time_purchases_are_ordered_by_id(
    db: Database, analytics: AnalyticsService
) -> None:
    [c] = await add_customers(db, 1)
    at = NOW - timedelta(days=1)
    await buy(db, (c, at, 700), (c, at, 300))
    report = await analytics.report(NOW)
    assert (report.current.first, report.current.repeat) == (1, 1)
    assert report.current.first_revenue == 700  # the lower id came first


async def test_clv_formula_worked_example(db: Database, analytics: AnalyticsService) -> None:
    # AOV 90, 3 purchases per customer, CAC 6, margin 20 %: (90 x 3 - 6) x 0.2 = 52.80
    ids = await add_customers(db, 2)
    await buy(db, *[(c, NOW - timedelta(days=d), 9000) for c in ids for d in (30, 60, 100)])
    async with db.transaction() as repos:
        await repos.settings.put("margin_percent", "20")
        await repos.settings.put("acquisition_cost", "600")
    report = await analytics.report(NOW)
    assert report.aov == 9000
    assert report.purchases_per_customer == 3
    assert report.clv_formula == pytest.approx(5280)
    assert report.ltv_historical == pytest.approx(27000 * 0.2 - 600)
    assert report.lifespan_days == pytest.approx(70)
    assert report.settings.cac_effective == 600


async def test_acquisition_cost_per_source(db: Database, analytics: AnalyticsService) -> None:
    [a] = await add_customers(db, 1, source="insta")
    [b] = await add_customers(db, 1)
    await buy(db, (a, NOW - timedelta(days=3), 9000), (b, NOW - timedelta(days=3), 9000))
    async with db.transaction() as repos:
        await repos.settings.put("acquisition_cost", "600")
    assert await analytics.set_source_cac("insta", "10") == 1000
    report = await analytics.report(NOW)
    assert report.settings.cac_by_source == {"insta": 1000}
    assert report.settings.cac_effective == 800
    assert await analytics.set_source_cac("insta", "-") is None
    assert (await analytics.settings()).cac_by_source == {}


@pytest.mark.parametrize(
    ("source", "amount", "error"),
    [
        ("in sta", "10", "cac-source-format"),
        ("инста", "10", "cac-source-format"),
        ("x" * 61, "10", "cac-source-format"),
        ("insta", "ten", "error-money-format"),
        ("insta", "-5", "error-money-negative"),
        ("insta", "", "error-money-empty"),
    ],
)
async def test_bad_acquisition_cost_writes_nothing(
    analytics: AnalyticsService, db: Database, source: str, amount: str, error: str
) -> None:
    with pytest.raises(InputError) as caught:
        await analytics.set_source_cac(source, amount)
    assert caught.value.code == error
    assert (await analytics.settings()).cac_by_source == {}


async def test_abc_boundaries_and_ties(db: Database, analytics: AnalyticsService) -> None:
    ids = await add_customers(db, 5)
    revenue = [60000, 15000, 15000, 5000, 5000]  # 60 %, 15 %, 15 %, 5 %, 5 %
    await buy(db, *[(c, NOW - timedelta(days=2), r) for c, r in zip(ids, revenue, strict=True)])
    report = await analytics.abc(NOW)
    a, b, c = report.classes
    # above id1: 0 -> A; id2: 60 % -> A; id3 (tied with id2): 75 % -> B; id4: 90 % -> B;
    # id5 (tied with id4): 95 % -> C
    assert (a.customers, b.customers, c.customers) == (2, 2, 1)
    assert (a.revenue_share, b.revenue_share, c.revenue_share) == (0.75, 0.2, 0.05)
    assert [x.customer_id for x in report.top_a] == ids[:2]
    assert report.revenue == 100000


async def test_abc_one_customer_is_class_a(db: Database, analytics: AnalyticsService) -> None:
    [only] = await add_customers(db, 1)
    await buy(db, (only, NOW - timedelta(days=2), 100))
    report = await analytics.abc(NOW)
    assert [k.customers for k in report.classes] == [1, 0, 0]


async def test_cohorts(db: Database, analytics: AnalyticsService) -> None:
    a, b, c, d = await add_customers(db, 4)

    def msk(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=MSK)

    await buy(
        db,
        (a, msk(date(2026, 9, 10)), 100),
        (b, msk(date(2026, 9, 11)), 100),
        (a, msk(date(2026, 10, 5)), 100),
        (b, msk(date(2026, 11, 3)), 100),
        (a, msk(date(2026, 11, 20)), 100),
        (a, msk(date(2026, 11, 21)), 100),
        (c, msk(date(2026, 10, 15)), 100),
        # 22:30 UTC on 30 September is 01:30 on 1 October in Moscow: an October customer
        (d, datetime(2026, 9, 30, 22, 30, tzinfo=UTC), 100),
    )
    report = await analytics.cohorts(NOW)
    assert report.months[-1] == date(2026, 11, 1)
    assert report.months[9] == date(2026, 9, 1)
    assert report.sizes[9:] == (2, 2, 0)
    assert report.shares[9][:4] == (1.0, 0.5, 1.0, None)
    assert report.shares[10][:3] == (1.0, 0.0, None)
    assert report.shares[11][0] is None  # nobody started in November
    assert report.sizes[:9] == (0,) * 9


async def test_as_of_date(db: Database, analytics: AnalyticsService) -> None:
    [c] = await add_customers(db, 1)
    await buy(db, (c, datetime(2026, 11, 10, 20, 30, tzinfo=UTC), 100))  # 23:30 in Moscow
    await buy(db, (c, datetime(2026, 11, 10, 21, 30, tzinfo=UTC), 100))  # 11 Nov, 00:30
    cutoff = analytics.cutoff_for(date(2026, 11, 10), NOW)
    assert cutoff == datetime(2026, 11, 10, 21, 0, tzinfo=UTC)
    report = await analytics.report(cutoff)
    assert (report.purchases, report.as_of) == (1, date(2026, 11, 10))
    assert analytics.cutoff_for(None, NOW) == NOW
    with pytest.raises(InputError) as caught:
        analytics.cutoff_for(date(2026, 11, 26), NOW)
    assert caught.value.code == "analytics-as-of-future"


async def test_imported_customers_are_new_on_their_first_purchase(
    db: Database, analytics: AnalyticsService
) -> None:
    """Issue 14: after an import every customer was "new" on the import day, and /stats for a
    past date showed 0 customers beside 141 buyers."""
    async with db.transaction() as repos:
        imported = NOW - timedelta(hours=1)
        rows = [Customer(created_at=imported, name=f"I{i}") for i in range(6)]
        rows.append(
            Customer(created_at=imported, registered_at=NOW - timedelta(days=300), name="R")
        )
        repos.session.add_all(rows)
        await repos.session.flush()
        old, recent, never, registered = [r.id for r in rows[:3]], rows[3:5], rows[5], rows[6]
    await buy(
        db,
        *[(c, NOW - timedelta(days=200), 1000) for c in old],
        *[(c, NOW - timedelta(days=20), 1000) for c in old],  # repeat: not new
        *[(r.id, NOW - timedelta(days=30), 1000) for r in recent],
    )
    report = await analytics.report(NOW)
    assert report.current.first == 2
    # the two first purchases in the window, and the one added today who never bought
    assert (report.customers, report.buyers, report.new_customers) == (7, 5, 3)
    assert never.id not in old
    past = await analytics.report(analytics.cutoff_for(date(2026, 9, 1), NOW))
    # by then: the three old buyers and the customer registered 300 days ago
    assert (past.customers, past.buyers, past.new_customers) == (4, 3, 0)
    assert registered.registered_at is not None


# --- the model --------------------------------------------------------------------------------


async def test_model_summary_from_sql_matches_the_reference(db: Database) -> None:
    """The SQL summary rows give the same Summary as services/clv.summarize on CDNOW."""
    with CDNOW.open(newline="") as f:
        rows = [
            (int(r["customer_id"]), date.fromisoformat(r["date"]), r["amount"])
            for r in csv.DictReader(f)
        ]
    ids = sorted({r[0] for r in rows})
    async with db.transaction() as repos:
        await repos.session.execute(
            Customer.__table__.insert(),
            [{"id": i, "created_at": NOW} for i in ids],
        )
        await repos.session.execute(
            Purchase.__table__.insert(),
            [
                {
                    "customer_id": c,
                    # evening in Moscow, the next day in UTC+0 only after 21:00: day stays local
                    "purchased_at": datetime.combine(d, time(23, 15), tzinfo=MSK),
                    "created_at": NOW,
                    "amount": round(float(a) * 100),
                }
                for c, d, a in rows
            ],
        )
    service = AnalyticsService(db, MSK)
    cutoff = service.cutoff_for(date(1997, 9, 30), NOW)
    async with db.reading() as repos:
        model_rows = await AnalyticsQueries(repos.session).model_rows(
            cutoff, "Europe/Moscow", 10800
        )
    ours = prediction.summary_from_rows(model_rows, prediction.day_number(date(1997, 9, 30)))
    reference = clv.summarize(
        [(c, d, round(float(a) * 100)) for c, d, a in rows], date(1997, 9, 30)
    )
    order = np.argsort(reference.customer_ids.astype(np.int64))
    assert list(ours.customer_ids) == list(reference.customer_ids[order])
    for name in ("x", "t_x", "T", "m"):
        assert np.allclose(getattr(ours, name), getattr(reference, name)[order]), name
    fit = prediction.fit(ours, 0.3)
    assert isinstance(fit, prediction.ModelFit)
    assert (round(fit.bgnbd.r, 3), round(fit.bgnbd.alpha, 2)) == (0.243, 4.41)
    assert (round(fit.bgnbd.a, 3), round(fit.bgnbd.b, 2)) == (0.793, 2.43)
    report = await service.predicted(cutoff)
    assert isinstance(report.outcome, prediction.ModelFit)
    assert len(report.top) == 10
    assert report.top[0].clv >= report.top[-1].clv > 0


async def test_model_with_one_customer_says_too_little(
    db: Database, analytics: AnalyticsService
) -> None:
    [c] = await add_customers(db, 1)
    await buy(db, (c, NOW - timedelta(days=40), 100), (c, NOW - timedelta(days=4), 100))
    report = await analytics.report(NOW)
    assert isinstance(report.model, prediction.TooLittleData)
    assert report.model.reason == "model-too-few-customers"
    assert report.clv_predicted is None


async def test_model_without_repeat_buyers_says_too_little(
    db: Database, analytics: AnalyticsService
) -> None:
    ids = await add_customers(db, 40)
    await buy(db, *[(c, NOW - timedelta(days=i + 1), 100) for i, c in enumerate(ids)])
    outcome = (await analytics.predicted(NOW)).outcome
    assert isinstance(outcome, prediction.TooLittleData)
    assert outcome.reason == "model-too-few-repeat"


async def test_model_with_free_and_refunded_purchases_stays_finite(
    db: Database, analytics: AnalyticsService
) -> None:
    ids = await add_customers(db, 40)
    rng = np.random.default_rng(7)
    sales = []
    for i, c in enumerate(ids):
        days = sorted(rng.choice(300, size=1 + i % 4, replace=False))
        sales.extend(
            (c, NOW - timedelta(days=int(day) + 1), int(rng.integers(0, 5000))) for day in days
        )
    sales.append((ids[0], NOW - timedelta(days=400), -2000))  # a refund on its own day
    sales.append((ids[1], NOW - timedelta(days=2), 0))  # a free order
    await buy(db, *sales)
    report = await analytics.predicted(NOW)
    outcome = report.outcome
    if isinstance(outcome, prediction.ModelFit):
        assert np.all(np.isfinite(outcome.clv)) and np.all(outcome.clv >= 0)
        assert np.all((outcome.p_alive >= 0) & (outcome.p_alive <= 1))
    else:
        assert outcome.reason.startswith("model-")


# --- at risk and win-back ---------------------------------------------------------------------


async def test_at_risk_without_a_model_uses_revenue_and_cycle(
    db: Database, analytics: AnalyticsService
) -> None:
    ids = await add_customers(db, 4)
    async with db.transaction() as repos:
        for i, cid in enumerate(ids):
            customer = await repos.customers.get(cid)
            assert customer is not None
            customer.telegram_id = 500 + i
    late, fresh, small, one = ids
    await buy(
        db,
        # every 10 days, last seen 30 days ago: late by more than half a cycle
        *[(late, NOW - timedelta(days=d), 5000) for d in (50, 40, 30)],
        *[(fresh, NOW - timedelta(days=d), 5000) for d in (22, 12, 2)],
        *[(small, NOW - timedelta(days=d), 10) for d in (90, 80)],
        (one, NOW - timedelta(days=200), 100),
    )
    risky = await analytics.at_risk(NOW)
    assert [r.customer_id for r in risky] == [late]
    assert risky[0].reachable and not risky[0].value_is_predicted
    assert risky[0].cycle_days == 10 and risky[0].days_since_last == 30


async def test_at_risk_uses_cycles_when_the_model_cannot_tell_customers_apart(
    db: Database, analytics: AnalyticsService
) -> None:
    """Issue 14: after 137-167 days away on a 21-day cycle every customer was listed as 100 %
    active (the fitted model degenerated: a = 6e-06). The cycle rule lists them, and says so."""
    ids = await add_customers(db, 24)
    visits = []
    for i, cid in enumerate(ids):
        last = NOW - timedelta(days=137 + i % 31)
        visits += [(cid, last - timedelta(days=21 * k), 2000) for k in range(6)]
    await buy(db, *visits)
    outcome = await analytics.fit_model(NOW, 40)
    assert not prediction.tells_apart(outcome)
    risky = await analytics.at_risk(NOW)
    # all at risk; equal revenue, so the list (cut at AT_RISK_LIST) goes by id
    assert [r.customer_id for r in risky] == sorted(ids)[:AT_RISK_LIST]
    assert {r.rule for r in risky} == {"cycle"}
    assert not any(r.value_is_predicted for r in risky)
    assert all(r.p_alive is None and r.cycle_days == 21 for r in risky)


def test_a_degenerate_fit_does_not_tell_customers_apart() -> None:
    rows = [0.995, 1.0]
    fit = prediction.ModelFit(
        clv.BgNbdFit(0.3, 4.0, 0.8, 2.4, -1.0, 2),
        clv.GammaGammaFit(6.0, 4.0, 15.0, -1.0, 2),
        np.array([1, 2]),
        np.array(rows),
        np.zeros(2),
        np.zeros(2),
        np.zeros(2),
        2,
    )
    assert not prediction.tells_apart(fit)  # every P(alive) >= 0.99
    fit = dataclasses.replace(fit, p_alive=np.array([0.3, 1.0]))
    assert prediction.tells_apart(fit)
    fit = dataclasses.replace(fit, bgnbd=dataclasses.replace(fit.bgnbd, a=6e-6))
    assert not prediction.tells_apart(fit)  # nobody ever drops out


async def test_winback_is_queued_once_a_day(db: Database, analytics: AnalyticsService) -> None:
    [cid] = await add_customers(db, 1, telegram_id=777)
    first = await analytics.queue_winback(cid, NOW)
    again = await analytics.queue_winback(cid, NOW + timedelta(hours=1))
    assert first.queued and not again.queued
    async with db.reading() as repos:
        rows = (await repos.session.scalars(select(OutboxMessage))).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.kind, row.dedup_key, row.chat_id) == ("winback", f"winback:{cid}:2026-11-25", 777)
    assert json.loads(row.payload) == {"name": "C0"}
    assert row.not_before == NOW  # 12:00 in Moscow: inside the sending window


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "winback-not-on-telegram"),
        ({"telegram_id": 5, "consent": False}, "winback-no-consent"),
        ({"telegram_id": 6, "blocked_at": NOW}, "winback-blocked"),
    ],
)
async def test_winback_refused(
    db: Database, analytics: AnalyticsService, fields: dict[str, object], error: str
) -> None:
    [cid] = await add_customers(db, 1, **fields)
    with pytest.raises(InputError) as caught:
        await analytics.queue_winback(cid, NOW)
    assert caught.value.code == error
    async with db.reading() as repos:
        assert (await repos.session.scalars(select(OutboxMessage))).all() == []


async def test_winback_for_unknown_customer(analytics: AnalyticsService) -> None:
    with pytest.raises(InputError) as caught:
        await analytics.queue_winback(999, NOW)
    assert caught.value.code == "error-customer-gone"


# --- campaigns --------------------------------------------------------------------------------


async def test_campaign_results(db: Database, analytics: AnalyticsService) -> None:
    x, y, z, w = await add_customers(db, 4, telegram_id=None)
    t0 = NOW - timedelta(days=40)
    async with db.transaction() as repos:
        service = Service(name="Cut", price=2000, duration_minutes=60, created_at=NOW)
        repos.session.add(service)
        await repos.session.flush()

        def message(
            key: str, kind: str, customer: int, status: str, sent: datetime | None
        ) -> OutboxMessage:
            return OutboxMessage(
                dedup_key=key,
                kind=kind,
                customer_id=customer,
                chat_id=customer,
                payload="{}",
                status=status,
                attempts=1,
                not_before=t0,
                created_at=t0 - timedelta(hours=1),
                sent_at=sent,
            )

        rebook = message("r1", "rebook", x, "sent", t0)
        follow = message("r2", "rebook_followup", x, "sent", t0 + timedelta(days=1))
        follow.reaction = "booked"
        blocked = message("b1", "birthday", y, "blocked", None)
        pending = message("p1", "promo", z, "pending", None)
        other = message("t1", "text", z, "sent", t0)
        repos.session.add_all([rebook, follow, blocked, pending, other])
        await repos.session.flush()
        repos.session.add(
            Booking(
                customer_id=x,
                service_id=service.id,
                starts_at=t0 + timedelta(days=3),
                ends_at=t0 + timedelta(days=3, hours=1),
                source="rebook",
                outbox_id=rebook.id,
                created_at=t0,
            )
        )
    await buy(
        db,
        (x, t0 - timedelta(days=10), 1000),  # first, before
        (z, t0 - timedelta(days=5), 1000),  # first, before
        (x, t0 + timedelta(days=3), 2000),  # repeat, after both rebooking messages
        (w, t0 + timedelta(days=4), 1000),  # first, after
        (x, t0 + timedelta(days=20), 3000),  # repeat, after, but outside 14 days
    )
    results = {r.group: r for r in await analytics.campaigns(NOW)}
    assert list(results) == ["rebooking", "birthday", "winback", "promo"]
    r = results["rebooking"]
    assert (r.sent, r.delivered, r.blocked, r.booked, r.bought, r.revenue) == (2, 2, 0, 2, 2, 2000)
    assert r.first_sent_at == t0
    assert r.repeat_share_before == 0.0
    assert r.repeat_share_after == pytest.approx(2 / 3)
    b = results["birthday"]
    assert (b.sent, b.delivered, b.blocked, b.bought, b.repeat_share_before) == (1, 0, 1, 0, None)
    p = results["promo"]
    assert (p.sent, p.delivered) == (0, 0)
    assert results["winback"].sent == 0


async def test_abc_class_members_for_segments(db: Database) -> None:
    ids = await add_customers(db, 5)
    revenue = [60000, 15000, 15000, 5000, 5000]
    await buy(db, *[(c, NOW - timedelta(days=2), r) for c, r in zip(ids, revenue, strict=True)])
    async with db.reading() as repos:
        q = AnalyticsQueries(repos.session)
        members = {g: [r.customer_id for r in await q.abc_top(NOW, g, 10)] for g in "ABC"}
    assert members == {"A": ids[:2], "B": ids[2:4], "C": ids[4:]}


async def test_model_rows_with_refunds_on_the_first_day(db: Database) -> None:
    """The first day's amount (packed into a MIN) may be negative: a refund larger than the
    purchase of that day; a day with only refunds is no purchase day at all."""
    [c] = await add_customers(db, 1)
    day = NOW - timedelta(days=30)
    await buy(
        db,
        (c, day - timedelta(days=5), -700),  # a refund on its own day: not a purchase day
        (c, day, 1000),
        (c, day + timedelta(hours=1), -1500),  # the first purchase day nets -500
        (c, day + timedelta(days=3), 2500),
        (c, day + timedelta(days=3, hours=2), 500),  # the same day: merged, 3000
    )
    async with db.reading() as repos:
        rows = await AnalyticsQueries(repos.session).model_rows(NOW, "Europe/Moscow", 10800)
    first = prediction.day_number(day.astimezone(MSK).date())
    assert list(rows.customer_ids) == [c]
    assert list(rows.purchase_days) == [2]
    assert (rows.first_day[0], rows.last_day[0]) == (first, first + 3)
    assert list(rows.repeat_amount) == [3000]
    assert list(rows.revenue) == [2500]  # -500 + 3000; the refund-only day is left out


async def test_window_totals_overlap_like_the_windows_query(db: Database) -> None:
    """Totals per elementary interval added up per bound equal a direct count per bound."""
    ids = await add_customers(db, 3)
    sales = [
        (ids[i % 3], NOW - timedelta(days=d, hours=i), 100 + i)
        for i, d in enumerate([1, 2, 40, 80, 95, 100, 150, 179, 181, 250, 300, 400])
    ]
    await buy(db, *sales)
    bounds = [
        (NOW - timedelta(days=90), NOW),
        (NOW - timedelta(days=180), NOW - timedelta(days=90)),
        (NOW - timedelta(days=365), NOW - timedelta(days=30)),  # overlaps both
        (NOW - timedelta(days=45), NOW - timedelta(days=44)),  # empty
    ]
    async with db.reading() as repos:
        q = AnalyticsQueries(repos.session)
        totals = await q.purchase_totals(bounds)
        firsts = await q.first_purchase_totals(NOW, bounds)
        expected = await q.windows(bounds)
    assert totals == [(w.purchases, w.revenue) for w in expected]
    assert firsts == [(w.first_purchases, w.first_revenue) for w in expected]
    assert totals[3] == (0, 0)
