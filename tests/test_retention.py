"""The retention scans with a controllable clock: rebooking, follow-ups, birthdays, promo codes,
rating questions. Storage runs on SQLite and, when given, PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.birthdays import next_birthday, queue_birthdays
from services.catalogue import CatalogueService
from services.customers import CustomerService, TelegramPerson
from services.cycles import personal_cycle
from services.errors import InputError
from services.feedback import FeedbackService, queue_feedback
from services.parsing import Birthday
from services.rebooking import decline_own, due_window, queue_rebooking
from services.sales import SalesService
from services.shop import ShopService
from storage.database import Database
from storage.models import OutboxMessage

MSK = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, inside the 10–20 window


async def no_slots(
    db: Database, service_id: int, around: datetime, now: datetime, zone: ZoneInfo
) -> list[datetime]:
    return []


async def two_slots(
    db: Database, service_id: int, around: datetime, now: datetime, zone: ZoneInfo
) -> list[datetime]:
    return [around, around + timedelta(hours=2)]


async def outbox(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    async with db.reading() as repos:
        rows = await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [row for row in rows.all() if kind is None or row.kind == kind]


class Shop:
    """A nail master's shop with one registered client, built through the services."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.customers = CustomerService(db)
        self.sales = SalesService(db, MSK)
        self.catalogue = CatalogueService(db)

    async def client(self, telegram_id: int = 42, *, consent: bool = True) -> int:
        start = await self.customers.start(
            TelegramPerson(telegram_id, "Anna", language="ru"), None, NOON - timedelta(days=400)
        )
        await self.customers.finish_registration(telegram_id, consent, NOON - timedelta(days=400))
        return start.customer.id

    async def service(self, name: str = "Extensions", cycle: int | None = 21) -> int:
        item = await self.catalogue.add(
            name=name, price=300000, cycle_days=cycle, duration_minutes=120, now=NOON
        )
        return item.id

    async def sale(self, customer_id: int, service_id: int | None, days_ago: int) -> None:
        day = (NOON - timedelta(days=days_ago)).astimezone(MSK).date()
        await self.sales.log_sale(
            customer_id=customer_id, amount=300000, service_id=service_id, day=day, now=NOON
        )


@pytest.fixture
def shop(db: Database) -> Shop:
    return Shop(db)


def test_personal_cycle_is_the_median_gap_within_bounds() -> None:
    d = date(2026, 1, 1)
    days = [d, d + timedelta(14), d + timedelta(30), d + timedelta(44)]
    assert personal_cycle(days, 21) == 14  # gaps 14, 16, 14
    assert personal_cycle(days[:2], 21) == 21  # two purchases: the service's cycle
    assert personal_cycle([d, d + timedelta(2), d + timedelta(4)], 21) == 10  # at least half
    assert personal_cycle([d, d + timedelta(90), d + timedelta(180)], 21) == 42  # at most double
    assert personal_cycle([d, d, d], 21) == 21  # same-day purchases are one visit


def test_due_window() -> None:
    first, due, last = due_window(date(2026, 11, 8), 21, 4)
    assert (first, due, last) == (date(2026, 11, 25), date(2026, 11, 29), date(2026, 12, 9))


async def test_reminder_due_four_days_before(shop: Shop) -> None:
    anna = await shop.client()
    extensions = await shop.service()
    await shop.sale(anna, extensions, days_ago=17)
    assert await queue_rebooking(shop.db, MSK, NOON, two_slots) == 1
    [row] = await outbox(shop.db, "rebook")
    payload = json.loads(row.payload)
    assert row.dedup_key == f"rebook:{anna}:{extensions}:2026-11-29"
    assert (payload["service"], payload["due"], len(payload["slots"])) == (
        "Extensions",
        "2026-11-29",
        2,
    )
    assert row.chat_id == 42
    # Running the scan again (a restart, the CLI) queues nothing more.
    assert await queue_rebooking(shop.db, MSK, NOON, two_slots) == 0


async def test_not_yet_due(shop: Shop) -> None:
    anna = await shop.client()
    await shop.sale(anna, await shop.service(), days_ago=16)
    assert await queue_rebooking(shop.db, MSK, NOON, no_slots) == 0


async def test_long_lapsed_customer_gets_no_reminder(shop: Shop) -> None:
    anna = await shop.client()
    await shop.sale(anna, await shop.service(), days_ago=21 + 11)  # half a cycle late and more
    assert await queue_rebooking(shop.db, MSK, NOON, no_slots) == 0


@pytest.mark.parametrize("case", ["declined", "blocked", "booked", "no_cycle", "bought_again"])
async def test_nobody_is_reminded_who_should_not_be(shop: Shop, case: str) -> None:
    anna = await shop.client(consent=case != "declined")
    extensions = await shop.service(cycle=None if case == "no_cycle" else 21)
    await shop.sale(anna, extensions, days_ago=17)
    async with shop.db.transaction() as repos:
        customer = await repos.customers.get(anna)
        assert customer is not None
        if case == "blocked":
            customer.blocked_at = NOON
        if case == "booked":
            from storage.models import Booking

            repos.session.add(
                Booking(
                    customer_id=anna,
                    service_id=extensions,
                    starts_at=NOON + timedelta(days=2),
                    ends_at=NOON + timedelta(days=2, hours=2),
                    status="booked",
                    source="book",
                    created_at=NOON,
                )
            )
    if case == "bought_again":
        await shop.sale(anna, extensions, days_ago=1)
    assert await queue_rebooking(shop.db, MSK, NOON, no_slots) == 0


async def test_personal_cycle_beats_the_service_cycle(shop: Shop) -> None:
    anna = await shop.client()
    extensions = await shop.service(cycle=21)
    for days_ago in (56, 42, 28, 14):  # every two weeks
        await shop.sale(anna, extensions, days_ago=days_ago)
    # Personal cycle 14 → due in 0 days, inside the reminder window today.
    assert await queue_rebooking(shop.db, MSK, NOON, no_slots) == 1
    [row] = await outbox(shop.db, "rebook")
    assert json.loads(row.payload)["due"] == "2026-11-25"


@pytest.mark.parametrize(
    ("zone", "utc_hour", "queued"),
    [
        ("Europe/Moscow", 6, 0),  # 09:00 local: before the window
        ("Europe/Moscow", 7, 1),  # 10:00 local: the window opens
        ("Europe/Moscow", 17, 0),  # 20:00 local: closed
        ("Asia/Almaty", 4, 0),  # 09:00 local (UTC+5)
        ("Asia/Almaty", 5, 1),
        ("America/New_York", 14, 0),  # 09:00 local (UTC-5)
        ("America/New_York", 15, 1),
    ],
)
async def test_quiet_hours_in_the_shops_zone(
    shop: Shop, zone: str, utc_hour: int, queued: int
) -> None:
    anna = await shop.client()
    extensions = await shop.service()
    await shop.sale(anna, extensions, days_ago=17)
    now = NOON.replace(hour=utc_hour)
    assert await queue_rebooking(shop.db, ZoneInfo(zone), now, no_slots) == queued


async def test_follow_up_once_after_k_days_without_reaction(shop: Shop) -> None:
    anna = await shop.client()
    extensions = await shop.service()
    await shop.sale(anna, extensions, days_ago=17)
    await queue_rebooking(shop.db, MSK, NOON, no_slots)
    [reminder] = await outbox(shop.db, "rebook")
    async with shop.db.transaction() as repos:
        await repos.outbox.mark(reminder.id, "sent", sent_at=NOON)
    assert await queue_rebooking(shop.db, MSK, NOON + timedelta(days=2), no_slots) == 0
    assert await queue_rebooking(shop.db, MSK, NOON + timedelta(days=3), two_slots) == 1
    assert await queue_rebooking(shop.db, MSK, NOON + timedelta(days=4), two_slots) == 0
    [followup] = await outbox(shop.db, "rebook_followup")
    assert followup.dedup_key == f"rebook2:{anna}:{extensions}:2026-11-29"
    assert len(json.loads(followup.payload)["slots"]) == 2


async def test_no_follow_up_after_not_now_or_a_booking(shop: Shop) -> None:
    anna = await shop.client()
    extensions = await shop.service()
    await shop.sale(anna, extensions, days_ago=17)
    await queue_rebooking(shop.db, MSK, NOON, no_slots)
    [reminder] = await outbox(shop.db, "rebook")
    async with shop.db.transaction() as repos:
        await repos.outbox.mark(reminder.id, "sent", sent_at=NOON)
    # Pressed by the customer the reminder went to (its chat is their Telegram id).
    await decline_own(shop.db, reminder.chat_id, reminder.id, NOON + timedelta(hours=1))
    assert await queue_rebooking(shop.db, MSK, NOON + timedelta(days=5), no_slots) == 0
    assert await outbox(shop.db, "rebook_followup") == []


async def test_birthday_once_a_year_across_restarts(shop: Shop) -> None:
    anna = await shop.client()
    await shop.customers.set_birthday(42, Birthday(28, 11), NOON - timedelta(days=100))
    assert await queue_birthdays(shop.db, MSK, NOON) == 1  # 3 days before
    for later in (timedelta(0), timedelta(hours=5), timedelta(days=1), timedelta(days=3)):
        assert await queue_birthdays(shop.db, MSK, NOON + later) == 0
    [greeting] = await outbox(shop.db, "birthday")
    assert greeting.dedup_key == f"birthday:{anna}:2026"
    payload = json.loads(greeting.payload)
    assert payload["percent"] == 15
    assert payload["code"].startswith("BD-")
    # Next year, again once.
    next_year = NOON + timedelta(days=365)
    assert await queue_birthdays(shop.db, MSK, next_year) == 1


async def test_birthday_not_yet_and_too_late_to_earn(shop: Shop) -> None:
    await shop.client()
    await shop.customers.set_birthday(42, Birthday(5, 12), NOON - timedelta(days=100))
    assert await queue_birthdays(shop.db, MSK, NOON) == 0  # 10 days ahead: not yet
    await shop.client(43)
    await shop.customers.set_birthday(43, Birthday(27, 11), NOON - timedelta(days=5))
    assert await queue_birthdays(shop.db, MSK, NOON) == 0  # entered 5 days before: next year
    assert await queue_birthdays(shop.db, MSK, NOON + timedelta(days=364)) == 1


def test_leap_day_birthdays() -> None:
    assert next_birthday(date(2026, 11, 25), 29, 2) == date(2027, 2, 28)
    assert next_birthday(date(2027, 11, 25), 29, 2) == date(2028, 2, 29)
    assert next_birthday(date(2028, 3, 1), 29, 2) == date(2029, 2, 28)


async def test_leap_day_greeting_in_a_common_year(shop: Shop) -> None:
    await shop.client()
    await shop.customers.set_birthday(42, Birthday(29, 2), NOON - timedelta(days=100))
    feb = datetime(2027, 2, 25, 9, 0, tzinfo=UTC)
    assert await queue_birthdays(shop.db, MSK, feb) == 1
    assert await queue_birthdays(shop.db, MSK, feb + timedelta(days=1)) == 0


async def birthday_code(shop: Shop) -> str:
    await shop.customers.set_birthday(42, Birthday(28, 11), NOON - timedelta(days=100))
    await queue_birthdays(shop.db, MSK, NOON)
    [greeting] = await outbox(shop.db, "birthday")
    return str(json.loads(greeting.payload)["code"])


async def test_promo_code_applies_once(shop: Shop) -> None:
    anna = await shop.client()
    code = await birthday_code(shop)
    receipt = await shop.sales.log_sale(
        customer_id=anna, amount=200000, service_id=None, day=None, now=NOON, code=code.lower()
    )
    assert (receipt.amount, receipt.discount, receipt.code) == (170000, 30000, code)
    with pytest.raises(InputError) as error:
        await shop.sales.log_sale(
            customer_id=anna, amount=200000, service_id=None, day=None, now=NOON, code=code
        )
    assert error.value.code == "error-promo-used"


async def test_promo_code_expired_foreign_or_unknown_writes_nothing(shop: Shop) -> None:
    anna = await shop.client()
    bob = await shop.client(43)
    code = await birthday_code(shop)
    later = NOON + timedelta(days=15)  # valid 14 days
    for customer, when, text, expected in [
        (anna, later, code, "error-promo-expired"),
        (bob, NOON, code, "error-promo-other-customer"),
        (anna, NOON, "BD-ZZZZZZ", "error-promo-unknown"),
    ]:
        with pytest.raises(InputError) as error:
            await shop.sales.log_sale(
                customer_id=customer, amount=1000, service_id=None, day=None, now=when, code=text
            )
        assert error.value.code == expected
    async with shop.db.reading() as repos:
        assert await repos.purchases.all_rows() == []
        assert (await repos.retention.promo_code(code)).used_at is None  # type: ignore[union-attr]


async def test_thank_you_with_cross_sell(shop: Shop) -> None:
    anna = await shop.client()
    bob = await shop.client(43)
    manicure = await shop.service("Manicure")
    oil = await shop.service("Cuticle oil", cycle=None)
    await shop.sale(bob, manicure, days_ago=30)
    await shop.sale(bob, oil, days_ago=30)
    await shop.sale(anna, manicure, days_ago=0)
    thanks = [json.loads(row.payload) for row in await outbox(shop.db, "thanks")]
    assert thanks[-1]["suggestion"] == "Cuticle oil"  # what others who bought it bought
    assert thanks[-1]["visits"] == 1
    # A backdated sale (30 days ago) got no thank-you.
    assert len(thanks) == 1


async def test_rating_question_after_h_hours_and_low_rating(shop: Shop) -> None:
    anna = await shop.client()
    await shop.sale(anna, await shop.service(), days_ago=0)
    assert await queue_feedback(shop.db, MSK, NOON + timedelta(hours=2)) == 0
    assert await queue_feedback(shop.db, MSK, NOON + timedelta(hours=3)) == 1
    assert await queue_feedback(shop.db, MSK, NOON + timedelta(hours=4)) == 0
    [question] = await outbox(shop.db, "feedback")
    purchase_id = json.loads(question.payload)["purchase_id"]
    feedback = FeedbackService(shop.db)
    with pytest.raises(InputError):
        await feedback.rate(43, purchase_id, 2, NOON)  # not their visit
    result = await feedback.rate(42, purchase_id, 2, NOON)
    assert result.low
    with pytest.raises(InputError):
        await feedback.rate(42, purchase_id, 5, NOON)
    explained = await feedback.explain(42, purchase_id, "  the gel chipped  ")
    assert explained.stars == 2


async def test_owner_settings_change_the_scans(shop: Shop) -> None:
    settings = ShopService(shop.db)
    await settings.set("lead_days", "7")
    await settings.set("window", "08:00-21:00")
    for key, typed in [
        ("lead_days", "0"),
        ("lead_days", "15"),
        ("window", "21:00-08:00"),
        ("currency", "XYZ"),
        ("nope", "1"),
        ("lead_days", "x" * 4000),
    ]:
        with pytest.raises(InputError):
            await settings.set(key, typed)
    profile = await settings.profile()
    assert profile.lead_days == 7
    anna = await shop.client()
    await shop.sale(anna, await shop.service(), days_ago=14)  # due in 7 days
    early = NOON.replace(hour=5, minute=30)  # 08:30 Moscow: inside the new window
    assert await queue_rebooking(shop.db, MSK, early, no_slots) == 1
