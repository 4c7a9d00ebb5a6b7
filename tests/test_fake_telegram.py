"""The fake Bot API server, driven by a real aiogram Bot and Dispatcher over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandStart
from aiogram.methods import GetUpdates
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    ChatJoinRequest,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.fakes.telegram import BOT_ID, FakeTelegram

# ---------------------------------------------------------------- a tiny bot under test


def build_dispatcher(events: list[Any]) -> Dispatcher:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
            resize_keyboard=True,
        )
        await message.answer(f"Hello, {message.from_user.first_name}!", reply_markup=keyboard)

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Yes, please", callback_data="vote:yes"),
                    InlineKeyboardButton(text="No", callback_data="vote:no"),
                ],
                [InlineKeyboardButton(text="Alert", callback_data="alert")],
                [InlineKeyboardButton(text="Site", url="https://example.org")],
            ]
        )
        await message.answer("Pick one", reply_markup=markup)

    @router.message(Command("photo"))
    async def photo(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(b"\x89PNG fake", "p.png"), caption="A photo")

    @router.message(Command("count"))
    async def count(message: Message) -> None:
        sent = await message.answer("Counting 1")
        await sent.edit_text("Counting 2")

    @router.message(Command("silent"))
    async def silent(message: Message) -> None:
        events.append(("silent", message.text))

    @router.callback_query(F.data.startswith("vote:"))
    async def vote(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        choice = (query.data or "").split(":", 1)[1]
        await query.message.edit_text(f"You chose {choice}")
        await query.answer()

    @router.callback_query(F.data == "alert")
    async def alert(query: CallbackQuery) -> None:
        await query.answer("Careful!", show_alert=True)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        if message.contact.user_id != message.from_user.id:
            await message.answer("Please share your own contact")
            return
        await message.answer(
            f"Thanks, {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @router.my_chat_member()
    async def member(update: ChatMemberUpdated) -> None:
        events.append((update.old_chat_member.status, update.new_chat_member.status))

    @router.chat_join_request()
    async def join(request: ChatJoinRequest) -> None:
        events.append(("join", request.from_user.id, request.invite_link))
        await request.approve()

    dp = Dispatcher()
    dp.include_router(router)
    return dp


# ---------------------------------------------------------------- fixtures (copy these)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def events() -> list[Any]:
    return []


@pytest.fixture
async def bot(fake: FakeTelegram, events: list[Any]) -> AsyncIterator[Bot]:
    """A real Bot + Dispatcher long-polling the fake for the duration of a test."""
    async with fake.polling(build_dispatcher(events)) as running:
        yield running


@pytest.fixture
async def plain_bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A Bot without polling (fake.make_bot: aiogram's session minus its 0.25 s close sleep)."""
    client = fake.make_bot()
    yield client
    await client.session.close()


@pytest.fixture
async def production_bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A Bot built exactly like production code builds it, only the server differs."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    client = Bot("123456:TEST", session=session)
    yield client
    await client.session.close()


# ---------------------------------------------------------------- conversations


async def test_echo_and_start_command(fake: FakeTelegram, bot: Bot) -> None:
    anna = fake.user(42, first_name="Anna", username="anna", language_code="ru")

    replies = await anna.send("hello there")
    assert [m["text"] for m in replies] == ["hello there"]
    reply = replies[0]
    assert reply["chat"] == {"id": 42, "type": "private", "first_name": "Anna", "username": "anna"}
    assert reply["from"]["id"] == BOT_ID
    assert reply["from"]["is_bot"] is True

    replies = await anna.send("/start")
    assert [m["text"] for m in replies] == ["Hello, Anna!"]
    assert replies[0]["message_id"] > reply["message_id"]
    buttons = anna.reply_keyboard_buttons()
    assert [(b.text, b.request_contact) for b in buttons] == [("Share phone", True)]

    assert [c.method for c in fake.calls[:2]] == ["getMe", "getUpdates"]
    assert len(fake.calls_of("sendMessage")) == 2
    assert anna.last_text == "Hello, Anna!"
    assert [m["text"] for m in fake.sent_messages(42)] == ["hello there", "Hello, Anna!"]
    start_update = fake.updates[-1]["message"]
    assert start_update["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_inline_button_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(7)
    [menu] = await user.send("/menu")
    assert menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "vote:yes"

    replies = await user.click("Yes")  # substring match: "Yes, please"
    assert [m["text"] for m in replies] == ["You chose yes"]
    assert replies[0]["message_id"] == menu["message_id"]
    assert "reply_markup" not in fake.sent_messages(7)[0]  # edit without markup drops it
    assert len(fake.calls_of("answerCallbackQuery")) == 1

    await user.send("/menu")
    assert await user.click("Alert") == []  # answered by answerCallbackQuery only
    assert user.alerts == ["Careful!"]

    with pytest.raises(AssertionError, match=r"available: \['Yes, please', 'No', 'Alert'"):
        await user.click("Maybe")
    with pytest.raises(AssertionError, match="no callback_data"):
        await user.click("Site")


async def test_contact_sharing(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(55, first_name="Boris")
    await user.send("/start")

    [other] = await user.share_contact("+15550000000", own=False)
    assert other["text"] == "Please share your own contact"

    [thanks] = await user.share_contact("+15551234567")
    assert thanks["text"] == "Thanks, +15551234567"
    assert user.reply_keyboard_buttons() == []  # ReplyKeyboardRemove
    contact = fake.updates[-1]["message"]["contact"]
    assert contact == {"phone_number": "+15551234567", "first_name": "Boris", "user_id": 55}


async def test_photo_upload_edit_and_silence(
    fake: FakeTelegram, bot: Bot, events: list[Any]
) -> None:
    user = fake.user(9)
    [photo] = await user.send("/photo")
    assert photo["caption"] == "A photo"
    assert [size["width"] for size in photo["photo"]] == [90, 320, 800]
    [upload] = fake.calls_of("sendPhoto")[0].files.values()
    assert (upload.filename, upload.data) == ("p.png", b"\x89PNG fake")

    replies = await user.send("/count")
    assert [m["text"] for m in replies] == ["Counting 1", "Counting 2"]
    assert user.last_text == "Counting 2"
    assert [c.params["text"] for c in fake.edits] == ["Counting 2"]

    assert await user.send("/silent", expect_reply=False) == []
    assert events == [("silent", "/silent")]


async def test_wait_for_reports_calls_on_timeout(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(10)
    user.timeout = 0.3
    with pytest.raises(AssertionError, match=r"did not answer message '/silent'(.|\n)*getUpdates"):
        await user.send("/silent")
    with pytest.raises(AssertionError, match="no matching Bot API call"):
        await fake.wait_for(lambda c: c.method == "sendInvoice", timeout=0.05)


async def test_blocking_updates_and_join_requests(
    fake: FakeTelegram, bot: Bot, events: list[Any]
) -> None:
    user = fake.user(77)
    update = user.block_bot()
    await fake.wait_until_fetched(update)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(77, "still there?")

    link = await bot.create_chat_invite_link(
        -1001234567890, name="promo", creates_join_request=True
    )
    assert link.invite_link.startswith("https://t.me/+")
    assert link.creator.id == BOT_ID
    assert (link.name, link.creates_join_request, link.is_primary) == ("promo", True, False)

    fake.chat_join_request(-1001234567890, 77, link.model_dump(exclude_none=True))
    call = await fake.wait_for(lambda c: c.method == "approveChatJoinRequest")
    assert call.ok and call.params == {"chat_id": -1001234567890, "user_id": 77}
    assert fake.chat_members[(-1001234567890, 77)] == "member"
    assert events[0] == ("member", "kicked")
    assert events[1][:2] == ("join", 77)
    assert events[1][2].invite_link == link.invite_link
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(-1001234567890, 77)


# ---------------------------------------------------------------- direct Bot API calls


async def test_injected_429_and_403(fake: FakeTelegram, production_bot: Bot) -> None:
    plain_bot = production_bot
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await plain_bot.send_message(5, "hi")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in str(caught.value)
    assert (await plain_bot.send_message(5, "hi")).message_id == 1
    assert fake.too_many_requests == 1

    fake.fail_next("sendMessage", chat_id=6, error_code=400, description="Bad Request: nope")
    assert (await plain_bot.send_message(5, "other chat")).text == "other chat"
    with pytest.raises(TelegramBadRequest, match="nope"):
        await plain_bot.send_message(6, "hi")

    fake.block(5)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await plain_bot.send_message(5, "hi")
    error = fake.calls[-1].error
    assert error == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    fake.unblock(5)
    await plain_bot.send_message(5, "welcome back")
    assert [m["text"] for m in fake.sent_messages(5)] == ["hi", "other chat", "welcome back"]


async def test_rate_limits(fake: FakeTelegram, plain_bot: Bot) -> None:
    fake.rate_limits(global_per_second=5, per_chat_per_second=1, per_channel_per_minute=2)
    await plain_bot.send_message(1, "a")
    with pytest.raises(TelegramRetryAfter) as caught:
        await plain_bot.send_message(1, "b")  # same chat within a second
    assert caught.value.retry_after >= 1

    for chat_id in range(2, 6):  # 5 tokens: one used above, four more
        await plain_bot.send_message(chat_id, "x")
    with pytest.raises(TelegramRetryAfter):
        await plain_bot.send_message(6, "x")  # global bucket empty

    fake.rate_limits(global_per_second=None, per_chat_per_second=None, per_channel_per_minute=2)
    await plain_bot.send_message(-1001, "one")
    await plain_bot.send_message(-1001, "two")
    with pytest.raises(TelegramRetryAfter) as caught:
        await plain_bot.send_message(-1001, "three")
    assert caught.value.retry_after == 30  # 2 per minute: next token in 30 s
    assert fake.too_many_requests == 3

    fake.rate_limits_off()
    await plain_bot.send_message(-1001, "three")


async def test_edit_message_text(fake: FakeTelegram, plain_bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
    )
    sent = await plain_bot.send_message(3, "draft", reply_markup=markup)
    edited = await plain_bot.edit_message_text(
        "final", chat_id=3, message_id=sent.message_id, reply_markup=markup
    )
    assert isinstance(edited, Message)
    assert edited.text == "final"
    assert edited.edit_date is not None
    assert edited.reply_markup is not None
    assert edited.reply_markup.model_dump() == markup.model_dump()
    stored = fake.sent_messages(3)
    assert len(stored) == 1
    assert stored[0]["text"] == "final"
    assert fake.calls_of("editMessageText")[0].params["message_id"] == sent.message_id

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await plain_bot.edit_message_text(
            "final", chat_id=3, message_id=sent.message_id, reply_markup=markup
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await plain_bot.edit_message_text("x", chat_id=3, message_id=999)

    await plain_bot.edit_message_reply_markup(chat_id=3, message_id=sent.message_id)
    assert "reply_markup" not in stored[0]
    assert await plain_bot.delete_message(3, sent.message_id) is True
    assert fake.sent_messages(3) == []


async def test_long_polling_returns_promptly(fake: FakeTelegram, plain_bot: Bot) -> None:
    old = fake.user_message(1, "old")
    assert await plain_bot(GetUpdates(offset=old["update_id"] + 1, timeout=0)) == []

    started = time.monotonic()
    poll = asyncio.create_task(plain_bot(GetUpdates(timeout=10)))
    await fake.wait_for(lambda c: c.method == "getUpdates" and c.status == 0)
    fake.user_message(1, "/start@test_retention_bot now")
    [update] = await poll
    assert time.monotonic() - started < 1.0
    assert update.message is not None
    assert update.message.text == "/start@test_retention_bot now"
    assert update.message.entities is not None
    assert update.message.entities[0].length == len("/start@test_retention_bot")

    # not confirmed yet: returned again; confirmed by offset: gone, and the poll times out
    assert [u.update_id for u in await plain_bot(GetUpdates(timeout=0))] == [update.update_id]
    started = time.monotonic()
    assert await plain_bot(GetUpdates(offset=update.update_id + 1, timeout=1)) == []
    assert 0.9 < time.monotonic() - started < 2.0


async def test_other_methods(fake: FakeTelegram, plain_bot: Bot) -> None:
    me = await plain_bot.get_me()
    assert (me.id, me.username, me.first_name) == (BOT_ID, "test_retention_bot", "Retention")
    assert await plain_bot.delete_webhook(drop_pending_updates=True) is True

    commands = [BotCommand(command="start", description="Start")]
    ru = [BotCommand(command="start", description="Начать")]
    scope = BotCommandScopeAllPrivateChats()
    await plain_bot.set_my_commands(commands)
    await plain_bot.set_my_commands(ru, scope=scope, language_code="ru")
    assert [c.description for c in await plain_bot.get_my_commands()] == ["Start"]
    found = await plain_bot.get_my_commands(scope=scope, language_code="ru")
    assert [c.description for c in found] == ["Начать"]
    assert fake.my_commands({"type": "all_private_chats"}, "ru") == [
        {"command": "start", "description": "Начать"}
    ]
    await plain_bot.delete_my_commands()
    assert await plain_bot.get_my_commands() == []

    photo = await plain_bot.send_photo(-100500, "AgACexisting", caption="again")
    assert photo.photo is not None and photo.photo[-1].file_id == "AgACexisting"
    assert photo.chat.type == "channel"
    assert (await plain_bot.get_chat(-100500)).title == "Test channel -100500"
    admin = await plain_bot.get_chat_member(-100500, BOT_ID)
    assert admin.status == "administrator"
    assert (await plain_bot.get_chat_member(-100500, 42)).status == "left"
    assert await plain_bot.send_chat_action(42, "typing") is True
    assert await plain_bot.set_chat_menu_button(42, MenuButtonCommands()) is True
    assert fake.menu_buttons[42] == {"type": "commands"}
    edited = await plain_bot.edit_message_caption(
        chat_id=-100500, message_id=photo.message_id, caption="new caption"
    )
    assert isinstance(edited, Message) and edited.caption == "new caption"

    fake.user_message(42, "hi")
    query = fake.callback(42, fake.sent_messages(-100500)[0], "data")
    query_id = query["callback_query"]["id"]
    assert await plain_bot.answer_callback_query(query_id, text="ok") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await plain_bot.answer_callback_query(query_id)


async def test_raw_http_encodings_and_unknown_method(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot123456:TEST"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/sendNothing", json={}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
        form = {"chat_id": "12", "text": "123", "reply_markup": markup}
        async with http.post(f"{url}/sendMessage", data=form) as response:
            body = await response.json()
        async with http.post(f"{url}/sendMessage", json={"chat_id": 12, "text": "json"}) as r2:
            assert (await r2.json())["result"]["message_id"] == 2
        async with http.get(f"{url}/getMe") as r3:
            assert (await r3.json())["result"]["id"] == BOT_ID
    assert body["ok"] is True
    assert body["result"]["text"] == "123"  # free text is never JSON-decoded
    params = fake.calls_of("sendMessage")[0].params
    assert params == {
        "chat_id": 12,
        "text": "123",
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }


# ---------------------------------------------------------------- outages and Telegram's 400s


async def test_outage_answers_raw_html_json_or_nothing_until_switched_off(
    fake: FakeTelegram, plain_bot: Bot
) -> None:
    fake.outage(502, "<html>Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):  # not a TelegramAPIError: aiogram cannot parse it
        await plain_bot.send_message(7, "hi")
    assert (await plain_bot.get_me()).id == BOT_ID  # only output methods are down by default
    fake.outage(500, '{"ok":false,"error_code":500,"description":"Internal Server Error"}',
                content_type="application/json")  # fmt: skip
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await plain_bot.send_message(7, "hi")
    fake.outage(502, "", output_only=False)
    with pytest.raises(ClientDecodeError):
        await plain_bot.get_me()
    assert [c.status for c in fake.calls] == [502, 200, 500, 502]
    fake.outage_off()
    assert (await plain_bot.send_message(7, "back")).text == "back"
    assert [m["text"] for m in fake.sent_messages(7)] == ["back"]


async def test_dropped_connections_before_or_after_the_method_ran(
    fake: FakeTelegram, plain_bot: Bot
) -> None:
    fake.drop_connections(2, "sendMessage")
    for _ in range(2):
        with pytest.raises(TelegramNetworkError):
            await plain_bot.send_message(8, "lost")
    assert fake.sent_messages(8) == []  # never reached "Telegram"
    assert (await plain_bot.send_message(8, "ok")).text == "ok"

    fake.drop_connections(1, processed=True)  # accepted, but the answer never came back
    with pytest.raises(TelegramNetworkError):
        await plain_bot.send_message(8, "accepted")
    assert [m["text"] for m in fake.sent_messages(8)] == ["ok", "accepted"]
    assert [c.dropped for c in fake.calls] == [True, True, False, True]


async def test_texts_over_telegrams_limits_are_refused(fake: FakeTelegram, plain_bot: Bot) -> None:
    assert await plain_bot.send_message(9, "я" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await plain_bot.send_message(9, "x" * 4097)
    # Telegram counts UTF-16 code units: an emoji outside the BMP takes two.
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await plain_bot.send_message(9, "x" * 4095 + "😀")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await plain_bot.send_message(9, "")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await plain_bot.send_photo(9, "AgACfile", caption="c" * 1025)
    sent = await plain_bot.send_photo(9, "AgACfile", caption="c" * 1024)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await plain_bot.edit_message_caption(
            chat_id=9, message_id=sent.message_id, caption="c" * 1025
        )
    first = await plain_bot.send_message(9, "short")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await plain_bot.edit_message_text("x" * 4097, chat_id=9, message_id=first.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await plain_bot.edit_message_text("short", chat_id=9, message_id=first.message_id)


async def test_a_second_get_updates_gets_409(fake: FakeTelegram, plain_bot: Bot) -> None:
    first = asyncio.create_task(plain_bot(GetUpdates(timeout=2)))
    await fake.wait_for(lambda c: c.method.lower() == "getupdates")
    assert await plain_bot(GetUpdates(timeout=0)) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
