"""Telegram Business in the fake Bot API (issue 11).

The owner connects the bot (``connect``), clients write to the owner and the owner writes
back (``client_writes``, ``owner_writes``: ``business_message`` updates), the bot answers on
the owner's behalf (sendMessage with ``business_connection_id``) and deletes messages
(deleteBusinessMessages), as the Bot API documents them:

- an answer through the connection needs an enabled connection with ``can_reply`` and a
  message from the client within the last 24 hours; after that Telegram answers
  ``400 Bad Request: BUSINESS_PEER_USAGE_MISSING`` (the MTProto error
  "You cannot send a message to a user through a business connection if the user hasn't
  recently contacted us"; the Bot API passes such errors on as "Bad Request: <NAME>").
  Unverified against real Telegram: the texts for an unknown or disabled connection and for
  a missing right, which are modelled here as BUSINESS_CONNECTION_INVALID and
  BOT_ACCESS_FORBIDDEN;
- deleteBusinessMessages deletes the bot's own sends with ``can_delete_sent_messages`` and
  any message with ``can_delete_all_messages``.

Messages in the owner's chats are kept apart from the bot's own chats (same chat ids!).
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram import TelegramApiError

if TYPE_CHECKING:
    from tests.fakes.telegram import Call, FakeTelegram

JSON = dict[str, Any]

PEER_USAGE_MISSING = "Bad Request: BUSINESS_PEER_USAGE_MISSING"
CONNECTION_INVALID = "Bad Request: BUSINESS_CONNECTION_INVALID"
NO_RIGHT = "Forbidden: BOT_ACCESS_FORBIDDEN"
CANNOT_DELETE = "Bad Request: message can't be deleted"
DAY = 24 * 3600

ALL_RIGHTS = (
    "can_reply",
    "can_read_messages",
    "can_delete_sent_messages",
    "can_delete_all_messages",
)


class FakeBusiness:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.connections: dict[str, JSON] = {}
        # (connection id, client chat id) -> wall time of the client's last message
        self.last_incoming: dict[tuple[str, int], float] = {}
        self.messages: dict[tuple[str, int], list[JSON]] = {}  # both ways, in order
        self.deleted: list[JSON] = []
        self._ids = itertools.count(5000)

    # --- updates ------------------------------------------------------------------------

    def connect(
        self,
        owner_id: int,
        *,
        connection_id: str = "bc-1",
        rights: tuple[str, ...] = ALL_RIGHTS,
        enabled: bool = True,
        first_name: str = "Owner",
    ) -> JSON:
        """The owner connects the bot (or changes its rights, or disables it)."""
        user = self.fake._remember_user(owner_id, first_name, None, None, "ru")
        connection: JSON = {
            "id": connection_id,
            "user": user,
            "user_chat_id": owner_id,
            "date": int(time.time()),
            "is_enabled": enabled,
            "rights": dict.fromkeys(rights, True),
        }
        self.connections[connection_id] = connection
        return self.fake.enqueue({"business_connection": connection})

    def client_writes(
        self,
        client_id: int,
        text: str | None = None,
        *,
        connection_id: str = "bc-1",
        first_name: str = "Client",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        is_bot: bool = False,
        **extra: Any,
    ) -> JSON:
        sender = self.fake._remember_user(client_id, first_name, last_name, username, language_code)
        sender["is_bot"] = is_bot
        chat = self._client_chat(client_id, sender)
        message = self._message(connection_id, chat, sender, text, **extra)
        self.last_incoming[(connection_id, client_id)] = time.time()
        return self.fake.enqueue({"business_message": message})

    def owner_writes(self, client_id: int, text: str, *, connection_id: str = "bc-1") -> JSON:
        connection = self.connections[connection_id]
        client = self.fake._users.get(client_id) or {"id": client_id, "first_name": "Client"}
        chat = self._client_chat(client_id, client)
        message = self._message(connection_id, chat, dict(connection["user"]), text)
        return self.fake.enqueue({"business_message": message})

    def edit(self, update: JSON, text: str) -> JSON:
        """The message of a business_message update, edited (as the owner or client does)."""
        message = dict(update["business_message"], text=text, edit_date=int(time.time()))
        return self.fake.enqueue({"edited_business_message": message})

    def age(self, client_id: int, hours: float, *, connection_id: str = "bc-1") -> None:
        """Move the client's last message `hours` into the past (the 24-hour window)."""
        self.last_incoming[(connection_id, client_id)] -= hours * 3600

    def chat_messages(self, client_id: int, connection_id: str = "bc-1") -> list[JSON]:
        return list(self.messages.get((connection_id, client_id), []))

    def sent_on_behalf(self, client_id: int, connection_id: str = "bc-1") -> list[JSON]:
        return [
            m for m in self.chat_messages(client_id, connection_id) if m.get("sender_business_bot")
        ]

    # --- methods ------------------------------------------------------------------------

    def send_message(self, call: Call) -> JSON:
        connection_id = str(call.params["business_connection_id"])
        connection = self.connections.get(connection_id)
        if connection is None or not connection["is_enabled"]:
            raise TelegramApiError(400, CONNECTION_INVALID)
        if not connection["rights"].get("can_reply"):
            raise TelegramApiError(403, NO_RIGHT)
        chat_id = int(call.params["chat_id"])
        last = self.last_incoming.get((connection_id, chat_id))
        if last is None or time.time() - last >= DAY:
            raise TelegramApiError(400, PEER_USAGE_MISSING)
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        client = self.fake._users.get(chat_id) or {"id": chat_id, "first_name": "Client"}
        chat = self._client_chat(chat_id, client)
        extra: JSON = {"sender_business_bot": dict(self.fake.bot_user)}
        if call.params.get("reply_markup") is not None:
            extra["reply_markup"] = call.params["reply_markup"]
        message = self._message(connection_id, chat, dict(connection["user"]), text, **extra)
        call.message = dict(message)
        return message

    def delete_messages(self, call: Call) -> bool:
        connection_id = str(call.params.get("business_connection_id"))
        connection = self.connections.get(connection_id)
        if connection is None or not connection["is_enabled"]:
            raise TelegramApiError(400, CONNECTION_INVALID)
        rights = connection["rights"]
        ids = call.params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise TelegramApiError(400, "Bad Request: message identifiers are not specified")
        found = []
        for chat_messages in self.messages.values():
            found += [m for m in chat_messages if m["message_id"] in ids]
        for message in found:
            by_bot = bool(message.get("sender_business_bot"))
            allowed = rights.get("can_delete_all_messages") or (
                by_bot and rights.get("can_delete_sent_messages")
            )
            if not allowed:
                raise TelegramApiError(400, CANNOT_DELETE)
        for key, chat_messages in self.messages.items():
            self.messages[key] = [m for m in chat_messages if m not in found]
        self.deleted += found
        return True

    # --- plumbing -----------------------------------------------------------------------

    def _client_chat(self, client_id: int, person: JSON) -> JSON:
        chat: JSON = {"id": client_id, "type": "private", "first_name": person["first_name"]}
        for name in ("last_name", "username"):
            if person.get(name):
                chat[name] = person[name]
        return chat

    def _message(
        self, connection_id: str, chat: JSON, sender: JSON, text: str | None, **extra: Any
    ) -> JSON:
        message: JSON = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            "business_connection_id": connection_id,
        }
        if text is not None:
            message["text"] = text
        message.update(extra)
        self.messages.setdefault((connection_id, chat["id"]), []).append(message)
        return dict(message)
