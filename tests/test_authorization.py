"""Owner commands and owner buttons, used by a customer, are refused and change nothing."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from tests.conftest import RunningBot
from ui.callbacks import OWNER_CALLBACKS, OWNER_PREFIX, ServiceArchive
from ui.commands import OWNER_COMMANDS, OWNER_ONLY_COMMANDS

# One valid payload per owner button, so the refusal is not just a parse failure.
SAMPLE_FIELDS: dict[str, object] = {
    "customer_id": 1,
    "service_id": 1,
    "amount": 100,
    "days_ago": 0,
    "purchase_id": 1,
    "confirmed": True,
    "field": "price",
    "archived": True,
    "key": "lead_days",
    "code": "BD-AAAAAA",
    "kind": "all",
    "value": "",
    "send": False,
    "with_button": False,
    "post_id": 1,
    "points": 10,
    "booking_id": 1,
    "weekday": 0,
    "day": 739_945,  # date(2026, 11, 25).toordinal()
    "due": 739_945,  # issue 11
    "view": "abc",
}


def sample(callback: type[CallbackData]) -> str:
    fields = {name: SAMPLE_FIELDS[name] for name in callback.model_fields}
    return callback(**fields).pack()


def test_every_owner_button_carries_the_owner_prefix() -> None:
    for callback in OWNER_CALLBACKS:
        assert callback.__prefix__.startswith(OWNER_PREFIX), callback  # type: ignore[attr-defined]


def test_every_owner_command_is_guarded() -> None:
    assert set(OWNER_ONLY_COMMANDS) == {name for name, _ in OWNER_COMMANDS} - {"help", "cancel"}


async def snapshot(app: RunningBot) -> tuple[int, int, list[tuple[int, int, bool]]]:
    async with app.db.reading() as repos:
        services = [(s.id, s.price, s.archived) for s in await repos.catalogue.all()]
        customers = await repos.customers.count()
        sales = len(await repos.purchases.all_rows())
    return customers, sales, services


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await app.owner.send("/addservice Haircut; 1500; 30; 45")
    await app.owner.send("/addcustomer Ivan +79160000001")
    await app.owner.send("/sale #1 1500 Haircut")
    return app


@pytest.mark.parametrize("command", OWNER_ONLY_COMMANDS)
@pytest.mark.parametrize("args", ["", " #1 100 Haircut"])
async def test_customer_cannot_use_owner_commands(
    shop: RunningBot, command: str, args: str
) -> None:
    before = await snapshot(shop)
    customer = shop.user(77, language_code="en")
    replies = await customer.send(f"/{command}{args}")
    assert [m["text"] for m in replies] == ["This is for the shop owner only."]
    assert await snapshot(shop) == before


@pytest.mark.parametrize("callback", OWNER_CALLBACKS, ids=lambda c: c.__name__)
async def test_customer_cannot_press_owner_buttons(
    shop: RunningBot, callback: type[CallbackData]
) -> None:
    customer = shop.user(77, language_code="ru")
    await customer.send("/start")
    before = await snapshot(shop)
    # A forged press: the customer's client sends owner callback data on a bot message.
    message = customer.messages[-1]
    mark = len(shop.fake.calls)
    update = shop.fake.callback(customer.id, message, sample(callback))
    await shop.fake.wait_for(
        lambda c: (
            c.method.lower() == "answercallbackquery"
            and c.params.get("callback_query_id") == update["callback_query"]["id"]
        ),
        since=mark,
    )
    answer = shop.fake.callback_answers[update["callback_query"]["id"]]
    assert answer["text"] == "Это доступно только владельцу."
    assert await snapshot(shop) == before
    assert len(customer.messages) == 1  # nothing else was said to them


async def test_owner_commands_are_not_in_the_customer_menu(shop: RunningBot) -> None:
    default_menu = shop.fake.my_commands({"type": "default"}, "en")
    names = {c["command"] for c in default_menu}
    assert {"start", "me", "book", "help", "cancel"} <= names
    assert not names & set(OWNER_ONLY_COMMANDS)
    owner_menu = shop.fake.my_commands({"type": "chat", "chat_id": 1000}, "en")
    assert {"sale", "sales", "services", "addcustomer"} <= {c["command"] for c in owner_menu}
    ru = shop.fake.my_commands({"type": "chat", "chat_id": 1000}, "ru")
    assert any(c["description"] == "Записать продажу" for c in ru)


async def test_owner_buttons_work_for_the_owner(shop: RunningBot) -> None:
    """The same forged payloads from the owner are obeyed (so the refusal is about the role)."""
    before = await snapshot(shop)
    owner = shop.owner
    await owner.send("/services")
    message = owner.messages[-1]
    mark = len(shop.fake.calls)
    shop.fake.callback(owner.id, message, sample(ServiceArchive))  # archive service 1
    await shop.fake.wait_for(lambda c: c.method.lower() == "answercallbackquery", since=mark)
    after = await snapshot(shop)
    assert after[2] == [(1, 150000, True)] != before[2]
