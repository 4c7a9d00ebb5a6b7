"""A fake Telegram Bot API server for end-to-end tests.

The real aiogram ``Bot`` and ``Dispatcher`` talk to it over HTTP on 127.0.0.1, so the
whole stack (serialisation, long polling, error mapping) is exercised; only Telegram
itself is replaced.

    async with FakeTelegram() as fake:
        async with fake.polling(dp) as bot:          # real start_polling in a task
            anna = fake.user(42, first_name="Anna")
            replies = await anna.send("/start")      # waits for the bot's answer
            assert "Welcome" in anna.last_text

What the server is not: it keeps no real chats or files, it does not render
``parse_mode`` (texts are stored exactly as sent) and it only knows the methods listed
in ``FakeTelegram._handlers`` (plus whatever a test adds with ``FakeTelegram.register``).
Other methods answer 404 like the real API does for a misspelt method.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import Any, Final, Self

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import BodyPartReader, web

__all__ = [
    "AUTO",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER",
    "Call",
    "FakeTelegram",
    "LocalAiohttpSession",
    "ReplyButton",
    "TelegramApiError",
    "TelegramUser",
    "UploadedFile",
    "is_output_method",
]

JSON = dict[str, Any]

BOT_ID: Final = 123456
BOT_TOKEN: Final = f"{BOT_ID}:TEST"
BOT_USER: Final[JSON] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Retention",
    "username": "test_retention_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

DEFAULT_TIMEOUT: Final = 15.0  # seconds a helper waits for the bot before failing (a deadline: a
# loaded machine, e.g. two test processes fitting the customer-value model, can need more than 5)

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"
_DEFAULT_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad Request: error injected by the test",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Form values are strings; aiogram JSON-encodes everything that is not a str (ints, bools,
# dicts, lists). Free-text parameters must stay strings even when they look like JSON.
_TEXT_PARAMS: Final = frozenset(
    {
        "action", "address", "animation", "audio", "business_connection_id", "callback_query_id",
        "caption", "currency", "custom_title", "description", "document", "emoji", "first_name",
        "inline_message_id", "invite_link", "language_code", "last_name", "message_effect_id",
        "name", "parse_mode", "payload", "phone_number", "photo", "provider_token", "query",
        "question", "result_id", "short_description", "start_parameter", "sticker", "text",
        "title", "url", "vcard", "video", "video_note", "voice", "web_app_query_id",
    }
)  # fmt: skip
_JSON_SCALAR = re.compile(r"-?\d+(?:\.\d+)?|true|false|null")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")

_OUTPUT_PREFIXES: Final = ("send", "edit")
_OUTPUT_EXTRA: Final = frozenset(
    {"copymessage", "copymessages", "forwardmessage", "forwardmessages"}
)
_NOT_RATE_LIMITED: Final = frozenset({"sendchataction"})


def is_output_method(method: str) -> bool:
    """True for methods that post into or edit a chat (send*, edit*, copy/forward)."""
    lowered = method.lower()
    return lowered.startswith(_OUTPUT_PREFIXES) or lowered in _OUTPUT_EXTRA


class _Auto(Enum):
    AUTO = "auto"


AUTO: Final = _Auto.AUTO
"""Sentinel: let the fake compute message entities (a bot_command for "/cmd ...")."""


class TelegramApiError(Exception):
    """Raised inside the fake (also by handlers added with ``register``) to answer an error."""

    def __init__(
        self,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        parameters: JSON | None = None,
    ) -> None:
        if error_code == 429:
            retry_after = max(1, retry_after or 1)
            description = description or f"Too Many Requests: retry after {retry_after}"
        self.error_code = error_code
        self.description = description or _DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        self.parameters = dict(parameters or {})
        if retry_after is not None:
            self.parameters["retry_after"] = retry_after
        super().__init__(f"{error_code} {self.description}")

    def body(self) -> JSON:
        out: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request the bot made. ``status`` is 0 while a getUpdates long poll is pending."""

    method: str
    params: JSON
    at: float  # time.monotonic() when the request arrived
    files: dict[str, UploadedFile] = field(default_factory=dict)
    index: int = -1  # position in FakeTelegram.calls
    status: int = 0  # HTTP status of the answer
    result: Any = None  # "result" sent back on success
    error: JSON | None = None  # error body sent back on failure
    message: JSON | None = None  # snapshot of the chat message a send/edit produced
    dropped: bool = False  # the connection was closed without an answer

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return _normalize_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    def describe(self, origin: float | None = None) -> str:
        params = json.dumps(self.params, ensure_ascii=False, default=str)
        if len(params) > 160:
            params = params[:157] + "..."
        when = f"+{self.at - origin:.3f}s " if origin is not None else ""
        outcome = "pending" if self.status == 0 else str(self.status)
        if self.error:
            outcome += f" {self.error.get('description')}"
        return f"#{self.index} {when}{self.method} {params} -> {outcome}"


@dataclass(frozen=True)
class ReplyButton:
    text: str
    request_contact: bool = False
    request_location: bool = False


@dataclass
class _FailRule:
    method: str  # lower case, "*" for any
    chat_id: int | str | None
    error: TelegramApiError
    remaining: int

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class _Outage:
    """Every request (or every output request) answered with this raw HTTP response."""

    status: int
    body: str
    content_type: str
    output_only: bool
    methods: frozenset[str] | None  # lower case; None: every (output) method

    def matches(self, method: str) -> bool:
        if self.methods is not None:
            return method.lower() in self.methods
        return not self.output_only or is_output_method(method)


@dataclass
class _DropRule:
    method: str  # lower case, "*" for any
    remaining: int
    processed: bool  # True: the method ran (a message was stored) before the drop


class _TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class _RateLimiter:
    """Token buckets: one global, one per chat, one per group/channel (per minute)."""

    def __init__(
        self,
        global_per_second: float | None,
        per_chat_per_second: float | None,
        per_channel_per_minute: int | None,
        per_chat_burst: float,
    ) -> None:
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_channel_per_minute = per_channel_per_minute
        self.per_chat_burst = max(1.0, per_chat_burst)
        self._global: _TokenBucket | None = None
        self._chats: dict[int | str, _TokenBucket] = {}
        self._channels: dict[int | str, _TokenBucket] = {}

    def check(self, chat_id: int | str | None, now: float) -> int | None:
        """Take a token from every bucket that applies, or return retry_after seconds."""
        buckets: list[_TokenBucket] = []
        if self.global_per_second:
            if self._global is None:
                rate = self.global_per_second
                self._global = _TokenBucket(max(1.0, rate), rate, now)
            buckets.append(self._global)
        if chat_id is not None and self.per_chat_per_second:
            rate = self.per_chat_per_second
            bucket = self._chats.get(chat_id)
            if bucket is None:
                bucket = self._chats[chat_id] = _TokenBucket(self.per_chat_burst, rate, now)
            buckets.append(bucket)
        if chat_id is not None and _is_group_like(chat_id) and self.per_channel_per_minute:
            per_minute = self.per_channel_per_minute
            bucket = self._channels.get(chat_id)
            if bucket is None:
                bucket = _TokenBucket(float(per_minute), per_minute / 60, now)
                self._channels[chat_id] = bucket
            buckets.append(bucket)
        wait = max((b.wait_time(now) for b in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return None


def _normalize_chat_id(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"-?\d+", stripped):
            return int(stripped)
        return stripped or None
    return None


def _is_group_like(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    if str(chat_id).startswith("-100"):
        return "channel"
    return "group"


def _decode_param(key: str, value: str) -> Any:
    if key in _TEXT_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "[") or _JSON_SCALAR.fullmatch(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


MAX_TEXT: Final = 4096  # UTF-16 code units after entity parsing (plain text here)
MAX_CAPTION: Final = 1024


def _check_text_length(text: str) -> None:
    if _utf16_len(text) > MAX_TEXT:
        raise TelegramApiError(400, "Bad Request: message is too long")


def _check_caption_length(caption: Any) -> None:
    if isinstance(caption, str) and _utf16_len(caption) > MAX_CAPTION:
        raise TelegramApiError(400, "Bad Request: message caption is too long")


def _command_entities(text: str | None) -> list[JSON] | None:
    if not text:
        return None
    match = _COMMAND.match(text)
    if match is None:
        return None
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _now() -> int:
    return int(time.time())


def _public(message: JSON) -> JSON:
    """The message as the Bot API returns it: only inline keyboards are echoed back."""
    out = dict(message)
    markup = out.get("reply_markup")
    if markup is not None and not (isinstance(markup, dict) and "inline_keyboard" in markup):
        del out["reply_markup"]
    if isinstance(out.get("reply_to_message"), dict):
        inner = _public(out["reply_to_message"])
        inner.pop("reply_to_message", None)
        out["reply_to_message"] = inner
    return out


def _user_dict(
    user_id: int,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
) -> JSON:
    user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _chat_member(user: JSON, status: str) -> JSON:
    """A ChatMember of any status with every field aiogram requires."""
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited", "is_anonymous", "can_restrict_members",
                    "can_promote_members", "can_post_stories", "can_edit_stories",
                    "can_delete_stories", "can_send_welcome_messages",
                ),
                False,
            )
        )  # fmt: skip
        member.update(
            dict.fromkeys(
                (
                    "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                    "can_change_info", "can_invite_users", "can_post_messages",
                    "can_edit_messages", "can_pin_messages",
                ),
                True,
            )
        )  # fmt: skip
    elif status == "restricted":
        member.update(
            dict.fromkeys(
                (
                    "is_member", "can_send_messages", "can_send_audios", "can_send_documents",
                    "can_send_photos", "can_send_videos", "can_send_video_notes",
                    "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                    "can_add_web_page_previews", "can_react_to_messages", "can_edit_tag",
                    "can_change_info", "can_invite_users", "can_pin_messages",
                    "can_manage_topics",
                ),
                False,
            )
        )  # fmt: skip
        member["until_date"] = 0
    elif status == "kicked":
        member["until_date"] = 0
    return member


Handler = Callable[[Call], Any]


class LocalAiohttpSession(AiohttpSession):
    """aiogram's own session, minus the 0.25 s grace sleep ``close()`` does for TLS.

    Against a plain-HTTP server on 127.0.0.1 the sleep only slows every test down;
    aiohttp >= 3.12 already waits for its connections to close.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram:
    """An aiohttp server speaking enough of the Bot API for an aiogram bot."""

    def __init__(self, *, host: str = "127.0.0.1", bot_user: JSON | None = None) -> None:
        self.host = host
        self.bot_user: JSON = dict(bot_user or BOT_USER)
        self.calls: list[Call] = []
        self.updates: list[JSON] = []  # every update ever enqueued, in order
        self.too_many_requests = 0  # number of 429 answers given (rate limits or fail_next)
        # Seconds a successful sendMessage takes to answer (a slow network): messages stay in
        # flight long enough for a test to catch them there.
        self.send_latency = 0.0
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope json, language) -> list
        self.menu_buttons: dict[int | str | None, JSON | None] = {}
        self.invite_links: list[JSON] = []  # as returned by createChatInviteLink
        self.join_requests: dict[tuple[int | str, int], JSON] = {}  # pending ones
        self.chat_members: dict[tuple[int | str, int], str] = {}  # status overrides
        self.deleted_messages: list[JSON] = []
        self.callback_answers: dict[str, JSON] = {}  # callback_query_id -> params
        self.files: dict[str, UploadedFile | str] = {}  # file_id -> upload or url/file_id
        self.blocked: set[int | str] = set()

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._queue: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._delivered_update_id = 0
        self._handled_update_ids: set[int] = set()  # feed_update returned for these
        self.tracks_handling = False  # True once a dispatcher reports finished updates
        self._polling_tokens: set[str] = set()  # bots polled through ``polling``
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._message_ids: dict[int | str, itertools.count[int]] = {}
        self._messages: dict[tuple[int | str, int], JSON] = {}  # every message, both ways
        self._sent: dict[int | str, list[JSON]] = {}  # bot messages per chat, in order
        self._chats: dict[int | str, JSON] = {}
        self._chat_aliases: dict[str, int] = {}  # "@username" -> fake id
        self._users: dict[int, JSON] = {}
        self._pending_callbacks: dict[str, int] = {}  # callback id -> user id
        self._fail_rules: list[_FailRule] = []
        self._outage: _Outage | None = None
        self._drop_rules: list[_DropRule] = []
        self._limiter: _RateLimiter | None = None
        self._custom: dict[str, Handler] = {}
        # --- issue 11: Telegram Business (tests/fakes/business.py) ---
        from tests.fakes.business import FakeBusiness

        self.business = FakeBusiness(self)
        self._handlers: dict[str, Handler] = {
            "getme": lambda call: dict(self.bot_user),
            "getupdates": self._get_updates,
            "logout": lambda call: True,
            "close": lambda call: True,
            "deletewebhook": lambda call: True,
            "setwebhook": lambda call: True,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "copymessage": self._copy_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": lambda call: True,
            "createchatinvitelink": self._create_chat_invite_link,
            "revokechatinvitelink": self._revoke_chat_invite_link,
            "approvechatjoinrequest": lambda call: self._resolve_join_request(call, "member"),
            "declinechatjoinrequest": lambda call: self._resolve_join_request(call, None),
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "setchatmenubutton": self._set_chat_menu_button,
            "deletebusinessmessages": self.business.delete_messages,  # issue 11
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        if self._port is None:
            msg = "FakeTelegram is not started"
            raise RuntimeError(msg)
        return f"http://{self.host}:{self._port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._bump_updates()  # pending long polls answer [] at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def make_bot(self, token: str = BOT_TOKEN, **bot_kwargs: Any) -> Bot:
        """A real aiogram Bot whose session points at this server."""
        session = LocalAiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token, session=session, **bot_kwargs)

    @asynccontextmanager
    async def polling(
        self,
        dp: Dispatcher,
        bot: Bot | None = None,
        *,
        polling_timeout: int = 1,
        **polling_kwargs: Any,
    ) -> AsyncIterator[Bot]:
        """Run ``dp.start_polling`` in a task until the block ends; yields the Bot.

        Returns only once the first getUpdates has arrived, so the bot is live. A bot made
        elsewhere (the app's ``create_bot``) gets this server's session: aiogram's own sleeps
        0.25 s at every close, for TLS connections a plain-HTTP server never has.
        """
        bot = bot if bot is not None else self.make_bot()
        if type(bot.session) is AiohttpSession:
            # Same object, middlewares and settings; only close() differs.
            bot.session.__class__ = LocalAiohttpSession
        self.track_handling(dp)
        self._polling_tokens.add(bot.token)
        mark = len(self.calls)
        task = asyncio.create_task(
            dp.start_polling(
                bot, handle_signals=False, polling_timeout=polling_timeout, **polling_kwargs
            )
        )
        try:
            started = asyncio.create_task(
                self.wait_for(lambda c: c.method.lower() == "getupdates", since=mark)
            )
            await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
            if not started.done():
                started.cancel()
                await asyncio.gather(started, return_exceptions=True)
                await task  # re-raises whatever ended the polling
                msg = "start_polling returned before the first getUpdates"
                raise AssertionError(msg)
            await started
            yield bot
        finally:
            if not task.done():
                try:
                    await dp.stop_polling()
                except RuntimeError:  # polling had not taken its lock yet
                    task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await bot.session.close()

    # ------------------------------------------------------------------ inspection

    def calls_of(self, *methods: str) -> list[Call]:
        wanted = {m.lower() for m in methods}
        return [c for c in self.calls if c.method.lower() in wanted]

    def sent_messages(self, chat_id: int | str) -> list[JSON]:
        """The bot's messages in a chat, oldest first (live dicts: edits show up)."""
        key = _normalize_chat_id(chat_id)
        return list(self._sent.get(key, [])) if key is not None else []

    def message(self, chat_id: int | str, message_id: int) -> JSON | None:
        key = _normalize_chat_id(chat_id)
        return self._messages.get((key, message_id)) if key is not None else None

    @property
    def edits(self) -> list[Call]:
        """Successful edit* calls, oldest first."""
        return [c for c in self.calls if c.ok and c.method.lower().startswith("edit")]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(self._scope_key(scope, language_code), []))

    def describe_calls(self, last: int = 25) -> str:
        if not self.calls:
            return "  (no calls at all)"
        origin = self.calls[0].at
        return "\n".join(f"  {c.describe(origin)}" for c in self.calls[-last:])

    # ------------------------------------------------------------------ behaviour knobs

    def block(self, chat_id: int | str) -> None:
        """Sends and edits to this chat answer 403 "bot was blocked by the user"."""
        key = _normalize_chat_id(chat_id)
        if key is not None:
            self.blocked.add(key)

    def unblock(self, chat_id: int | str) -> None:
        key = _normalize_chat_id(chat_id)
        if key is not None:
            self.blocked.discard(key)

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (``"*"``: any) fail with this error."""
        error = TelegramApiError(error_code, description, retry_after=retry_after)
        rule = _FailRule(method.lower(), _normalize_chat_id(chat_id), error, times)
        self._fail_rules.append(rule)

    def outage(
        self,
        status: int = 502,
        body: str = "<html>Bad Gateway</html>",
        *,
        content_type: str = "text/html",
        output_only: bool = True,
        methods: tuple[str, ...] | None = None,
    ) -> None:
        """Until ``outage_off()``, answer every output request (``output_only=False``: every
        request, getUpdates too; ``methods``: only these) with this raw response, as a proxy
        in front of Telegram does when Telegram is down: ``502`` + HTML, ``500`` + a JSON
        error, or an empty body."""
        wanted = frozenset(m.lower() for m in methods) if methods is not None else None
        self._outage = _Outage(status, body, content_type, output_only, wanted)

    def outage_off(self) -> None:
        self._outage = None

    def drop_connections(
        self, times: int = 1, method: str = "*", *, processed: bool = False
    ) -> None:
        """Close the connection without an answer for the next ``times`` calls of ``method``.

        ``processed=True`` drops it after the method ran (Telegram accepted the message but the
        answer was lost): the case where a retry delivers a message twice.
        """
        self._drop_rules.append(_DropRule(method.lower(), times, processed))

    def rate_limits(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_channel_per_minute: int | None = 20,
        *,
        per_chat_burst: float = 1,
    ) -> None:
        """Answer 429 when sends exceed Telegram's documented limits (token buckets).

        ``per_chat_burst`` is how many messages a single chat may receive back to back
        before the per-second rate applies. Call ``rate_limits_off()`` to disable.
        """
        self._limiter = _RateLimiter(
            global_per_second, per_chat_per_second, per_channel_per_minute, per_chat_burst
        )

    def rate_limits_off(self) -> None:
        self._limiter = None

    def register(self, method: str, handler: Handler) -> None:
        """Serve an extra method (or override one). ``handler(call)`` returns the result
        or raises TelegramApiError."""
        self._custom[method.lower()] = handler

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str | None = None,
        title: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """Declare a chat's type/title/username (otherwise guessed from its id)."""
        chat = self.chat(chat_id)
        if type is not None:
            chat["type"] = type
        if title is not None:
            chat["title"] = title
        if username is not None:
            chat["username"] = username
            self._chat_aliases[f"@{username}".lower()] = chat_id
        return chat

    def set_chat_member(self, chat_id: int | str, user_id: int, status: str) -> None:
        """What getChatMember answers for this user ("member", "left", "kicked", ...)."""
        key = _normalize_chat_id(chat_id)
        if key is not None:
            self.chat_members[(key, user_id)] = status

    # ------------------------------------------------------------------ update injection

    def enqueue(self, update: JSON) -> JSON:
        """Queue a raw update (an update_id is assigned unless present); returns it."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._update_ids = itertools.count(self._last_update_id + 1)
        self._queue.append(update)
        self.updates.append(update)
        self._bump_updates()
        return update

    def user_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        contact: JSON | None = None,
        entities: list[JSON] | _Auto | None = AUTO,
        **extra: Any,
    ) -> JSON:
        """A private message from a user; returns the update. Extra kwargs go into the
        message (e.g. ``photo=[...]``)."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        message = self._new_message(user_id, sender=user)
        if text is not None:
            message["text"] = text
            found = _command_entities(text) if entities is AUTO else entities
            if found:
                message["entities"] = found
        if contact is not None:
            message["contact"] = dict(contact)
        message.update(extra)
        return self.enqueue({"message": message})

    def callback(
        self,
        user_id: int,
        message: JSON,
        data: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        callback_id: str | None = None,
    ) -> JSON:
        """A callback_query from a user pressing an inline button; returns the update."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        chat_id = message["chat"]["id"]
        current = self._messages.get((chat_id, message["message_id"]), message)
        query_id = callback_id or str(secrets.randbits(62))
        self._pending_callbacks[query_id] = user_id
        query = {
            "id": query_id,
            "from": user,
            "message": _public(current),
            "chat_instance": f"ci{abs(chat_id)}",
            "data": data,
        }
        return self.enqueue({"callback_query": query})

    def chat_join_request(
        self,
        chat_id: int,
        user_id: int,
        invite_link: JSON | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        bio: str | None = None,
    ) -> JSON:
        """A user asks to join a chat (through ``invite_link`` if given); returns the update."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        request: JSON = {
            "chat": dict(self.chat(chat_id)),
            "from": user,
            "user_chat_id": user_id,
            "date": _now(),
        }
        if invite_link is not None:
            request["invite_link"] = dict(invite_link)
        if bio is not None:
            request["bio"] = bio
        self.join_requests[(chat_id, user_id)] = request
        return self.enqueue({"chat_join_request": request})

    def my_chat_member(self, user_id: int, old_status: str, new_status: str) -> JSON:
        """The bot's status changed in a private chat ("member" -> "kicked" = user blocked
        the bot). Also blocks/unblocks the chat accordingly. Returns the update."""
        user = self._remember_user(user_id, None, None, None, None)
        update = {
            "chat": dict(self.chat(user_id)),
            "from": user,
            "date": _now(),
            "old_chat_member": _chat_member(dict(self.bot_user), old_status),
            "new_chat_member": _chat_member(dict(self.bot_user), new_status),
        }
        if new_status == "kicked":
            self.block(user_id)
        elif new_status == "member":
            self.unblock(user_id)
        return self.enqueue({"my_chat_member": update})

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> TelegramUser:
        return TelegramUser(
            self,
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline, not a cancel scope
        *,
        since: int = 0,
    ) -> Call:
        """The first call at index >= ``since`` matching ``predicate``, waiting if needed.

        A getUpdates call is seen once, when it arrives (status 0, still pending).
        """
        call = await self.next_call(predicate, timeout, since=since)
        if call is None:
            msg = f"no matching Bot API call within {timeout}s; last calls:\n"
            raise AssertionError(msg + self.describe_calls())
        return call

    async def next_call(
        self,
        predicate: Callable[[Call], bool],
        timeout: float,  # noqa: ASYNC109
        *,
        since: int = 0,
    ) -> Call | None:
        """Like ``wait_for`` but returns None on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = max(since, 0)
        while True:
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._wait_event(self._calls_changed, remaining)

    def track_handling(self, dp: Dispatcher) -> None:
        """Know when the dispatcher has finished an update (its handlers and error handlers).

        A conversation turn ends then, not after a guessed quiet period: a reply that the
        rate limiter holds back for a second still belongs to the turn.
        """
        if getattr(dp, "_fake_tracks_handling", False):
            return
        feed_update = dp.feed_update

        async def tracked(bot: Bot, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed_update(bot, update, **kwargs)
            finally:
                self._handled_update_ids.add(int(update.update_id))
                self._bump_calls()

        dp.feed_update = tracked  # type: ignore[method-assign]
        dp._fake_tracks_handling = True  # type: ignore[attr-defined]
        self.tracks_handling = True

    async def wait_until_handled(
        self,
        update: JSON | int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until the dispatcher has finished handling this update."""
        await self._wait_update(update, "handled", timeout, self._handled_update_ids.__contains__)

    async def wait_until_fetched(
        self,
        update: JSON | int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until getUpdates has handed this update to the bot."""
        await self._wait_update(
            update, "fetched", timeout, lambda update_id: self._delivered_update_id >= update_id
        )

    async def _wait_update(
        self,
        update: JSON | int,
        what: str,
        timeout: float,  # noqa: ASYNC109
        reached: Callable[[int], bool],
    ) -> None:
        update_id = update if isinstance(update, int) else int(update["update_id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not reached(update_id):
            remaining = deadline - loop.time()
            if remaining <= 0:
                msg = f"update {update_id} was not {what} within {timeout}s; last calls:\n"
                raise AssertionError(msg + self.describe_calls())
            await self._wait_event(self._calls_changed, remaining)

    @staticmethod
    async def _wait_event(event: asyncio.Event, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def _bump_updates(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _bump_calls(self) -> None:
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if (
            self._polling_tokens
            and method.lower() == "getupdates"
            and request.match_info["token"] not in self._polling_tokens
        ):
            # A stray bot (a killed test's child still polling the port this server now has)
            # must not take this test's updates; it is not recorded either.
            return web.json_response(TelegramApiError(401).body(), status=401)
        params, files = await self._read_params(request)
        call = Call(method, params, time.monotonic(), files, index=len(self.calls))
        self.calls.append(call)
        self._bump_calls()
        outage = self._outage
        if outage is not None and outage.matches(method):
            call.status = outage.status
            call.error = {"raw": outage.body}
            self._bump_calls()
            return web.Response(
                status=outage.status, text=outage.body, content_type=outage.content_type
            )
        drop = self._take_drop_rule(method)
        if drop is not None and not drop.processed:
            return await self._drop(request, call)
        try:
            result = self._dispatch(call)
            if isinstance(result, Awaitable):
                result = await result
            if drop is not None:
                return await self._drop(request, call)
        except TelegramApiError as error:
            call.status = error.error_code
            call.error = error.body()
            if error.error_code == 429:
                self.too_many_requests += 1
            self._bump_calls()
            return web.json_response(call.error, status=error.error_code)
        if self.send_latency and method.lower() == "sendmessage":
            await asyncio.sleep(self.send_latency)
        call.status = 200
        call.result = copy.deepcopy(result)
        self._bump_calls()
        return web.json_response({"ok": True, "result": result})

    def _take_drop_rule(self, method: str) -> _DropRule | None:
        for rule in self._drop_rules:
            if rule.remaining > 0 and rule.method in ("*", method.lower()):
                rule.remaining -= 1
                self._drop_rules = [r for r in self._drop_rules if r.remaining > 0]
                return rule
        return None

    async def _drop(self, request: web.Request, call: Call) -> web.Response:
        """Close the TCP connection without an answer: the client sees a disconnect."""
        call.dropped = True
        self._bump_calls()
        if request.transport is not None:
            request.transport.close()
        # aiohttp finds the transport closed and writes nothing.
        return web.Response(status=499)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = {key: _decode_param(key, value) for key, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is not None:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files[part.name] = UploadedFile(part.name, part.filename, content_type, data)
                else:
                    text = data.decode(part.get_charset(default="utf-8"))
                    params[part.name] = _decode_param(part.name, text)
        else:  # application/x-www-form-urlencoded, what aiogram sends without files
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = _decode_param(key, value)
        return params, files

    def _dispatch(self, call: Call) -> Any:
        """Injected failures, blocks and rate limits first; then the method itself."""
        method = call.method.lower()
        handler = self._custom.get(method) or self._handlers.get(method)
        if handler is None:
            raise TelegramApiError(404, "Not Found: method not found")
        chat_id = call.chat_id
        for rule in self._fail_rules:
            if rule.remaining > 0 and rule.matches(method, chat_id):
                rule.remaining -= 1
                self._fail_rules = [r for r in self._fail_rules if r.remaining > 0]
                raise rule.error
        if is_output_method(method) and chat_id is not None:
            if chat_id in self.blocked:
                raise TelegramApiError(403, BLOCKED)
            limited = not method.startswith("edit") and method not in _NOT_RATE_LIMITED
            if self._limiter is not None and limited:
                retry_after = self._limiter.check(chat_id, time.monotonic())
                if retry_after is not None:
                    raise TelegramApiError(429, retry_after=retry_after)
        return handler(call)

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(self, call: Call) -> list[JSON]:
        params = call.params
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._queue = self._queue[offset:]
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0

        self._poll_generation += 1
        generation = self._poll_generation
        self._bump_updates()  # an older pending poll is now superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise TelegramApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if self._queue or self._closing or remaining <= 0:
                break
            await self._wait_event(self._updates_changed, remaining)
        batch = self._queue[:limit]
        if batch:
            self._delivered_update_id = max(self._delivered_update_id, batch[-1]["update_id"])
        return batch

    # ------------------------------------------------------------------ chats & messages

    def chat(self, chat_id: int | str) -> JSON:
        """The Chat object for an id (created on first use)."""
        key = self._resolve_chat_id(chat_id)
        chat = self._chats.get(key)
        if chat is None:
            assert isinstance(key, int)
            kind = _chat_type(key)
            chat = {"id": key, "type": kind}
            if kind == "private":
                user = self._users.get(key)
                chat["first_name"] = user["first_name"] if user else "User"
                for name in ("last_name", "username"):
                    if user and name in user:
                        chat[name] = user[name]
            else:
                chat["title"] = f"Test {kind} {key}"
            self._chats[key] = chat
        return chat

    def _resolve_chat_id(self, value: Any) -> int:
        key = _normalize_chat_id(value)
        if isinstance(key, int):
            return key
        if isinstance(key, str) and key.startswith("@"):
            alias = key.lower()
            if alias not in self._chat_aliases:
                new_id = -1001000000000 - len(self._chat_aliases) - 1
                self._chat_aliases[alias] = new_id
                self._chats[new_id] = {
                    "id": new_id,
                    "type": "channel",
                    "title": key[1:],
                    "username": key[1:],
                }
            return self._chat_aliases[alias]
        raise TelegramApiError(400, "Bad Request: chat not found")

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSON:
        known = self._users.get(user_id)
        if known is None or first_name is not None:
            user = _user_dict(user_id, first_name or "Test", last_name, username, language_code)
            self._users[user_id] = user
            chat = self._chats.get(user_id)
            if chat is not None and chat["type"] == "private":
                chat["first_name"] = user["first_name"]
                for name in ("last_name", "username"):
                    if name in user:
                        chat[name] = user[name]
                    else:
                        chat.pop(name, None)
            return dict(user)
        return dict(known)

    def _new_message(self, chat_id: int, *, sender: JSON | None) -> JSON:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        chat = dict(self.chat(chat_id))
        message: JSON = {"message_id": next(counter), "date": _now(), "chat": chat}
        if sender is not None:
            message["from"] = sender
        if chat["type"] == "channel":
            message["sender_chat"] = chat
            message.pop("from", None)
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _outgoing(self, call: Call, content: JSON) -> JSON:
        """Store a bot message built from ``content`` plus the common send parameters."""
        chat_id = self._resolve_chat_id(call.params.get("chat_id"))
        message = self._new_message(chat_id, sender=dict(self.bot_user))
        message.update({k: v for k, v in content.items() if v is not None})
        params = call.params
        if params.get("reply_markup") is not None:
            message["reply_markup"] = params["reply_markup"]
        reply_to = self._reply_target(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = dict(reply_to)
        self._sent.setdefault(chat_id, []).append(message)
        call.message = copy.deepcopy(message)
        return _public(message)

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        target = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            target = reply_parameters.get("message_id")
        if not isinstance(target, int):
            return None
        found = self._messages.get((chat_id, target))
        if found is None:
            raise TelegramApiError(400, "Bad Request: message to be replied not found")
        return found

    def _find_message(self, params: JSON, what: str) -> JSON:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message_id = params.get("message_id")
        message = self._messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if message is None:
            raise TelegramApiError(400, f"Bad Request: message to {what} not found")
        return message

    def _find_bot_message(self, params: JSON) -> JSON:
        message = self._find_message(params, "edit")
        sender = message.get("from") or {}
        if sender.get("id") != self.bot_user["id"] and "sender_chat" not in message:
            raise TelegramApiError(400, "Bad Request: message can't be edited")
        return message

    def _new_file_id(self) -> str:
        return "AgAC" + secrets.token_urlsafe(24)

    # ------------------------------------------------------------------ method handlers

    def _get_webhook_info(self, call: Call) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise TelegramApiError(400, "Bad Request: can't parse commands JSON object")
        key = self._scope_key(call.params.get("scope"), call.params.get("language_code"))
        self.commands[key] = commands
        return True

    def _delete_my_commands(self, call: Call) -> bool:
        key = self._scope_key(call.params.get("scope"), call.params.get("language_code"))
        self.commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSON]:
        key = self._scope_key(call.params.get("scope"), call.params.get("language_code"))
        return list(self.commands.get(key, []))

    def _send_message(self, call: Call) -> JSON:
        if call.params.get("business_connection_id") is not None:  # issue 11
            return self.business.send_message(call)
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        _check_text_length(text)
        return self._outgoing(call, {"text": text, "entities": call.params.get("entities")})

    def _send_photo(self, call: Call) -> JSON:
        photo = call.params.get("photo")
        upload: UploadedFile | None = None
        if isinstance(photo, str) and photo.startswith("attach://"):
            upload = call.files.get(photo.removeprefix("attach://"))
        elif photo is None:
            upload = call.files.get("photo")
        if upload is not None:
            file_id = self._new_file_id()
            self.files[file_id] = upload
            size = len(upload.data)
        elif isinstance(photo, str) and photo:
            is_url = photo.startswith(("http://", "https://"))
            file_id = self._new_file_id() if is_url else photo
            self.files.setdefault(file_id, photo)
            size = 0
        else:
            raise TelegramApiError(400, "Bad Request: there is no photo in the request")
        caption = call.params.get("caption")
        _check_caption_length(caption)
        content: JSON = {
            "photo": self._photo_sizes(file_id, size),
            "caption": caption,
            "caption_entities": call.params.get("caption_entities"),
        }
        return self._outgoing(call, content)

    @staticmethod
    def _photo_sizes(file_id: str, size: int) -> list[JSON]:
        unique = secrets.token_hex(6)
        dims = [(90, 60), (320, 213), (800, 533)]
        sizes = []
        for number, (width, height) in enumerate(dims, start=1):
            largest = number == len(dims)
            sizes.append(
                {
                    "file_id": file_id if largest else f"{file_id}-{width}",
                    "file_unique_id": f"{unique}{number}",
                    "width": width,
                    "height": height,
                    "file_size": max(1, size * width // 800) if size else 1000 * number,
                }
            )
        return sizes

    def _copy_message(self, call: Call) -> JSON:
        source = self._find_message(
            {
                "chat_id": call.params.get("from_chat_id"),
                "message_id": call.params.get("message_id"),
            },
            "copy",
        )
        content: JSON = {
            key: copy.deepcopy(source[key])
            for key in ("text", "entities", "photo", "contact")
            if key in source
        }
        caption = call.params.get("caption", source.get("caption"))
        if caption is not None:
            content["caption"] = caption
        if call.params.get("reply_markup") is None and "inline_keyboard" in (
            source.get("reply_markup") or {}
        ):
            content["reply_markup"] = copy.deepcopy(source["reply_markup"])
        message = self._outgoing(call, content)
        return {"message_id": message["message_id"]}

    def _edit(self, call: Call, changes: JSON) -> JSON | bool:
        """Apply ``changes`` (None removes a key) plus reply_markup; 400 if nothing changes."""
        if call.params.get("inline_message_id") is not None:
            return True
        message = self._find_bot_message(call.params)
        changes = {**changes, "reply_markup": call.params.get("reply_markup")}
        if all(message.get(key) == value for key, value in changes.items()):
            raise TelegramApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = _now()
        call.message = copy.deepcopy(message)
        return _public(message)

    def _edit_message_text(self, call: Call) -> JSON | bool:
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        if call.params.get("inline_message_id") is None:
            message = self._find_bot_message(call.params)
            if "text" not in message:
                raise TelegramApiError(400, "Bad Request: there is no text in the message to edit")
        _check_text_length(text)
        return self._edit(call, {"text": text, "entities": call.params.get("entities")})

    def _edit_message_caption(self, call: Call) -> JSON | bool:
        if call.params.get("inline_message_id") is None:
            message = self._find_bot_message(call.params)
            if "text" in message:
                raise TelegramApiError(
                    400, "Bad Request: there is no caption in the message to edit"
                )
        _check_caption_length(call.params.get("caption"))
        changes = {
            "caption": call.params.get("caption"),
            "caption_entities": call.params.get("caption_entities"),
        }
        return self._edit(call, changes)

    def _edit_message_reply_markup(self, call: Call) -> JSON | bool:
        return self._edit(call, {})

    def _delete_message(self, call: Call) -> bool:
        message = self._find_message(call.params, "delete")
        chat_id = message["chat"]["id"]
        del self._messages[(chat_id, message["message_id"])]
        sent = self._sent.get(chat_id, [])
        if message in sent:
            sent.remove(message)
        self.deleted_messages.append(message)
        return True

    def _answer_callback_query(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id", ""))
        if query_id not in self._pending_callbacks or query_id in self.callback_answers:
            raise TelegramApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = dict(call.params)
        return True

    def _create_chat_invite_link(self, call: Call) -> JSON:
        self._resolve_chat_id(call.params.get("chat_id"))  # 400 without a chat_id
        link: JSON = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
            "creator": dict(self.bot_user),
            "creates_join_request": bool(call.params.get("creates_join_request", False)),
            "is_primary": False,
            "is_revoked": False,
        }
        for key in ("name", "expire_date", "member_limit"):
            if call.params.get(key) is not None:
                link[key] = call.params[key]
        if link["creates_join_request"] and "member_limit" in link:
            raise TelegramApiError(
                400, "Bad Request: member limit can't be specified for links requiring approval"
            )
        self.invite_links.append(link)
        return dict(link)

    def _revoke_chat_invite_link(self, call: Call) -> JSON:
        url = call.params.get("invite_link")
        for link in self.invite_links:
            if link["invite_link"] == url:
                link["is_revoked"] = True
                return dict(link)
        raise TelegramApiError(400, "Bad Request: INVITE_HASH_EXPIRED")

    def _resolve_join_request(self, call: Call, status: str | None) -> bool:
        chat_id = self._resolve_chat_id(call.params.get("chat_id"))
        user_id = call.params.get("user_id")
        if not isinstance(user_id, int) or self.join_requests.pop((chat_id, user_id), None) is None:
            raise TelegramApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        if status is not None:
            self.chat_members[(chat_id, user_id)] = status
        return True

    def _get_chat(self, call: Call) -> JSON:
        chat = dict(self.chat(self._resolve_chat_id(call.params.get("chat_id"))))
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": dict.fromkeys(
                    (
                        "unlimited_gifts", "limited_gifts", "unique_gifts",
                        "premium_subscription", "gifts_from_channels",
                    ),
                    False,
                ),
            }
        )  # fmt: skip
        return chat

    def _get_chat_member(self, call: Call) -> JSON:
        chat_id = self._resolve_chat_id(call.params.get("chat_id"))
        user_id = call.params.get("user_id")
        if not isinstance(user_id, int):
            raise TelegramApiError(400, "Bad Request: invalid user_id specified")
        if user_id == self.bot_user["id"]:
            return _chat_member(dict(self.bot_user), "administrator")
        default = "member" if chat_id == user_id else "left"
        status = self.chat_members.get((chat_id, user_id), default)
        user = self._users.get(user_id) or _user_dict(user_id, "User")
        return _chat_member(dict(user), status)

    def _set_chat_menu_button(self, call: Call) -> bool:
        self.menu_buttons[call.chat_id] = call.params.get("menu_button")
        return True


class TelegramUser:
    """A person talking to the bot in a private chat (chat id == user id)."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.timeout = timeout
        self.alerts: list[str] = []  # texts of answerCallbackQuery answers to clicks
        fake._remember_user(user_id, first_name, last_name, username, language_code)

    def __repr__(self) -> str:
        return f"TelegramUser({self.id}, {self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def messages(self) -> list[JSON]:
        """Every bot message in this chat, oldest first (deleted ones excluded)."""
        return self.fake.sent_messages(self.id)

    @property
    def last_message(self) -> JSON | None:
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_text(self) -> str | None:
        """Text (or caption) of the bot's newest message in this chat."""
        message = self.last_message
        if message is None:
            return None
        value = message.get("text", message.get("caption"))
        return value if isinstance(value, str) else None

    def _profile(self) -> JSON:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }

    async def send(
        self,
        text: str,
        *,
        expect_reply: bool = True,
        entities: list[JSON] | _Auto | None = AUTO,
    ) -> list[JSON]:
        """Send a text message; returns the bot's messages/edits for this chat that followed."""
        mark = len(self.fake.calls)
        update = self.fake.user_message(self.id, text, entities=entities, **self._profile())
        return await self._conversation_turn(update, mark, expect_reply, f"message {text!r}")

    async def share_contact(
        self, phone: str, *, own: bool = True, expect_reply: bool = True
    ) -> list[JSON]:
        """Share a contact: one's own (user_id = self.id) or somebody else's."""
        contact: JSON = {
            "phone_number": phone,
            "first_name": self.first_name if own else "Someone",
            "user_id": self.id if own else self.id + 1_000_000,
        }
        if own and self.last_name is not None:
            contact["last_name"] = self.last_name
        mark = len(self.fake.calls)
        update = self.fake.user_message(self.id, contact=contact, **self._profile())
        return await self._conversation_turn(update, mark, expect_reply, f"contact {phone}")

    def inline_buttons(self, message: JSON | None = None) -> list[JSON]:
        """Inline buttons (flattened) of ``message`` or of the newest message having some."""
        target = message if message is not None else self._newest_with_inline_keyboard()
        if target is None:
            return []
        markup = target.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    async def click(
        self, button_text: str, *, message: JSON | None = None, expect_reply: bool = True
    ) -> list[JSON]:
        """Press an inline button (exact text, else substring) and wait for the reaction.

        An answerCallbackQuery alone counts as a reaction; its text lands in ``alerts``.
        """
        if message is not None:
            stored = self.fake.message(message["chat"]["id"], message["message_id"])
            target: JSON | None = stored if stored is not None else message
        else:
            target = self._newest_with_inline_keyboard()
        buttons = self.inline_buttons(target) if target is not None else []
        button = next((b for b in buttons if b.get("text") == button_text), None)
        if button is None:
            button = next((b for b in buttons if button_text in str(b.get("text", ""))), None)
        if button is None or target is None:
            available = [b.get("text") for b in buttons]
            msg = f"{self}: no inline button {button_text!r}; available: {available}"
            raise AssertionError(msg)
        data = button.get("callback_data")
        if not isinstance(data, str):
            msg = f"{self}: button {button.get('text')!r} has no callback_data: {button}"
            raise AssertionError(msg)
        mark = len(self.fake.calls)
        update = self.fake.callback(self.id, target, data, **self._profile())
        query_id = update["callback_query"]["id"]
        return await self._conversation_turn(
            update, mark, expect_reply, f"click on {button.get('text')!r}", query_id
        )

    def reply_keyboard_buttons(self) -> list[ReplyButton]:
        """Buttons of the reply keyboard currently shown ([] if none or removed)."""
        for message in reversed(self.messages):
            markup = message.get("reply_markup")
            if not isinstance(markup, dict):
                continue
            if markup.get("remove_keyboard"):
                return []
            if "keyboard" in markup:
                return [
                    ReplyButton(b)
                    if isinstance(b, str)
                    else ReplyButton(
                        str(b.get("text", "")),
                        bool(b.get("request_contact")),
                        bool(b.get("request_location")),
                    )
                    for row in markup["keyboard"]
                    for b in row
                ]
        return []

    def block_bot(self) -> JSON:
        """The user blocks the bot: my_chat_member member -> kicked, sends answer 403."""
        return self.fake.my_chat_member(self.id, "member", "kicked")

    def unblock_bot(self) -> JSON:
        return self.fake.my_chat_member(self.id, "kicked", "member")

    def _newest_with_inline_keyboard(self) -> JSON | None:
        for message in reversed(self.messages):
            markup = message.get("reply_markup")
            if isinstance(markup, dict) and markup.get("inline_keyboard"):
                return message
        return None

    async def _conversation_turn(
        self,
        update: JSON,
        mark: int,
        expect_reply: bool,
        what: str,
        query_id: str | None = None,
    ) -> list[JSON]:
        fake = self.fake

        def is_answer_to_query(call: Call) -> bool:
            return (
                query_id is not None
                and call.method.lower() == "answercallbackquery"
                and str(call.params.get("callback_query_id")) == query_id
            )

        def answered(call: Call) -> bool:
            if is_answer_to_query(call):
                return True
            if call.chat_id != self.id or not is_output_method(call.method):
                return False
            # a failed attempt (403, 429...) is still the bot reacting
            return call.message is not None or (call.status not in (0, 200))

        def activity(call: Call) -> bool:
            return call.chat_id == self.id or is_answer_to_query(call)

        if expect_reply:
            if await fake.next_call(answered, self.timeout, since=mark) is None:
                msg = f"{self}: the bot did not answer {what} within {self.timeout}s; calls:\n"
                raise AssertionError(msg + fake.describe_calls())
        else:
            await fake.wait_until_fetched(update, self.timeout)
        if fake.tracks_handling:
            # The turn ends when the dispatcher has finished the update: everything the
            # handler sends (paced or retried) is part of it. What the bot sends later on its
            # own (the outbox worker's notices) is not; tests wait for that explicitly.
            await fake.wait_until_handled(update, self.timeout + 30)
        turn = fake.calls[mark:]
        if query_id is not None:
            for call in turn:
                text = call.params.get("text")
                if is_answer_to_query(call) and call.ok and isinstance(text, str) and text:
                    self.alerts.append(text)
        return [call.message for call in turn if call.message is not None and activity(call)]
