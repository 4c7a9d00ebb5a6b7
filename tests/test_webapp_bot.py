"""The Mini App's chat side (issue 12): /app, the "Book" button, the owners' menu button, the
settings, and the web servers that carry it in both modes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from bot.app import run_bot
from bot.config import SettingsError, load_settings
from bot.web import create_polling_app, create_web_app
from services.catalogue import CatalogueService
from storage.database import Database
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webapp import signed_init_data
from tests.test_webhook import free_port, stop
from tests.webapp_shop import WEBAPP_URL, running_shop


@pytest.fixture
async def shop(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    async with running_shop(fake, sqlite_db, clock) as running:
        yield running


def web_app_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row if "web_app" in button]


async def test_app_opens_the_mini_app_for_owner_and_customer(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/app")
    [button] = web_app_buttons(owner.messages[-1])
    assert button == {"text": "Open the app", "web_app": {"url": WEBAPP_URL}}
    assert "customers" in (owner.last_text or "")
    anna = shop.user(42, first_name="Anna", language_code="ru")
    await anna.send("/app")
    [button] = web_app_buttons(anna.messages[-1])
    assert button["text"] == "Открыть приложение"
    assert "Запись" in (anna.last_text or "")


async def test_book_offers_the_app_beside_the_services(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna", language_code="en")
    await anna.send("/book")
    [button] = web_app_buttons(anna.messages[-1])
    assert button == {"text": "Book in the app", "web_app": {"url": WEBAPP_URL}}


async def test_owners_get_the_menu_button_and_app_in_their_commands(shop: RunningBot) -> None:
    assert shop.fake.menu_buttons[OWNER_ID] == {
        "type": "web_app",
        "text": "Приложение",
        "web_app": {"url": WEBAPP_URL},
    }
    assert 42 not in shop.fake.menu_buttons  # customers keep the commands menu
    owner_menu = [
        c["command"]
        for key, commands in shop.fake.commands.items()
        if str(OWNER_ID) in key[0]
        for c in commands
    ]
    assert "app" in owner_menu


async def test_without_webapp_url_there_is_no_app(app: RunningBot) -> None:
    await CatalogueService(app.db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=app.clock.now
    )
    assert app.fake.menu_buttons == {}
    owner = app.owner
    await owner.send("/app")
    assert "WEBAPP_URL" in (owner.last_text or "") and not web_app_buttons(owner.messages[-1])
    customer = app.user(77, first_name="Guest", language_code="ru")
    await customer.send("/app")
    assert "/book" in (customer.last_text or "")
    menus = [c["command"] for commands in app.fake.commands.values() for c in commands]
    assert "app" not in menus


@pytest.mark.parametrize(
    "url",
    ["http://shop.example/app", "shop.example/app", "https://", "ftp://shop.example/app"],
)
def test_webapp_url_must_be_https(url: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, webapp_url=url)
    assert "WEBAPP_URL" in str(error.value) and "https://" in str(error.value)


def test_webapp_settings_defaults_and_range() -> None:
    settings = load_settings(_env_file=None)
    assert settings.webapp_url is None and settings.webapp_auth_max_age_hours == 24
    with pytest.raises(SettingsError, match="WEBAPP_AUTH_MAX_AGE_HOURS"):
        load_settings(_env_file=None, webapp_auth_max_age_hours="0")


@pytest.fixture
async def served(shop: RunningBot, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "polling":
        web_app = create_polling_app(shop.dp, shop.bot, shop.settings)
    else:
        settings = make_settings(
            shop.fake,
            shop.db,
            webapp_url=WEBAPP_URL,
            webhook_url="https://shop.example/webhook",
            webhook_secret="s3cret",
        )
        web_app = create_web_app(shop.dp, shop.bot, settings)
        # The webhook app runs the dispatcher's hooks itself: polling already did.
        web_app.on_startup.clear()
        web_app.on_shutdown.clear()
    client: TestClient[Any, Any] = TestClient(TestServer(web_app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.mark.parametrize("served", ["polling", "webhook"], indirect=True)
async def test_both_modes_serve_the_app_beside_the_health_routes(
    served: TestClient[Any, Any], shop: RunningBot
) -> None:
    assert (await served.get("/healthz")).status == 200
    signed = signed_init_data(
        "123456:TEST-TOKEN",
        {"id": OWNER_ID, "first_name": "Owner"},
        auth_date=int(shop.clock.now.timestamp()),
    )
    me = await served.get("/app/api/me", headers={"Authorization": "tma " + signed})
    assert me.status == 200 and (await me.json())["role"] == "owner"
    assert (await served.get("/app/api/me")).status == 401


async def test_polling_without_webapp_url_serves_no_app(app: RunningBot) -> None:
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_polling_app(app.dp, app.bot, app.settings), host="127.0.0.1")
    )
    await client.start_server()
    try:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/app/api/me")).status == 404
    finally:
        await client.close()


async def test_polling_with_webapp_url_listens_for_the_app(
    fake: FakeTelegram, sqlite_db: Database
) -> None:
    """`python -m bot run` with WEBAPP_URL: polling, and the Mini App on WEB_HOST:WEB_PORT."""
    port = free_port()
    settings = make_settings(fake, sqlite_db, webapp_url=WEBAPP_URL, web_port=port)
    task = asyncio.create_task(run_bot(settings))
    try:
        await fake.wait_for(lambda c: c.method == "getUpdates")
        (button,) = fake.calls_of("setChatMenuButton")
        assert button.chat_id == OWNER_ID
        # The real clock: launch data signed now is fresh.
        signed = signed_init_data("123456:TEST-TOKEN", {"id": 55, "first_name": "Guest"})
        async with (
            ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{port}/app/api/me", headers={"Authorization": "tma " + signed}
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["role"] == "guest"
    finally:
        await stop(task)
