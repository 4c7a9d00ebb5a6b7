"""The Mini App's JSON API (issue 12) on the running bot: Telegram's launch data, owner against
customer on every endpoint, bookings moved in the app and in chat, and bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.webapp.api import ROUTES
from storage.database import Database
from storage.models import Booking, OutboxMessage, Purchase
from tests.conftest import OWNER_ID, FakeClock, RunningBot, drained
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webapp import forged_init_data, signed_init_data
from tests.webapp_shop import ANNA, BORIS, running_shop, webapp_client

MOSCOW = ZoneInfo("Europe/Moscow")
TOKEN = "123456:TEST-TOKEN"
BOOK, MESSAGE = "/app/api/bookings", "/app/api/owner/customers/1/message"
AT10 = "2026-11-26T10:00:00+03:00"
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow
GUEST = 77

Client = TestClient[Any, Any]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW)


@pytest.fixture
async def shop(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    async with running_shop(fake, sqlite_db, clock) as running:
        yield running


@pytest.fixture
async def api(shop: RunningBot, tmp_path: Path) -> AsyncIterator[Client]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>app</title>", encoding="utf-8")
    (static / "app.js").write_text("export {};", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    async with webapp_client(shop, static) as client:
        yield client


def auth(shop: RunningBot, user_id: int, *, language: str = "en", age: float = 0) -> dict[str, str]:
    user = {"id": user_id, "first_name": f"U{user_id}", "language_code": language}
    signed = int((shop.clock.now - timedelta(seconds=age)).timestamp())
    return {"Authorization": "tma " + signed_init_data(TOKEN, user, auth_date=signed)}


async def call(
    api: Client,
    shop: RunningBot,
    user_id: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    language: str = "en",
) -> tuple[int, Any]:
    headers = auth(shop, user_id, language=language)
    data = None
    if body is not None:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        headers["Content-Type"] = "application/json"
    response = await api.request(method, path, headers=headers, data=data)
    return response.status, await response.json()


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.reading() as repos:
        return int(
            await repos.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


async def book(api: Client, shop: RunningBot, who: int, at: datetime) -> dict[str, Any]:
    status, body = await call(
        api, shop, who, "POST", "/app/api/bookings", {"service_id": 1, "start": at.isoformat()}
    )
    assert status == 201, body
    return dict(body)


# --- launch data ----------------------------------------------------------------------------


async def test_valid_init_data_tells_who_is_calling(api: Client, shop: RunningBot) -> None:
    status, me = await call(api, shop, OWNER_ID, "GET", "/app/api/me", language="ru")
    assert status == 200
    assert me["role"] == "owner" and me["language"] == "ru" and me["currency"] == "RUB"
    assert isinstance(me["texts"], dict)
    assert all(key.startswith("app-") for key in me["texts"])
    _, me = await call(api, shop, ANNA, "GET", "/app/api/me")
    assert (me["role"], me["customer_id"], me["language"]) == ("customer", 1, "en")
    _, me = await call(api, shop, GUEST, "GET", "/app/api/me", language="de")
    assert (me["role"], me["customer_id"], me["language"]) == ("guest", None, "ru")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer x"}, id="other-scheme"),
        pytest.param({"Authorization": "tma "}, id="empty"),
        pytest.param({"Authorization": "tma user=%7B%7D&hash=00"}, id="garbage"),
        pytest.param(
            {
                "Authorization": "tma "
                + forged_init_data(TOKEN, {"id": OWNER_ID, "first_name": "O"})
            },
            id="forged",
        ),
    ],
)
async def test_requests_without_valid_init_data_are_refused(
    api: Client, shop: RunningBot, headers: dict[str, str]
) -> None:
    for path in ("/app/api/me", "/app/api/owner/stats", "/app/api/my"):
        response = await api.get(path, headers=headers)
        assert response.status == 401
        body = await response.json()
        assert body["error"] == "unauthorized"
        assert "Telegram" in body["message"]


async def test_expired_and_future_init_data_are_refused(api: Client, shop: RunningBot) -> None:
    day = 24 * 3600
    old = await api.get("/app/api/me", headers=auth(shop, OWNER_ID, age=day + 1))
    assert old.status == 401
    fresh = await api.get("/app/api/me", headers=auth(shop, OWNER_ID, age=day - 60))
    assert fresh.status == 200
    future = await api.get("/app/api/me", headers=auth(shop, OWNER_ID, age=-3600))
    assert future.status == 401
    skewed = await api.get("/app/api/me", headers=auth(shop, OWNER_ID, age=-60))
    assert skewed.status == 200


async def test_a_changed_user_id_breaks_the_signature(api: Client, shop: RunningBot) -> None:
    headers = auth(shop, ANNA)
    headers["Authorization"] = headers["Authorization"].replace("%3A42", f"%3A{OWNER_ID}")
    response = await api.get("/app/api/owner/week", headers=headers)
    assert response.status == 401


# --- who may call what: every endpoint --------------------------------------------------------


def _concrete(path: str, booking_id: int) -> str:
    return (
        path.replace("/bookings/{id}", f"/bookings/{booking_id}")
        .replace("/customers/{id}", "/customers/1")
        .replace("{id}", "1")
    )


async def test_every_endpoint_refuses_the_wrong_role_and_writes_nothing(
    api: Client, shop: RunningBot
) -> None:
    booking = await book(api, shop, ANNA, local(THURSDAY, 14))
    paths = {path for _, path, _, _ in ROUTES}
    assert len(paths) == len(ROUTES) == 19  # the contract's endpoints, each in the table
    body = {"start": local(THURSDAY, 16).isoformat(), "service_id": 1, "text": "hi"}
    people = ((OWNER_ID, "owner"), (BORIS, "customer"), (GUEST, "guest"))
    allowed_calls = []
    for method, path, allowed, _ in ROUTES:
        url = _concrete(path, booking["id"])
        sent = body if method == "POST" else None
        for who, role in people:
            if allowed is None or role in allowed:
                allowed_calls.append((who, role, method, url, sent))
                continue
            status, answer = await call(api, shop, who, method, url, sent)
            expected = (
                "not_registered" if role == "guest" and "customer" in allowed else "forbidden"
            )
            assert (status, answer["error"]) == (403, expected), (method, url, role)
            assert answer["message"]
    async with shop.db.reading() as repos:
        row = await repos.bookings.get(booking["id"])
    assert row is not None and (row.status, row.starts_at) == ("booked", local(THURSDAY, 14))
    assert await count(shop.db, Booking) == 1
    for kind in ("inbox_answer", "booking_changed"):
        assert await count(shop.db, OutboxMessage, OutboxMessage.kind == kind) == 0
    # The same calls by the right role pass the check (what they then do is tested below).
    for who, role, method, url, sent in allowed_calls:
        status, answer = await call(api, shop, who, method, url, sent)
        assert status not in (401, 403), (method, url, role, answer)


async def test_a_customer_cannot_see_or_change_anothers_booking(
    api: Client, shop: RunningBot
) -> None:
    booking = await book(api, shop, ANNA, local(THURSDAY, 14))
    other = f"/app/api/my/bookings/{booking['id']}"
    missing = "/app/api/my/bookings/999"
    for method, path, body in [
        ("GET", other, None),
        ("POST", other + "/move", {"start": local(THURSDAY, 16).isoformat()}),
        ("POST", other + "/cancel", None),
        ("GET", missing, None),
    ]:
        status, answer = await call(api, shop, BORIS, method, path, body)
        # Someone else's booking looks exactly like one that does not exist.
        assert (status, answer["error"]) == (404, "not_found"), (method, path)
    _, mine = await call(api, shop, BORIS, "GET", "/app/api/my")
    assert mine["bookings"] == []
    _, annas = await call(api, shop, ANNA, "GET", "/app/api/my")
    assert [b["id"] for b in annas["bookings"]] == [booking["id"]]
    async with shop.db.reading() as repos:
        row = await repos.bookings.get(booking["id"])
    assert row is not None and (row.status, row.starts_at) == ("booked", local(THURSDAY, 14))


# --- the customer's stories -------------------------------------------------------------------


async def test_a_customer_books_moves_and_cancels(api: Client, shop: RunningBot) -> None:
    _, listed = await call(api, shop, ANNA, "GET", "/app/api/services")
    assert listed["services"] == [
        {
            "id": 1,
            "name": "Manicure",
            "price": {"amount": 250000, "currency": "RUB", "text": "2\u00a0500\u00a0₽"},
            "minutes": 60,
        }
    ]
    _, days = await call(api, shop, ANNA, "GET", "/app/api/days?service_id=1")
    assert days["days"][0] == "2026-11-25" and "2026-11-29" not in days["days"]  # Sunday off
    _, slots = await call(api, shop, ANNA, "GET", "/app/api/slots?service_id=1&day=2026-11-26")
    assert slots["slots"][0] == "2026-11-26T10:00:00+03:00"
    booked = await book(api, shop, ANNA, local(THURSDAY, 10))
    assert booked["status"] == "booked" and booked["start"] == "2026-11-26T10:00:00+03:00"
    assert booked["customer"]["name"] == "Anna"
    _, slots = await call(api, shop, BORIS, "GET", "/app/api/slots?service_id=1&day=2026-11-26")
    assert "2026-11-26T10:00:00+03:00" not in slots["slots"]
    status, taken = await call(
        api,
        shop,
        BORIS,
        "POST",
        "/app/api/bookings",
        {"service_id": 1, "start": local(THURSDAY, 10, 30).isoformat()},
    )
    assert (status, taken["error"]) == (409, "slot_taken")
    assert "taken" in taken["message"]
    _, card = await call(api, shop, ANNA, "GET", f"/app/api/my/bookings/{booked['id']}")
    assert card["slots"] and card["id"] == booked["id"]
    status, moved = await call(
        api,
        shop,
        ANNA,
        "POST",
        f"/app/api/my/bookings/{booked['id']}/move",
        {"start": local(THURSDAY, 15).isoformat()},
    )
    assert status == 200 and moved["start"] == "2026-11-26T15:00:00+03:00"
    _, mine = await call(api, shop, ANNA, "GET", "/app/api/my")
    assert [b["start"] for b in mine["bookings"]] == ["2026-11-26T15:00:00+03:00"]
    assert mine["points"] == 0
    assert mine["referral_link"].startswith("https://t.me/test_retention_bot?start=r_")
    status, cancelled = await call(
        api, shop, ANNA, "POST", f"/app/api/my/bookings/{booked['id']}/cancel"
    )
    assert status == 200 and cancelled["status"] == "cancelled"
    await drained(shop)
    notices = [m["text"] for m in shop.fake.sent_messages(OWNER_ID)]
    assert len(notices) == 3  # booked, moved, cancelled: as when she does it in chat


async def test_guests_are_sent_to_start(api: Client, shop: RunningBot) -> None:
    status, answer = await call(api, shop, GUEST, "GET", "/app/api/services", language="ru")
    assert (status, answer["error"]) == (403, "not_registered")
    assert "/start" in answer["message"]


# --- bad input: 400, a clear text, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "words"),
    [
        (ANNA, "POST", BOOK, "{not json", "read the request"),
        (ANNA, "POST", BOOK, "[1, 2]", "read the request"),
        (ANNA, "POST", BOOK, {"service_id": 99, "start": AT10}, "no longer exists"),
        (ANNA, "POST", BOOK, {"service_id": "x", "start": AT10}, "whole number"),
        (ANNA, "POST", BOOK, {"service_id": 1, "start": "tomorrow"}, "pick one"),
        (ANNA, "POST", BOOK, {"service_id": 1, "start": "2026-11-26T10:00:00"}, "pick one"),
        (ANNA, "POST", BOOK, {"service_id": 1, "start": "2026-11-24T10:00:00+03:00"}, "taken"),
        (ANNA, "POST", BOOK, {"service_id": 1, "start": "2026-11-26T10:10:00+03:00"}, "taken"),
        (ANNA, "GET", "/app/api/slots?service_id=1&day=26.11.2026", None, "2026-12-01"),
        (ANNA, "GET", "/app/api/slots?service_id=1&day=2026-02-30", None, "2026-12-01"),
        (ANNA, "GET", "/app/api/slots?service_id=1&day=2027-01-30", None, "two weeks"),
        (ANNA, "GET", "/app/api/days?service_id=7", None, "no longer exists"),
        (ANNA, "GET", "/app/api/days", None, "whole number"),
        (OWNER_ID, "GET", "/app/api/owner/week?start=next", None, "2026-12-01"),
        (OWNER_ID, "GET", "/app/api/owner/customers?sort=age", None, "Sort by"),
        (OWNER_ID, "GET", "/app/api/owner/customers?limit=1000", None, "page"),
        (OWNER_ID, "GET", "/app/api/owner/customers?q=" + "x" * 200, None, "too long"),
        (OWNER_ID, "POST", MESSAGE, {"text": "  "}, "write the message"),
        (OWNER_ID, "POST", MESSAGE, {"text": 5}, "write the message"),
        (OWNER_ID, "POST", MESSAGE, {"text": "x" * 2001}, "at most 2000"),
        (OWNER_ID, "POST", MESSAGE, b"\xff\xfe", "read the request"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_with_a_clear_text_and_nothing_written(
    api: Client, shop: RunningBot, user: int, method: str, path: str, body: Any, words: str
) -> None:
    status, answer = await call(api, shop, user, method, path, body)
    assert status in (400, 409), answer
    assert answer["error"] in ("bad_request", "slot_taken")
    assert words in answer["message"]
    assert await count(shop.db, Booking) == 0
    assert await count(shop.db, OutboxMessage) == 0


async def test_errors_speak_russian_to_russian_telegram(api: Client, shop: RunningBot) -> None:
    status, answer = await call(api, shop, ANNA, "POST", "/app/api/bookings", "{", language="ru")
    assert status == 400 and answer["message"].startswith("Запрос не удалось прочитать")


# --- the owner's stories ----------------------------------------------------------------------


async def test_the_owners_week(api: Client, shop: RunningBot) -> None:
    await book(api, shop, ANNA, local(THURSDAY, 10))
    schedule = shop.dp["schedule"]
    await schedule.add_day_off("2026-11-28", shop.clock.now)  # Saturday
    await schedule.add_block("2026-11-26", "15:00-16:00", shop.clock.now)
    status, week = await call(api, shop, OWNER_ID, "GET", "/app/api/owner/week")
    assert status == 200 and week["start"] == "2026-11-25"  # today first
    days = {d["date"]: d for d in week["days"]}
    assert len(days) == 7
    wednesday, thursday = days["2026-11-25"], days["2026-11-26"]
    # Today's free time starts now (12:00), not at opening.
    assert wednesday["free"] == [
        {"start": "2026-11-25T12:00:00+03:00", "end": "2026-11-25T19:00:00+03:00"}
    ]
    assert thursday["hours"] == [{"start": "10:00", "end": "19:00"}]
    assert [b["customer"]["name"] for b in thursday["bookings"]] == ["Anna"]
    assert thursday["free"] == [
        {"start": "2026-11-26T11:00:00+03:00", "end": "2026-11-26T15:00:00+03:00"},
        {"start": "2026-11-26T16:00:00+03:00", "end": "2026-11-26T19:00:00+03:00"},
    ]
    assert thursday["blocks"] == [
        {"start": "2026-11-26T15:00:00+03:00", "end": "2026-11-26T16:00:00+03:00"}
    ]
    assert days["2026-11-28"]["day_off"] and days["2026-11-28"]["free"] == []
    assert days["2026-11-29"]["day_off"] and days["2026-11-29"]["hours"] == []  # Sunday
    _, later = await call(api, shop, OWNER_ID, "GET", "/app/api/owner/week?start=2026-12-07")
    assert later["days"][0]["date"] == "2026-12-07"


async def test_a_booking_moved_in_the_app_is_what_today_shows_and_back(
    api: Client, shop: RunningBot
) -> None:
    booked = await book(api, shop, ANNA, local(THURSDAY, 10))
    _, card = await call(api, shop, OWNER_ID, "GET", f"/app/api/owner/bookings/{booked['id']}")
    assert "2026-11-26T13:00:00+03:00" in card["slots"]
    # Its own time is free for it: the owner may shift it by half an hour.
    assert "2026-11-26T10:30:00+03:00" in card["slots"]
    status, moved = await call(
        api,
        shop,
        OWNER_ID,
        "POST",
        f"/app/api/owner/bookings/{booked['id']}/move",
        {"start": "2026-11-26T13:00:00+03:00"},
    )
    assert status == 200 and moved["start"] == "2026-11-26T13:00:00+03:00"
    await drained(shop)
    told = shop.fake.sent_messages(ANNA)[-1]
    assert told["text"] == (
        "The master moved your booking for Manicure: it is now Thu 26.11 13:00 "
        "(was Thu 26.11 10:00). If the time does not suit you, reschedule or cancel it."
    )
    assert told["reply_markup"]["inline_keyboard"][0][0]["text"] == "🔁 Reschedule"
    owner = shop.owner
    await owner.send("/today 26.11")
    assert "13:00–14:00 Manicure — #1 Anna" in (owner.last_text or "")
    assert "10:00" not in (owner.last_text or "").split("\n", 1)[1]
    # And the other way: Anna moves it in chat; the owner's week shows the new time.
    anna = shop.user(ANNA, first_name="Anna", language_code="en")
    await anna.send("/me")
    await anna.click("Reschedule")
    await anna.click("Fri 27.11")
    await anna.click("11:00")
    assert "moved" in (anna.last_text or "").lower()
    _, week = await call(api, shop, OWNER_ID, "GET", "/app/api/owner/week?start=2026-11-26")
    days = {d["date"]: d for d in week["days"]}
    assert days["2026-11-26"]["bookings"] == []
    assert [b["start"] for b in days["2026-11-27"]["bookings"]] == ["2026-11-27T11:00:00+03:00"]


async def test_the_owners_move_keeps_the_race_rule(api: Client, shop: RunningBot) -> None:
    annas = await book(api, shop, ANNA, local(THURSDAY, 10))
    await book(api, shop, BORIS, local(THURSDAY, 13))
    for start in ("2026-11-26T13:30:00+03:00", "2026-11-26T12:30:00+03:00"):
        status, answer = await call(
            api,
            shop,
            OWNER_ID,
            "POST",
            f"/app/api/owner/bookings/{annas['id']}/move",
            {"start": start},
        )
        assert (status, answer["error"]) == (409, "slot_taken")
    async with shop.db.reading() as repos:
        row = await repos.bookings.get(annas["id"])
    assert row is not None and row.starts_at == local(THURSDAY, 10)
    # Moving within its own time is allowed: its own cells do not block it.
    status, moved = await call(
        api,
        shop,
        OWNER_ID,
        "POST",
        f"/app/api/owner/bookings/{annas['id']}/move",
        {"start": "2026-11-26T10:30:00+03:00"},
    )
    assert status == 200 and moved["end"] == "2026-11-26T11:30:00+03:00"


async def test_the_owner_closes_bookings(api: Client, shop: RunningBot) -> None:
    first = await book(api, shop, ANNA, local(THURSDAY, 10))
    second = await book(api, shop, BORIS, local(THURSDAY, 12))
    base = "/app/api/owner/bookings"
    status, early = await call(api, shop, OWNER_ID, "POST", f"{base}/{first['id']}/done", {})
    assert (status, early["error"]) == (400, "bad_request")
    assert "hasn't started" in early["message"]
    shop.clock.advance(days=1, hours=3)  # Thursday 15:00 in Moscow
    status, done = await call(
        api, shop, OWNER_ID, "POST", f"{base}/{first['id']}/done", {"amount": 300000}
    )
    assert status == 200 and done["status"] == "done"
    status, again = await call(api, shop, OWNER_ID, "POST", f"{base}/{first['id']}/done", {})
    assert (status, again["error"]) == (400, "bad_request")  # closed: no second sale
    async with shop.db.reading() as repos:
        amounts = (await repos.session.scalars(select(Purchase.amount))).all()
    assert amounts == [300000]
    status, no_show = await call(api, shop, OWNER_ID, "POST", f"{base}/{second['id']}/no_show")
    assert status == 200 and no_show["status"] == "no_show"
    third = await book(api, shop, ANNA, local(date(2026, 11, 27), 10))
    status, cancelled = await call(api, shop, OWNER_ID, "POST", f"{base}/{third['id']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    await drained(shop)
    assert shop.fake.sent_messages(ANNA)[-1]["text"] == (
        "The master cancelled your booking for Manicure on Fri 27.11 10:00. "
        "To book another time: /book."
    )
    _, slots = await call(api, shop, BORIS, "GET", "/app/api/slots?service_id=1&day=2026-11-27")
    assert "2026-11-27T10:00:00+03:00" in slots["slots"]  # its time is free again
    status, missing = await call(api, shop, OWNER_ID, "GET", f"{base}/999")
    assert (status, missing["error"]) == (404, "not_found")


async def test_the_customer_list_searches_sorts_and_pages(api: Client, shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale +79160000043 1000 Manicure")
    await owner.send("/sale +79160000042 5000 Manicure")
    await drained(shop)
    url = "/app/api/owner/customers"
    _, by_total = await call(api, shop, OWNER_ID, "GET", f"{url}?sort=total")
    assert by_total["total"] == 2
    assert [i["name"] for i in by_total["items"]] == ["Anna", "Boris"]
    assert by_total["items"][0]["total"]["amount"] == 500000
    assert by_total["items"][0]["visits"] == 1
    assert by_total["items"][0]["last_visit"] == "2026-11-25"
    _, page = await call(api, shop, OWNER_ID, "GET", f"{url}?sort=total&offset=1&limit=1")
    assert (page["total"], [i["name"] for i in page["items"]]) == (2, ["Boris"])
    _, found = await call(api, shop, OWNER_ID, "GET", f"{url}?q=bor")
    assert [i["name"] for i in found["items"]] == ["Boris"]
    _, by_phone = await call(api, shop, OWNER_ID, "GET", f"{url}?q=916%20000%2000%2042")
    assert [i["name"] for i in by_phone["items"]] == ["Anna"]
    for sort in ("predicted", "risk", "last_visit"):
        status, listed = await call(api, shop, OWNER_ID, "GET", f"{url}?sort={sort}")
        assert status == 200 and listed["total"] == 2
        assert {i["at_risk"] for i in listed["items"]} == {False}
    _, card = await call(api, shop, OWNER_ID, "GET", f"{url}/1")
    assert card["name"] == "Anna" and card["consent"] is True
    assert card["history"] == [
        {
            "date": "2026-11-25",
            "service": "Manicure",
            "amount": {"amount": 500000, "currency": "RUB", "text": "5\u00a0000\u00a0₽"},
        }
    ]
    assert card["points"] == 250  # 5 % cashback
    status, gone = await call(api, shop, OWNER_ID, "GET", f"{url}/999")
    assert (status, gone["error"]) == (404, "not_found")


async def test_a_message_to_a_customer_goes_through_the_outbox(
    api: Client, shop: RunningBot
) -> None:
    anna = shop.user(ANNA, first_name="Anna", language_code="en")
    await anna.send("When are you open on Sunday?")  # waits in /inbox
    await drained(shop)
    assert len(await shop.dp["inbox"].open_conversations()) == 1
    status, queued = await call(
        api,
        shop,
        OWNER_ID,
        "POST",
        "/app/api/owner/customers/1/message",
        {"text": "Anna, your nails are ready for a refresh!"},
    )
    assert status == 200 and queued["queued"] is True
    await drained(shop)
    assert shop.fake.sent_messages(ANNA)[-1]["text"].endswith(
        "\nAnna, your nails are ready for a refresh!"
    )
    assert await shop.dp["inbox"].open_conversations() == []  # the owner has answered her
    async with shop.db.transaction() as repos:
        row = await repos.customers.get(2)
        assert row is not None
        row.blocked_at = shop.clock.now
    status, refused = await call(
        api, shop, OWNER_ID, "POST", "/app/api/owner/customers/2/message", {"text": "Hi"}
    )
    assert (status, refused["error"]) == (409, "unreachable")
    assert await count(shop.db, OutboxMessage, OutboxMessage.customer_id == 2) == 0


async def test_the_stats_are_the_chats(api: Client, shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale +79160000043 1000 Manicure")
    await owner.send("/sale +79160000043 2000 Manicure")
    await owner.send("/sale +79160000042 5000 Manicure")
    await drained(shop)
    shop.clock.advance(minutes=1)  # a report counts what happened before its moment
    await owner.send("/stats")
    chat = owner.last_text or ""
    status, stats = await call(api, shop, OWNER_ID, "GET", "/app/api/owner/stats")
    assert status == 200
    for figure in stats["figures"]:
        assert figure["label"] and figure["text"] in chat, figure
    keys = [f["key"] for f in stats["figures"]]
    assert {"customers", "aov", "ltv", "clv_predicted", "abc"} <= set(keys)
    revenue = stats["charts"]["revenue"]
    assert revenue[-1] == {"month": "2026-11", "first": 600000, "repeat": 200000}
    assert stats["charts"]["cohorts"][-1]["cohort"] == "2026-11"
    assert stats["charts"]["cohorts"][-1]["sizes"] == 2


# --- the page ---------------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served_without_login(api: Client) -> None:
    page = await api.get("/app")
    assert page.status == 200 and "<title>app</title>" in await page.text()
    assert page.headers["Cache-Control"] == "no-cache"
    script = await api.get("/app/static/app.js")
    assert script.status == 200 and await script.text() == "export {};"
    for path in ("/app/static/../secret.txt", "/app/static/%2e%2e/secret.txt", "/app/static/x.js"):
        assert (await api.get(path)).status == 404, path


async def test_a_post_with_an_idempotency_key_acts_once(api: Client, shop: RunningBot) -> None:
    booked = await book(api, shop, ANNA, local(THURSDAY, 10))
    await book(api, shop, BORIS, local(THURSDAY, 13))
    url = f"/app/api/owner/bookings/{booked['id']}/move"

    async def move(start: str, key: str) -> tuple[int, Any]:
        headers = auth(shop, OWNER_ID) | {"Idempotency-Key": key}
        response = await api.post(url, json={"start": start}, headers=headers)
        return response.status, await response.json()

    # A move that failed did nothing: the same key may be tried again.
    assert (await move("2026-11-26T13:00:00+03:00", "move-0001"))[0] == 409
    assert (await move("2026-11-26T15:00:00+03:00", "move-0001"))[0] == 200
    status, again = await move("2026-11-26T16:00:00+03:00", "move-0001")  # a retry, or a 2nd tap
    assert (status, again) == (409, {"error": "already_done", "message": "Already done."})
    async with shop.db.reading() as repos:
        row = await repos.bookings.get(booked["id"])
    assert row is not None and row.starts_at == local(THURSDAY, 15)
    assert (await move("2026-11-26T16:00:00+03:00", "bad key!"))[0] == 400
    await drained(shop)
    moved = [m for m in shop.fake.sent_messages(ANNA) if "moved your booking" in m["text"]]
    assert len(moved) == 1


async def test_the_owners_bad_input_changes_nothing(api: Client, shop: RunningBot) -> None:
    booked = await book(api, shop, ANNA, local(THURSDAY, 10))
    base = f"/app/api/owner/bookings/{booked['id']}"
    shop.clock.advance(days=1, hours=3)  # Thursday 15:00: the booking could be closed
    for path, body, words in [
        ("/move", "{", "read the request"),
        ("/move", {"start": "26.11 13:00"}, "pick one"),
        ("/move", {"start": "2026-11-26T14:00:00+03:00"}, "no longer active"),  # it has begun
        ("/done", {"amount": -5}, "whole number"),
        ("/done", {"amount": 0}, "whole number"),
        ("/done", {"amount": "2500"}, "whole number"),
        ("/done", {"amount": True}, "whole number"),
        ("/done", {"amount": 10**12}, "too large"),
        ("/done", "[]", "read the request"),
    ]:
        status, answer = await call(api, shop, OWNER_ID, "POST", base + path, body)
        assert (status, answer["error"]) == (400, "bad_request"), (path, body, answer)
        assert words in answer["message"], (path, body, answer)
    status, bad_id = await call(api, shop, OWNER_ID, "POST", "/app/api/owner/bookings/x/done")
    assert (status, bad_id["error"]) == (400, "bad_request")
    async with shop.db.reading() as repos:
        row = await repos.bookings.get(booked["id"])
    assert row is not None and (row.status, row.starts_at) == ("booked", local(THURSDAY, 10))
    assert await count(shop.db, Purchase) == 0


async def test_a_bug_gets_an_apology_not_a_traceback(
    api: Client, shop: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(shop.dp["catalogue"], "active", broken)
    status, answer = await call(api, shop, ANNA, "GET", "/app/api/services")
    assert (status, answer["error"]) == (500, "internal")
    assert "boom" not in answer["message"] and answer["message"]
    assert "mini app GET /app/api/services failed" in caplog.text


async def test_the_customer_card_counts_no_shows_and_late_cancels(
    api: Client, shop: RunningBot
) -> None:
    """Issue 13 on the card: the lost visits /today shows, as numbers; none for a good customer."""
    late = await book(api, shop, ANNA, local(THURSDAY, 10))  # 22 hours ahead: inside the 24
    status, cancelled = await call(
        api, shop, ANNA, "POST", f"/app/api/my/bookings/{late['id']}/cancel"
    )
    assert status == 200 and cancelled["status"] == "cancelled"
    missed = await book(api, shop, ANNA, local(date(2026, 11, 27), 10))
    await book(api, shop, BORIS, local(date(2026, 11, 27), 12))
    shop.clock.advance(days=2)  # Friday 12:00 in Moscow: her 10:00 has begun
    base = "/app/api/owner/bookings"
    status, no_show = await call(api, shop, OWNER_ID, "POST", f"{base}/{missed['id']}/no_show")
    assert status == 200 and no_show["status"] == "no_show"
    url = "/app/api/owner/customers"
    _, listed = await call(api, shop, OWNER_ID, "GET", url)
    ids = {item["name"]: item["id"] for item in listed["items"]}
    _, anna = await call(api, shop, OWNER_ID, "GET", f"{url}/{ids['Anna']}")
    assert (anna["no_shows"], anna["late_cancels"]) == (1, 1)
    _, boris = await call(api, shop, OWNER_ID, "GET", f"{url}/{ids['Boris']}")
    assert (boris["no_shows"], boris["late_cancels"]) == (0, 0)


async def test_the_stats_carry_the_share_of_lost_visits_as_the_chat_does(
    api: Client, shop: RunningBot
) -> None:
    """Issue 13's /stats line is one of the app's numbers too, word for word."""
    missed = await book(api, shop, ANNA, local(THURSDAY, 10))
    shop.clock.advance(days=2)
    base = "/app/api/owner/bookings"
    status, _ = await call(api, shop, OWNER_ID, "POST", f"{base}/{missed['id']}/no_show")
    assert status == 200
    await shop.owner.send("/stats")
    chat = shop.owner.last_text or ""
    _, stats = await call(api, shop, OWNER_ID, "GET", "/app/api/owner/stats")
    [lost] = [f for f in stats["figures"] if f["key"] == "lost"]
    assert lost["label"] == "Lost visits"
    expected = "In 90 days: 1 booking, 1 of them lost (100 %): no-shows 1, late cancellations 0."
    assert lost["text"] == expected
    assert lost["text"] in chat
