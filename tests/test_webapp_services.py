"""The Mini App's services on SQLite and PostgreSQL (issue 12): the customer list's SQL, the
owner's week, and the owner's move racing a customer's booking."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.analytics import AnalyticsService
from services.bookings import BookingService, SlotTaken
from services.catalogue import CatalogueService
from services.customer_list import CustomerList
from services.webapp_calendar import OwnerCalendar
from storage.database import Database
from storage.models import Purchase
from tests.conftest import FakeClock

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


async def add_people(db: Database, now: datetime) -> list[int]:
    ids = []
    async with db.transaction() as repos:
        for n, (name, phone) in enumerate(
            [("Анна Петрова", "+79160000001"), ("Борис", "+79160000002"), ("Вера", None)]
        ):
            row = await repos.customers.add(
                telegram_id=100 + n,
                name=name,
                search_name=name.casefold(),
                phone=phone,
                created_at=now,
            )
            ids.append(row.id)
        gone = await repos.customers.add(name=None, created_at=now, forgotten_at=now)
        for customer_id, amount, days_ago in [
            (ids[0], 100000, 40),
            (ids[0], 150000, 10),
            (ids[1], 900000, 30),
            (gone.id, 50000, 5),
        ]:
            repos.session.add(
                Purchase(
                    customer_id=customer_id,
                    amount=amount,
                    purchased_at=now - timedelta(days=days_ago),
                    created_at=now,
                )
            )
    return ids


async def test_the_customer_list_in_sql(db: Database, clock: FakeClock) -> None:
    anna, boris, vera = await add_people(db, clock.now)
    customers = CustomerList(db, MOSCOW, AnalyticsService(db, MOSCOW).models)
    by_total = await customers.page(query="", sort="total", offset=0, limit=50, now=clock.now)
    assert by_total.total == 3  # the forgotten customer is not listed
    assert [i.id for i in by_total.items] == [boris, anna, vera]
    assert (by_total.items[1].visits, by_total.items[1].total) == (2, 250000)
    assert by_total.items[2].last_visit is None and by_total.items[2].visits == 0
    by_visit = await customers.page(query="", sort="last_visit", offset=0, limit=2, now=clock.now)
    assert by_visit.total == 3 and [i.id for i in by_visit.items] == [anna, boris]
    assert by_visit.items[0].last_visit == (clock.now - timedelta(days=10)).date()
    rest = await customers.page(query="", sort="last_visit", offset=2, limit=2, now=clock.now)
    assert [i.id for i in rest.items] == [vera]
    for query, expected in [
        ("петров", [anna]),
        ("АННА", [anna]),
        ("0000002", [boris]),
        (f"#{vera}", [vera]),
        ("#999", []),
    ]:
        found = await customers.page(query=query, sort="total", offset=0, limit=50, now=clock.now)
        assert [i.id for i in found.items] == expected, query
    for sort in ("predicted", "risk"):  # too little data for the model: nobody valued
        page = await customers.page(query="", sort=sort, offset=1, limit=1, now=clock.now)
        assert page.total == 3 and [i.id for i in page.items] == [boris]
        assert page.items[0].predicted is None
    detail = await customers.detail(anna, clock.now)
    assert [p.amount for p in detail.history] == [150000, 100000]
    assert detail.card.name == "Анна Петрова"


async def test_the_owners_week_on_both_databases(db: Database, clock: FakeClock) -> None:
    service = await CatalogueService(db).add(
        name="Стрижка", price=150000, cycle_days=30, duration_minutes=45, now=clock.now
    )
    await add_people(db, clock.now)
    await BookingService(db, MOSCOW).book(
        telegram_id=100, service_id=service.id, starts_at=local(THURSDAY, 11), now=clock.now
    )
    week = await OwnerCalendar(db, MOSCOW).week(THURSDAY, clock.now)
    thursday = week[0]
    assert [b.customer.name for b in thursday.bookings] == ["Анна Петрова"]
    # 45 minutes hold three 15-minute cells: 11:00-11:45.
    assert thursday.free == [
        (local(THURSDAY, 10), local(THURSDAY, 11)),
        (local(THURSDAY, 11, 45), local(THURSDAY, 19)),
    ]


async def test_the_owners_move_and_a_customers_tap_race_for_one_slot(
    db: Database, clock: FakeClock
) -> None:
    service = await CatalogueService(db).add(
        name="Маникюр", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    await add_people(db, clock.now)
    bookings = BookingService(db, MOSCOW)
    annas = await bookings.book(
        telegram_id=100, service_id=service.id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    wanted = local(THURSDAY, 15)
    results = await asyncio.gather(
        OwnerCalendar(db, MOSCOW).move(annas.id, wanted, clock.now),
        bookings.book(telegram_id=101, service_id=service.id, starts_at=wanted, now=clock.now),
        return_exceptions=True,
    )
    # Exactly one gets the time; the other is told it is taken and nothing of it stays.
    assert sum(isinstance(r, SlotTaken) for r in results) == 1, results
    day = await bookings.of_day(THURSDAY)
    assert sum(1 for b in day if b.starts_at == wanted) == 1
    moved = not isinstance(results[0], SlotTaken)
    assert len(day) == (1 if moved else 2)  # Anna's moved booking, or hers and Boris's


async def test_the_lists_values_are_the_models_of_stats(db: Database, clock: FakeClock) -> None:
    """Predicted value and "at risk" in the list are /stats' own (its cached model)."""
    now = clock.now
    async with db.transaction() as repos:
        for n in range(40):
            customer = await repos.customers.add(
                name=f"Клиент {n}", telegram_id=5000 + n, created_at=now - timedelta(days=400)
            )
            # Regulars at several paces; some stopped coming long ago, some came once.
            visits = 1 if n % 4 == 0 else 2 + n % 5
            gap = 10 + 3 * (n % 7)
            last = 5 + (n % 3) * 20 + (150 if n % 5 == 0 else 0)
            for k in range(visits):
                at = now - timedelta(days=last + k * gap)
                repos.session.add(
                    Purchase(
                        customer_id=customer.id,
                        amount=100000 + 5000 * (n % 9),
                        purchased_at=at,
                        created_at=at,
                    )
                )
    analytics = AnalyticsService(db, MOSCOW)
    predicted = await analytics.predicted(now)
    at_risk = await analytics.at_risk(now)
    assert predicted.top and at_risk, "the sample must fit the model and flag someone"
    customers = CustomerList(db, MOSCOW, analytics.models)
    by_value = await customers.page(query="", sort="predicted", offset=0, limit=10, now=now)
    assert [i.id for i in by_value.items] == [p.customer_id for p in predicted.top]
    assert [round(i.predicted or 0) for i in by_value.items] == [
        round(p.clv) for p in predicted.top
    ]
    by_risk = await customers.page(query="", sort="risk", offset=0, limit=100, now=now)
    flagged = [i.id for i in by_risk.items if i.at_risk]
    # /stats lists the first ten of the same order.
    assert flagged[: len(at_risk)] == [r.customer_id for r in at_risk]
    assert all(i.at_risk for i in by_risk.items[: len(flagged)])
