"""The inbox: what customers write reaches the owners, and the owners' answers reach them.

A customer's message the bot does not understand, or a Telegram reply to one of its messages,
is kept (`inbox_messages`, direction "in") and copied to every owner through the outbox at
once: owners have no quiet hours, and the outbox keeps the copy if Telegram is down. The copy
says who wrote and what they answered: the outbox row they replied to (chat id + Telegram
message id), or, for a plain message, the latest message the bot sent them in the last days.

The owner answers by replying to the copy or through its "Answer" button. The answer goes to
the customer through the outbox as well, inside the shop's sending window (quiet hours apply to
customers), and marks the conversation answered; `/inbox` lists the ones still waiting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.customers import TelegramPerson, add_from_telegram
from services.dto import CustomerCard
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import (
    About,
    InboxAnswer,
    InboxMedia,
    InboxOwnerCopy,
    PayloadError,
    from_json,
)
from services.shop import profile_from
from storage.database import Database
from storage.inbox import IN, OUT
from storage.models import OutboxMessage
from storage.repositories import Repositories

OWNER_KINDS = (InboxOwnerCopy.kind, InboxMedia.kind)
TEXT = "text"
# A plain message is taken as an answer to the bot's latest message of this many days.
RECENT = timedelta(days=3)
_QUOTE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as Telegram delivered it, without aiogram."""

    chat_id: int
    message_id: int
    content: str  # text | photo | voice | video | document | sticker | other
    text: str | None  # the text, or a caption
    reply_to_message_id: int | None = None
    reply_to_text: str | None = None  # what the replied-to message said


@dataclass(frozen=True, slots=True)
class Received:
    customer_id: int
    new: bool  # False: the same update came twice; nothing was queued again
    owners: int  # how many owners get it (none configured: nobody will answer)


@dataclass(frozen=True, slots=True)
class Answered:
    customer: CustomerCard
    send_at: datetime
    waits: bool  # quiet hours for the customer: it goes at `send_at`
    unreachable: bool  # the customer blocked the bot: it will not arrive
    new: bool


@dataclass(frozen=True, slots=True)
class Conversation:
    customer: CustomerCard
    waiting: int
    first_at: datetime
    last_at: datetime
    last_text: str | None
    last_content: str


def owner_copy_key(kind: str, customer_id: int, inbox_id: int, owner_id: int) -> str:
    # The customer's id in the key lets /forget find the copies (they are addressed to owners).
    return f"{kind}:{customer_id}:{inbox_id}:{owner_id}"


class InboxService:
    def __init__(
        self,
        db: Database,
        zone: ZoneInfo,
        owner_ids: Collection[int],
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._zone = zone
        self._owner_ids = tuple(owner_ids)
        self._on_queued = on_queued  # wakes the delivery worker: the owners' copies go now

    def _queued(self) -> None:
        if self._on_queued is not None:
            self._on_queued()

    async def is_reply_to_bot_message(self, chat_id: int, message_id: int) -> bool:
        """Whether `message_id` in `chat_id` is one of the bot's outbox messages."""
        async with self._db.reading() as repos:
            return await repos.inbox.outbox_by_message(chat_id, message_id) is not None

    async def receive(self, person: TelegramPerson, incoming: Incoming, now: datetime) -> Received:
        """Keep the customer's message and queue a copy for every owner, in one transaction."""
        received = await self._receive(person, incoming, now)
        if received.new:
            self._queued()
        return received

    async def _receive(self, person: TelegramPerson, incoming: Incoming, now: datetime) -> Received:
        async with self._db.transaction() as repos:
            row = await repos.customers.by_telegram_id(person.telegram_id)
            if row is None:  # somebody who never pressed /start is still somebody to answer
                row = await add_from_telegram(repos, person, now)
            about = await self._about(repos, incoming, now)
            inbox_id = await repos.inbox.add_once(
                customer_id=row.id,
                direction=IN,
                chat_id=incoming.chat_id,
                telegram_message_id=incoming.message_id,
                content=incoming.content,
                text=incoming.text,
                about_outbox_id=about.id if about else None,
                created_at=now,
            )
            if inbox_id is None:
                return Received(row.id, new=False, owners=len(self._owner_ids))
            payload = InboxOwnerCopy(
                customer_id=row.id,
                inbox_id=inbox_id,
                customer=CustomerCard.of(row).label,
                language=row.language,
                content=incoming.content,
                text=incoming.text,
                about=_about_payload(about),
                quote=None if about else _quote(incoming.reply_to_text),
            )
            media = InboxMedia(
                customer_id=row.id,
                inbox_id=inbox_id,
                from_chat_id=incoming.chat_id,
                message_id=incoming.message_id,
            )
            for owner_id in self._owner_ids:
                key = owner_copy_key(payload.kind, row.id, inbox_id, owner_id)
                await enqueue(repos, Outgoing(key, owner_id, None, now, payload), now)
                if incoming.content != TEXT:
                    key = owner_copy_key(media.kind, row.id, inbox_id, owner_id)
                    await enqueue(repos, Outgoing(key, owner_id, None, now, media), now)
            return Received(row.id, new=True, owners=len(self._owner_ids))

    async def _about(
        self, repos: Repositories, incoming: Incoming, now: datetime
    ) -> OutboxMessage | None:
        """The bot's message this one answers: the one replied to, else the latest recent one."""
        if incoming.reply_to_message_id is not None:
            # A reply to a message that is not an outbox row (a direct answer) is quoted instead.
            return await repos.inbox.outbox_by_message(
                incoming.chat_id, incoming.reply_to_message_id
            )
        return await repos.inbox.latest_sent(incoming.chat_id, now - RECENT)

    async def customer_of_copy(self, owner_chat_id: int, message_id: int) -> int | None:
        """The customer whose message the owner's message `message_id` is a copy of."""
        async with self._db.reading() as repos:
            row = await repos.inbox.outbox_by_message(owner_chat_id, message_id)
        if row is None or row.kind not in OWNER_KINDS:
            return None
        try:
            copy = from_json(row.kind, row.payload)
        except PayloadError:  # blanked by /forget
            return None
        return (copy.customer_id or None) if isinstance(copy, InboxOwnerCopy | InboxMedia) else None

    async def answer(
        self, owner_chat_id: int, customer_id: int, reply: Incoming, now: datetime
    ) -> Answered:
        """Queue the answer inside the customer's sending window; the conversation is answered."""
        answered = await self._answer(owner_chat_id, customer_id, reply, now)
        if answered.new:
            self._queued()
        return answered

    async def _answer(
        self, owner_chat_id: int, customer_id: int, reply: Incoming, now: datetime
    ) -> Answered:
        async with self._db.transaction() as repos:
            row = await repos.customers.get(customer_id)
            if row is None or row.telegram_id is None:
                raise InputError("inbox-error-customer-gone")
            out_id = await repos.inbox.add_once(
                customer_id=row.id,
                direction=OUT,
                chat_id=owner_chat_id,
                telegram_message_id=reply.message_id,
                content=reply.content,
                text=reply.text,
                created_at=now,
            )
            profile = profile_from(await repos.settings.all())
            send_at = profile.next_send_time(now, self._zone)
            card = CustomerCard.of(row)
            if out_id is None:  # the same update twice: queued the first time
                return Answered(card, send_at, send_at > now, row.blocked_at is not None, False)
            payload = (
                InboxAnswer(text=reply.text)
                if reply.content == TEXT
                else InboxAnswer(from_chat_id=owner_chat_id, message_id=reply.message_id)
            )
            message = Outgoing(
                f"{payload.kind}:{out_id}", row.telegram_id, row.id, send_at, payload
            )
            await enqueue(repos, message, now)
            await repos.inbox.mark_answered(row.id, now)
            return Answered(card, send_at, send_at > now, row.blocked_at is not None, True)

    async def open_conversations(self, limit: int = 20) -> list[Conversation]:
        """Conversations waiting for the owner, the newest first."""
        async with self._db.reading() as repos:
            rows = await repos.inbox.open_conversations(limit)
            conversations = []
            for row in rows:
                customer = await repos.customers.get(row.customer_id)
                if customer is None:
                    continue
                conversations.append(
                    Conversation(
                        CustomerCard.of(customer),
                        row.waiting,
                        row.first_at,
                        row.last_at,
                        row.last_text,
                        row.last_content,
                    )
                )
            return conversations

    async def card(self, customer_id: int) -> CustomerCard:
        async with self._db.reading() as repos:
            row = await repos.customers.get(customer_id)
        if row is None or row.telegram_id is None:
            raise InputError("inbox-error-customer-gone")
        return CustomerCard.of(row)


async def scrub_inbox(repos: Repositories, customer_id: int) -> None:
    """For /forget, inside its transaction: their words leave the inbox and the owners' copies."""
    await repos.inbox.scrub(customer_id, OWNER_KINDS)


def _about_payload(row: OutboxMessage | None) -> About | None:
    if row is None:
        return None
    return About(
        kind=row.kind, payload=json.loads(row.payload), outbox_id=row.id, sent_at=row.sent_at
    )


def _quote(text: str | None) -> str | None:
    return text[:_QUOTE_LIMIT] if text else None
