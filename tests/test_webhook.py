"""Webhook mode: Telegram posts updates to the bot's aiohttp app (bot/web.py).

The app runs on aiohttp's test server on 127.0.0.1; the test plays Telegram by posting
updates, and the bot's answers go to the fake Bot API server as in polling mode.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import cli
from bot.app import create_bot, create_dispatcher
from bot.config import Settings, SettingsError, load_settings
from bot.web import NO_WEBHOOK_SECRET, NO_WEBHOOK_URL, create_web_app
from services.ratelimit import RateLimiter
from storage.database import Database
from tests.conftest import FakeClock, make_settings
from tests.fakes.telegram import JSON, FakeTelegram

SECRET = "s3cret_Token-42"
WEBHOOK_URL = "https://bot.example.com/tg/updates"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Webhook:
    client: TestClient[Any, Any]
    fake: FakeTelegram
    db: Database
    settings: Settings

    async def post(self, update: JSON, secret: str | None = SECRET) -> int:
        headers = {HEADER: secret} if secret is not None else {}
        response = await self.client.post("/tg/updates", json=update, headers=headers)
        await response.read()
        return response.status

    async def customers(self) -> int:
        async with self.db.reading() as repos:
            return await repos.customers.count()


@pytest.fixture
async def webhook(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[Webhook]:
    settings = make_settings(fake, sqlite_db, webhook_url=WEBHOOK_URL, webhook_secret=SECRET)
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    bot = create_bot(settings, dp["limiter"])
    app = create_web_app(dp, bot, settings)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()  # the app's start-up: dispatcher hooks, then setWebhook
    try:
        yield Webhook(client, fake, sqlite_db, settings)
    finally:
        await client.close()
        await bot.session.close()


def contact(fake: FakeTelegram, user_id: int) -> JSON:
    return fake.user_message(
        user_id,
        first_name="Anna",
        contact={"phone_number": "79161234567", "first_name": "Anna", "user_id": user_id},
    )


async def test_start_webhook_tells_telegram_the_secret_and_the_update_types(
    webhook: Webhook,
) -> None:
    (call,) = webhook.fake.calls_of("setWebhook")
    assert call.params["url"] == WEBHOOK_URL
    assert call.params["secret_token"] == SECRET
    allowed = call.params["allowed_updates"]
    allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
    assert {"message", "callback_query"} <= set(allowed)
    # The start-up hooks of polling ran too: the command menus are set.
    assert webhook.fake.calls_of("setMyCommands")


async def test_an_update_with_the_secret_is_handled_and_answered(webhook: Webhook) -> None:
    fake = webhook.fake
    assert await webhook.post(fake.user_message(42, "/start", first_name="Anna")) == 200
    # Handled before the 200 (not in the background): the reply is already at Telegram.
    (reply,) = fake.sent_messages(42)
    assert "Share your phone number" in reply["text"]

    assert await webhook.post(contact(fake, 42)) == 200
    assert await webhook.customers() == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_an_update_without_the_right_secret_gets_401_and_changes_nothing(
    webhook: Webhook, secret: str | None
) -> None:
    fake = webhook.fake
    calls = len(fake.calls)
    assert await webhook.post(fake.user_message(42, "/start", first_name="Anna"), secret) == 401
    assert await webhook.post(contact(fake, 42), secret) == 401
    assert len(fake.calls) == calls  # no reply, no edit, nothing
    assert await webhook.customers() == 0


async def test_only_post_on_the_webhook_path(webhook: Webhook) -> None:
    response = await webhook.client.get("/tg/updates", headers={HEADER: SECRET})
    assert response.status == 405
    response = await webhook.client.post("/other", json={}, headers={HEADER: SECRET})
    assert response.status == 404


def test_run_webhook_without_a_secret_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("WEBHOOK_URL", WEBHOOK_URL)
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert cli.main(["run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == NO_WEBHOOK_SECRET
    assert "\n" not in err.strip()

    monkeypatch.setenv("WEBHOOK_SECRET", "   ")  # blank means unset
    assert cli.main(["run", "--webhook"]) == 2
    assert capsys.readouterr().err.strip() == NO_WEBHOOK_SECRET

    monkeypatch.delenv("WEBHOOK_URL")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    assert cli.main(["run", "--webhook"]) == 2
    assert capsys.readouterr().err.strip() == NO_WEBHOOK_URL


@pytest.mark.parametrize("secret", ["with space", "ключ", "a" * 257, "semi;colon"])
def test_a_secret_telegram_would_refuse_is_a_setting_error(secret: str) -> None:
    with pytest.raises(SettingsError, match=r"^Setting WEBHOOK_SECRET: use 1-256 characters"):
        load_settings(webhook_secret=secret, _env_file=None)


def test_webhook_url_must_be_https() -> None:
    with pytest.raises(SettingsError, match=r"^Setting WEBHOOK_URL: Telegram posts only to https"):
        load_settings(webhook_url="http://bot.example.com/hook", _env_file=None)
    settings = load_settings(webhook_url="https://bot.example.com", _env_file=None)
    assert settings.webhook_path == "/"
    assert load_settings(_env_file=None, webhook_url=WEBHOOK_URL).webhook_path == "/tg/updates"


def test_polling_stays_the_default() -> None:
    args = cli.build_parser().parse_args(["run"])
    assert args.webhook is False
    assert cli.build_parser().parse_args(["run", "--webhook"]).webhook is True


async def test_the_webhook_app_serves_health_and_metrics(webhook: Webhook) -> None:
    assert (await webhook.client.get("/healthz")).status == 200
    ready = await webhook.client.get("/readyz")
    assert ready.status == 200, await ready.text()  # the start-up hooks started the worker
    await webhook.post(webhook.fake.user_message(42, "/start", first_name="Anna"))
    text = await (await webhook.client.get("/metrics")).text()
    assert 'bot_updates_total{type="message"} 1.0' in text
