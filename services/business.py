"""Telegram Business (issue 11): the owner's own Telegram chats feed the customer base.

A bot connected to the owner's account (Telegram Business → Chatbots) receives the owner's
private chats: the clients' messages and the owner's own. From them the bot learns who wrote
(a customer with source `business`, no consent to offers: they never agreed to any), logs a
sale the owner types in the client's chat ("+2500 маникюр"), and, when the owner lets it,
answers a request for a time with free slots on the owner's behalf. Only who and when is
kept, never the words.

Telegram facts this relies on (Bot API 7.2+, rights as BusinessBotRights since 9.0):
- a `business_message` comes for the client's messages and for the owner's own outgoing
  ones (`from` is then the owner); the bot's own sends carry `sender_business_bot`;
- sending through the connection needs the `can_reply` right and works only in chats with an
  incoming message in the last 24 hours;
- deleteBusinessMessages deletes the owner's own message only with `can_delete_all_messages`
  (`can_delete_sent_messages` covers the bot's sends only).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.business_phrases import asks_for_time
from services.customers import TelegramPerson, add_from_telegram
from services.once import OnceService, Press
from services.outbox import Outgoing
from services.outbox_payloads import OwnerRebook, to_json
from services.shop import ShopProfile, profile_from
from storage.business import BusinessRepository
from storage.database import Database
from storage.models import BusinessChat, Customer
from storage.outbox import OutboxStatus
from storage.repositories import Repositories

log = logging.getLogger(__name__)

BUSINESS_SOURCE = "business"
BOT_USERNAME_KEY = "business:bot_username"  # the scan writes deep links without a Bot
BOOK_PAYLOAD = "business"  # t.me/<bot>?start=business: counted under the source "business"
REPLY_WINDOW = timedelta(hours=24)  # Telegram: answers only within 24 h of the client's message

# The rights the features use (BusinessBotRights field names).
CAN_REPLY = "can_reply"
CAN_DELETE_ALL = "can_delete_all_messages"
CAN_READ = "can_read_messages"
SALE_LINE = "biz-sale-line"  # the once-claim of a sale line (services/once.py)


@dataclass(frozen=True, slots=True)
class Rights:
    """What the owner let the bot do in their chats."""

    granted: frozenset[str]

    @classmethod
    def of(cls, values: Mapping[str, bool | None]) -> Rights:
        return cls(frozenset(name for name, on in values.items() if on))

    @classmethod
    def from_json(cls, text: str) -> Rights:
        try:
            names = json.loads(text)
        except ValueError:
            names = []
        return cls(frozenset(str(n) for n in names) if isinstance(names, list) else frozenset())

    def to_json(self) -> str:
        return json.dumps(sorted(self.granted))

    @property
    def can_reply(self) -> bool:
        return CAN_REPLY in self.granted

    @property
    def can_delete_owner_lines(self) -> bool:
        return CAN_DELETE_ALL in self.granted


@dataclass(frozen=True, slots=True)
class ConnectionNews:
    """A connection stored: what to tell the owner in the bot's chat."""

    owner_chat_id: int
    enabled: bool
    rights: Rights
    slots_on: bool  # the free-slots answers are switched on in /settings
    marker: str
    delay_minutes: int


@dataclass(frozen=True, slots=True)
class ChatOfClient:
    """A client's chat seen through an accepted, enabled connection."""

    customer_id: int
    owner_chat_id: int
    rights: Rights
    created: bool  # the customer was captured just now


def sale_args(text: str | None, marker: str, customer_id: int) -> str | None:
    """`/sale` arguments for a line the owner typed in a client's chat ("+2500 маникюр"), or
    None when the line is not a sale: the marker must be followed by a number."""
    if not text or not marker:
        return None
    line = text.strip()
    if not line.startswith(marker):
        return None
    rest = line[len(marker) :].strip()
    if not re.match(r"\d", rest):
        return None
    return f"#{customer_id} {rest}"


def book_link(username: str | None) -> str:
    return f"https://t.me/{username}?start={BOOK_PAYLOAD}" if username else ""


class BusinessService:
    """One method per thing that happens through the connection, one transaction each."""

    def __init__(self, db: Database, owner_ids: Collection[int]) -> None:
        self._db = db
        self._owner_ids = frozenset(owner_ids)

    async def connection_changed(
        self,
        *,
        connection_id: str,
        user_id: int,
        user_chat_id: int,
        is_enabled: bool,
        rights: Mapping[str, bool | None],
        bot_username: str | None,
        now: datetime,
    ) -> ConnectionNews | None:
        """Store a connected, changed or disabled connection; None (and a log line) when an
        account outside OWNER_IDS connected the bot: its chats are none of this shop's."""
        if user_id not in self._owner_ids:
            log.warning(
                "business connection %s by user %s ignored: not in OWNER_IDS",
                connection_id,
                user_id,
            )
            return None
        granted = Rights.of(rights)
        async with self._db.transaction() as repos:
            await BusinessRepository(repos.session).save_connection(
                connection_id=connection_id,
                user_id=user_id,
                user_chat_id=user_chat_id,
                is_enabled=is_enabled,
                rights=granted.to_json(),
                now=now,
            )
            if bot_username:
                await repos.settings.put(BOT_USERNAME_KEY, bot_username)
            profile = profile_from(await repos.settings.all())
        return ConnectionNews(
            user_chat_id,
            is_enabled,
            granted,
            bool(profile.business_slots),
            profile.sale_marker,
            profile.business_delay_minutes,
        )

    async def client_wrote(
        self,
        *,
        connection_id: str,
        person: TelegramPerson,
        text: str | None,
        now: datetime,
    ) -> ChatOfClient | None:
        """A client's message: captured (or matched by Telegram id), their chat's times
        updated, a request for a time noted. None when the connection is not ours."""
        async with self._db.transaction() as repos:
            business = BusinessRepository(repos.session)
            connection = await business.connection(connection_id)
            if connection is None or not connection.is_enabled:
                return None
            chat, created = await _chat_for(repos, business, connection_id, person, now)
            chat.last_in_at = now
            profile = profile_from(await repos.settings.all())
            if (
                profile.business_slots
                and chat.request_at is None
                and asks_for_time(text, profile.business_phrases)
            ):
                chat.request_at = now
            return ChatOfClient(
                chat.customer_id,
                connection.user_chat_id,
                Rights.from_json(connection.rights),
                created,
            )

    async def owner_wrote(
        self, *, connection_id: str, person: TelegramPerson, now: datetime
    ) -> ChatOfClient | None:
        """The owner wrote in a client's chat: that answers any waiting request. The client
        (`person`, from the chat) is captured too if the owner wrote first."""
        async with self._db.transaction() as repos:
            business = BusinessRepository(repos.session)
            connection = await business.connection(connection_id)
            if connection is None or not connection.is_enabled:
                return None
            chat, created = await _chat_for(repos, business, connection_id, person, now)
            chat.last_owner_at = now
            chat.request_at = None
            return ChatOfClient(
                chat.customer_id,
                connection.user_chat_id,
                Rights.from_json(connection.rights),
                created,
            )

    async def mark_reminded(
        self, *, customer_id: int, service_id: int, due: date, now: datetime
    ) -> bool:
        return await mark_reminded_by_hand(
            self._db, customer_id=customer_id, service_id=service_id, due=due, now=now
        )

    async def claim_line(self, chat_id: int, message_id: int, now: datetime) -> bool:
        """A sale line acts once: a redelivered update (a webhook retried after a crash)
        finds it claimed and logs nothing twice."""
        return await OnceService(self._db).claim(Press(chat_id, message_id, SALE_LINE), now)

    async def release_line(self, chat_id: int, message_id: int) -> None:
        """The line logged nothing (bad input, a failure): typing it again must work."""
        await OnceService(self._db).release(Press(chat_id, message_id, SALE_LINE))

    async def profile(self) -> ShopProfile:
        async with self._db.reading() as repos:
            return profile_from(await repos.settings.all())


def owner_rebook_key(customer_id: int, service_id: int, due: date) -> str:
    return f"ownerrebook:{customer_id}:{service_id}:{due.isoformat()}"


async def mark_reminded_by_hand(
    db: Database, *, customer_id: int, service_id: int, due: date, now: datetime
) -> bool:
    """The owner tapped "done" under a ready text: a sent row of kind owner_rebook, so the
    campaign results count it and what the customer buys after it. False when it was done
    already (a second tap)."""
    async with db.transaction() as repos:
        customer = await repos.customers.get(customer_id)
        service = await repos.catalogue.get(service_id)
        if customer is None or service is None:
            return False
        chat = await BusinessRepository(repos.session).chat_of_customer(customer_id)
        payload = OwnerRebook(service_id=service_id, service=service.name, due=due)
        message = Outgoing(
            owner_rebook_key(customer_id, service_id, due),
            chat.chat_id if chat else (customer.telegram_id or 0),
            customer_id,
            now,
            payload,
        )
        inserted = await repos.outbox.insert_once(
            dedup_key=message.key,
            kind=message.kind,
            customer_id=customer_id,
            chat_id=message.chat_id,
            payload=to_json(payload),
            # Never for the worker: the owner sent it from their own account.
            status=OutboxStatus.SENT,
            attempts=0,
            not_before=now,
            created_at=now,
            sent_at=now,
        )
        return inserted is not None


async def _chat_for(
    repos: Repositories,
    business: BusinessRepository,
    connection_id: str,
    person: TelegramPerson,
    now: datetime,
) -> tuple[BusinessChat, bool]:
    """The client's chat row, and their customer (matched by Telegram id, else added)."""
    chat = await business.chat(person.telegram_id)
    if chat is not None:
        chat.connection_id = connection_id
        return chat, False
    customer: Customer | None = await repos.customers.by_telegram_id(person.telegram_id)
    created = customer is None
    if customer is None:
        # No consent: they wrote to a person, not to the shop's bot.
        customer = await add_from_telegram(repos, person, now, source=BUSINESS_SOURCE)
    chat = await business.add_chat(
        chat_id=person.telegram_id,
        customer_id=customer.id,
        connection_id=connection_id,
        first_at=now,
        # Known before (they started the bot, or the owner imported them): not "new".
        listed_at=None if created else now,
    )
    return chat, created


# As the campaign results attribute a purchase (services/campaign_results.py).
BOOKED_WITHIN = timedelta(days=14)


async def note_booking(repos: Repositories, customer_id: int, now: datetime) -> None:
    """A booking made without a reminder's button: if the owner reminded this customer by
    hand lately, the reminder gets the booking, as a tap on the bot's own reminder would."""
    business = BusinessRepository(repos.session)
    reminder = await business.latest_owner_reminder(customer_id, now - BOOKED_WITHIN)
    if reminder is not None:
        await repos.outbox.react(reminder, "booked", now)


async def forget_business(repos: Repositories, customer_id: int) -> None:
    """/forget: their chat's times go; digests queued or sent no longer name them."""
    business = BusinessRepository(repos.session)
    await business.forget_customer(customer_id)
    for row in await business.digests("business_digest"):
        try:
            data = json.loads(row.payload)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        kept = {
            key: [item for item in data.get(key) or [] if item.get("customer_id") != customer_id]
            for key in ("new", "rebook")
        }
        if kept != {key: data.get(key) or [] for key in ("new", "rebook")}:
            row.payload = json.dumps({**data, **kept}, ensure_ascii=False, sort_keys=True)
