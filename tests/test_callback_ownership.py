"""Every customer button is checked against who pressed it: another customer's ids, or a
stranger's press, are refused and change nothing."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import func, select

import ui.callbacks as callbacks_module
from services.bookings import BookingService
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Rebook
from services.slot_time import slot_minutes
from services.waitlist import WaitlistService
from storage.models import (
    Booking,
    BookingCell,
    Customer,
    OutboxMessage,
    PointsEntry,
    Purchase,
    Rating,
    WaitlistEntry,
)
from tests.conftest import RunningBot, drained, register
from tests.test_once import until
from ui.callbacks import (
    OWNER_CALLBACKS,
    BookDay,
    BookingAction,
    BookMove,
    BookOther,
    BookSlot,
    ConsentChoice,
    ForgetConfirm,
    RateVisit,
    RebookDecline,
    ResumeOffers,
    WaitAsk,
    WaitJoin,
    WaitLeave,
    WaitTake,
)

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)
VICTIM, ATTACKER, STRANGER = 42, 43, 99


def at(day: date, hour: int) -> int:
    return slot_minutes(datetime.combine(day, time(hour), tzinfo=MOSCOW).astimezone(UTC))


# The victim's ids a forged button names (filled in by the fixture).
Ids = dict[str, int]

# Every callback a customer can receive, with forged payloads naming the victim's things.
# `names_someone`: False for buttons that name nobody (they act on the presser's own record),
# so only the stranger's press can be refused; the victim is untouched either way.
CASES: dict[type[CallbackData], tuple[bool, list[Callable[[Ids], CallbackData]]]] = {
    ConsentChoice: (False, [lambda ids: ConsentChoice(agree=False)]),
    ForgetConfirm: (False, [lambda ids: ForgetConfirm(sure=True)]),
    ResumeOffers: (False, [lambda ids: ResumeOffers()]),
    BookSlot: (
        True,
        [lambda ids: BookSlot(service_id=ids["service"], at=at(THURSDAY, 15), ref=ids["ref"])],
    ),
    BookOther: (True, [lambda ids: BookOther(service_id=ids["service"], ref=ids["ref"])]),
    BookDay: (
        True,
        [
            lambda ids: BookDay(
                service_id=ids["service"], day=THURSDAY.toordinal(), ref=ids["ref"]
            ),
            lambda ids: BookDay(
                service_id=ids["service"], day=THURSDAY.toordinal(), move=ids["booking"]
            ),
        ],
    ),
    BookMove: (True, [lambda ids: BookMove(booking_id=ids["booking"], at=at(THURSDAY, 15))]),
    BookingAction: (
        True,
        [
            lambda ids: BookingAction(booking_id=ids["booking"], action="cancel"),
            lambda ids: BookingAction(booking_id=ids["booking"], action="confirm"),
            lambda ids: BookingAction(booking_id=ids["booking"], action="move"),
        ],
    ),
    RebookDecline: (True, [lambda ids: RebookDecline(ref=ids["ref"])]),
    RateVisit: (True, [lambda ids: RateVisit(purchase_id=ids["purchase"], stars=1)]),
    # issue 13: the waitlist
    WaitAsk: (False, [lambda ids: WaitAsk(service_id=ids["service"])]),
    WaitJoin: (False, [lambda ids: WaitJoin(service_id=ids["service"], days=3)]),
    WaitTake: (
        True,
        [lambda ids: WaitTake(entry_id=ids["entry"], at=at(THURSDAY, 15), ref=ids["ref"])],
    ),
    WaitLeave: (True, [lambda ids: WaitLeave(entry_id=ids["entry"])]),
}


def customer_callbacks() -> set[type[CallbackData]]:
    return {
        cls
        for _, cls in inspect.getmembers(callbacks_module, inspect.isclass)
        if issubclass(cls, CallbackData) and cls is not CallbackData
    } - set(OWNER_CALLBACKS)


def test_every_customer_button_is_covered() -> None:
    """A new customer button fails here until it is added to CASES (and checked)."""
    assert customer_callbacks() == set(CASES)


@pytest.fixture
async def shop(app: RunningBot) -> tuple[RunningBot, Ids]:
    await register(app, VICTIM, "Anna", "79161234567")
    await register(app, ATTACKER, "Boris", "79161234568")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 60")
    await app.owner.send("/sale #1 2500 Gel manicure")
    await until(lambda: any("Sale #1" in (m.get("text") or "") for m in app.owner.messages))
    now = app.clock.now
    booking = await BookingService(app.db, MOSCOW).book(
        telegram_id=VICTIM,
        service_id=1,
        starts_at=datetime.combine(THURSDAY, time(10), tzinfo=MOSCOW).astimezone(UTC),
        now=now,
    )
    async with app.db.transaction() as repos:
        payload = Rebook(name="Anna", service_id=1, service="Gel manicure", slots=())
        ref = await enqueue(repos, Outgoing("rebook:1:1:x", VICTIM, 1, now, payload), now)
    assert ref is not None
    entry = await WaitlistService(app.db, MOSCOW).join(
        telegram_id=VICTIM, service_id=1, days=3, now=now
    )
    # Let the queued thank-you and reminder go out first: the test counts the victim's messages.
    await drained(app)
    async with app.db.reading() as repos:
        waiting = await repos.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(("pending", "sending")))
        )
    assert not waiting
    return app, {
        "service": 1,
        "booking": booking.id,
        "purchase": 1,
        "ref": ref,
        "entry": entry.id,
    }


async def snapshot(app: RunningBot) -> dict[str, Any]:
    """Everything of the victim's a button could change, and the counts of everything else."""
    async with app.db.reading() as repos:
        session = repos.session

        async def rows(query: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await session.execute(query)).all()]

        async def total(model: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "victim": await rows(
                select(
                    Customer.telegram_id,
                    Customer.name,
                    Customer.consent,
                    Customer.registered_at,
                    Customer.forgotten_at,
                ).where(Customer.id == 1)
            ),
            "bookings": await rows(
                select(Booking.id, Booking.status, Booking.starts_at, Booking.confirmed_at)
            ),
            # Not the status: the delivery worker sends queued rows meanwhile.
            "outbox": await rows(select(OutboxMessage.id, OutboxMessage.reaction)),
            "ratings": await rows(select(Rating.purchase_id, Rating.stars)),
            "waitlist": await rows(
                select(WaitlistEntry.id, WaitlistEntry.status).where(WaitlistEntry.customer_id == 1)
            ),
            "customers": await total(Customer),
            "purchases": await total(Purchase),
            "cells": await total(BookingCell),
            "points": await total(PointsEntry),
        }


async def forged_press(app: RunningBot, user_id: int, data: str) -> dict[str, Any]:
    person = app.user(user_id, language_code="en")
    if not person.messages:
        await person.send("/help")
    update = app.fake.callback(user_id, person.messages[-1], data)
    query_id = update["callback_query"]["id"]
    await app.fake.wait_until_handled(update)
    assert query_id in app.fake.callback_answers
    return app.fake.callback_answers[query_id]


CASE_LIST = [
    (cls, index, names)
    for cls, (names, builders) in CASES.items()
    for index in range(len(builders))
]


@pytest.mark.parametrize("presser", [ATTACKER, STRANGER], ids=["other-customer", "stranger"])
@pytest.mark.parametrize(
    ("callback", "variant", "names_someone"),
    CASE_LIST,
    ids=[f"{c.__name__}-{i}" for c, i, _ in CASE_LIST],
)
async def test_someone_elses_button_is_refused(
    shop: tuple[RunningBot, Ids],
    presser: int,
    callback: type[CallbackData],
    variant: int,
    names_someone: bool,
) -> None:
    app, ids = shop
    data = CASES[callback][1][variant](ids).pack()
    before = await snapshot(app)
    victim_messages = len(app.fake.sent_messages(VICTIM))
    answer = await forged_press(app, presser, data)
    after = await snapshot(app)
    if presser == ATTACKER and not names_someone:
        # It acted on the attacker's own record; the victim and their things are untouched.
        for key in ("victim", "bookings", "outbox", "ratings", "purchases", "cells", "waitlist"):
            assert after[key] == before[key], key
    else:
        assert answer.get("show_alert") is True, answer  # a short refusal
        assert after == before
    assert len(app.fake.sent_messages(VICTIM)) == victim_messages
