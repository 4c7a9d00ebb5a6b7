"""Outbox payloads: every kind round-trips through its JSON, and rows written before the payloads
were typed (plain dicts, the same keys) still load."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from services.outbox_payloads import (
    KINDS,
    About,
    Birthday,
    BookingChanged,
    BookingReminder,
    ChannelPost,
    Feedback,
    InboxAnswer,
    InboxMedia,
    InboxOwnerCopy,
    OwnerBooking,
    OwnerLowRating,
    OwnerNewCustomer,
    Payload,
    PayloadError,
    Photo,
    Promo,
    Rebook,
    RebookFollowup,
    ReferralBonus,
    ReferralFriend,
    Text,
    Thanks,
    UnknownKind,
    Winback,
    from_json,
    load,
    to_json,
)
from services.slot_time import slot_minutes, slot_start
from ui.render import RENDERERS

AT = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)

EXAMPLES: list[Payload] = [
    Text("hi"),
    Photo("AgAD1", "-15%"),
    Rebook(service_id=1, service="Маникюр", name="Анна", due=date(2026, 11, 28), slots=(AT,)),
    RebookFollowup(service_id=1, service="Маникюр", slots=()),
    Birthday(code="BD-7KQ2ZX", percent=15, valid_until=date(2026, 12, 10), name="Анна"),
    Thanks(amount=250000, visits=2, total=450000, name="Анна", suggestion=None, points=100),
    Feedback(purchase_id=7, service=None),
    Winback("Анна"),
    BookingReminder(booking_id=3, service="Стрижка", starts_at=AT),
    Promo(text="-15%", photo=None),
    ChannelPost(text="Новая коллекция", photo="AgAD2", button_url="https://t.me/x?start=ch"),
    ReferralBonus(points=300, balance=900, friend="Дарья", referrer="Анна"),
    ReferralFriend(points=300, balance=300, friend="Дарья", referrer="Анна"),
    InboxOwnerCopy(
        customer_id=5,
        inbox_id=9,
        customer="Анна",
        language="ru",
        content="photo",
        text="Такой дизайн можно?",
        about=About(kind="rebook", payload={"service_id": 1}, outbox_id=4, sent_at=AT),
    ),
    InboxMedia(customer_id=5, from_chat_id=500, message_id=42, inbox_id=9),
    InboxAnswer(text="Да"),
    InboxAnswer(from_chat_id=1, message_id=77),
    OwnerNewCustomer(customer_id=5, customer="Анна", source="channel", consent=True),
    OwnerBooking(
        customer_id=5,
        booking_id=3,
        action="moved",
        customer="Анна",
        service="Стрижка",
        starts_at=AT,
        was=AT,
    ),
    OwnerLowRating(customer_id=5, purchase_id=7, stars=2, customer="Анна", comment=None),
    BookingChanged(booking_id=3, action="moved", service="Стрижка", starts_at=AT, was=AT),
]


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_every_kind_round_trips_and_has_a_renderer(payload: Payload) -> None:
    assert from_json(payload.kind, to_json(payload)) == payload
    assert type(payload) in RENDERERS


def test_every_kind_is_covered_here() -> None:
    assert {type(p) for p in EXAMPLES} == set(KINDS.values())


def test_kinds_are_unique_and_the_row_kind_comes_from_the_class() -> None:
    assert len(KINDS) == len({cls.kind for cls in KINDS.values()})
    assert RebookFollowup.kind == "rebook_followup" != Rebook.kind


# Rows as the services wrote them while payloads were plain dicts.
OLD_ROWS = [
    (
        "rebook",
        '{"due": "2026-11-28", "name": "Анна", "service": "Маникюр", "service_id": 1, '
        '"slots": [29402370, 29402400]}',
        Rebook(
            service_id=1,
            service="Маникюр",
            name="Анна",
            due=date(2026, 11, 28),
            slots=(slot_start(29402370), slot_start(29402400)),
        ),
    ),
    (
        "birthday",
        '{"code": "BD-7KQ2ZX", "name": "", "percent": 15, "valid_until": "2026-12-10"}',
        Birthday(code="BD-7KQ2ZX", percent=15, valid_until=date(2026, 12, 10)),
    ),
    (
        "booking_reminder",
        '{"booking_id": 3, "service": "Стрижка", "starts_at": "2026-11-26T07:30:00+00:00"}',
        BookingReminder(booking_id=3, service="Стрижка", starts_at=AT),
    ),
    ("inbox_answer", '{"text": "Да"}', InboxAnswer(text="Да")),
    (
        "inbox_owner",
        '{"about": {"kind": "winback", "outbox_id": 4, "payload": {"name": "A"}, "sent_at": null},'
        ' "content": "text", "customer": "A", "customer_id": 5, "inbox_id": 9, "language": null,'
        ' "quote": null, "text": "hi"}',
        InboxOwnerCopy(
            customer_id=5,
            inbox_id=9,
            customer="A",
            text="hi",
            about=About(kind="winback", payload={"name": "A"}, outbox_id=4),
        ),
    ),
    # A promo without text (a photo only), and a post listed by an older version.
    ("promo", '{"photo": "AgAD1", "text": null}', Promo(text="", photo="AgAD1")),
    ("channel_post", '{"post_id": 12}', ChannelPost()),
]


@pytest.mark.parametrize(("kind", "text", "expected"), OLD_ROWS, ids=[r[0] for r in OLD_ROWS])
def test_rows_written_before_the_payloads_were_typed_still_load(
    kind: str, text: str, expected: Payload
) -> None:
    assert from_json(kind, text) == expected


def test_the_json_keys_stay_what_they_were() -> None:
    thanks = Thanks(amount=1, visits=1, total=1, name="A", suggestion=None, points=0)
    assert json.loads(to_json(thanks)) == {
        "amount": 1,
        "visits": 1,
        "total": 1,
        "name": "A",
        "suggestion": None,
        "points": 0,
    }
    assert json.loads(to_json(Winback("C0"))) == {"name": "C0"}
    # The answer has two shapes: the words, or a message to copy.
    assert json.loads(to_json(InboxAnswer(text="Да"))) == {"text": "Да"}
    rebook = json.loads(to_json(Rebook(service_id=1, service="S", slots=(AT,))))
    assert rebook["slots"] == [slot_minutes(AT)]


def test_unknown_kinds_and_unfit_rows_are_refused() -> None:
    with pytest.raises(UnknownKind):
        from_json("no-such-kind", "{}")
    with pytest.raises(PayloadError):
        from_json("inbox_owner", "{}")  # blanked by /forget
    with pytest.raises(PayloadError):
        from_json("thanks", '{"amount": "a lot", "visits": 1, "total": 1}')
    with pytest.raises(PayloadError):
        load(Rebook, "not json")
    with pytest.raises(PayloadError):
        load(Rebook, to_json(Winback("A")))  # the class decides the kind, not the JSON


def test_slot_minutes_round_trip_and_refuse_what_no_slot_can_be() -> None:
    assert slot_start(slot_minutes(AT)) == AT
    for forged in (0, -5, 10**8, 10**12):
        with pytest.raises(ValueError, match="not a slot"):
            slot_start(forged)
