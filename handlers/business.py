"""Telegram Business (issue 11): the owner's connection, the clients' and the owner's
messages in the owner's own chats, and the owner's buttons under the daily digest.

Nothing is ever said in a client's chat from here: answers go to the owner in the bot's own
chat. (The free-slots answers on the owner's behalf go through the outbox: services/business_scan.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import BusinessConnection, CallbackQuery, Message

from bot.config import Settings
from handlers.once import ONCE
from handlers.owner.sales import answer_one_line
from handlers.roles import IsOwner
from services.business import BusinessService, ChatOfClient, ConnectionNews, sale_args
from services.customers import CustomerService, TelegramPerson
from services.errors import InputError
from services.money import format_money
from services.sales import SalesService
from services.shop import ShopProfile
from ui.callbacks import BusinessCard, BusinessRebookDone
from ui.i18n import tr, trn

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name=__name__)
    router.business_connection.register(connection_changed)
    router.business_message.register(business_message)
    # A sale line corrected by editing it is read again (a logged one acts once).
    router.edited_business_message.register(business_message)
    router.callback_query.register(open_card, BusinessCard.filter(), IsOwner())
    router.callback_query.register(rebook_done, BusinessRebookDone.filter(), IsOwner(), flags=ONCE)
    return router


async def connection_changed(
    connection: BusinessConnection,
    bot: Bot,
    business: BusinessService,
    clock: Callable[[], datetime],
) -> None:
    rights = connection.rights.model_dump() if connection.rights is not None else {}
    me = await bot.me()
    news = await business.connection_changed(
        connection_id=connection.id,
        user_id=connection.user.id,
        user_chat_id=connection.user_chat_id,
        is_enabled=connection.is_enabled,
        rights=rights,
        bot_username=me.username,
        now=clock(),
    )
    if news is None:
        return
    await bot.send_message(news.owner_chat_id, _connection_text(news))


def _connection_text(news: ConnectionNews) -> str:
    if not news.enabled:
        return tr("biz-disconnected")
    lines = [tr("biz-connected"), tr("biz-can-capture"), tr("biz-can-sale", marker=news.marker)]
    rights = news.rights
    lines.append(tr("biz-can-delete" if rights.can_delete_owner_lines else "biz-cannot-delete"))
    if not rights.can_reply:
        lines.append(tr("biz-cannot-reply"))
    elif news.slots_on:
        lines.append(tr("biz-can-reply-on", minutes=news.delay_minutes))
    else:
        lines.append(tr("biz-can-reply-off"))
    return "\n\n".join(lines)


async def business_message(
    message: Message,
    bot: Bot,
    business: BusinessService,
    customers: CustomerService,
    sales: SalesService,
    settings: Settings,
    fsm_storage: BaseStorage,
    clock: Callable[[], datetime],
) -> None:
    connection_id = message.business_connection_id
    sender = message.from_user
    if connection_id is None or sender is None or message.sender_business_bot is not None:
        return  # our own sends on the owner's behalf come back too: nothing to learn
    now = clock()
    chat = message.chat
    if sender.id != chat.id:
        # The owner's own message in the client's chat (Telegram sends those too).
        client = TelegramPerson(
            telegram_id=chat.id,
            first_name=chat.first_name or "",
            last_name=chat.last_name,
            username=chat.username,
        )
        seen = await business.owner_wrote(connection_id=connection_id, person=client, now=now)
        if seen is None:
            return
        profile = await business.profile()
        args = sale_args(message.text, profile.sale_marker, seen.customer_id)
        if args is None or not await business.claim_line(chat.id, message.message_id, now):
            return
        owner_key = StorageKey(bot_id=bot.id, chat_id=seen.owner_chat_id, user_id=sender.id)
        state = FSMContext(storage=fsm_storage, key=owner_key)
        await _log_sale(message, args, seen, state, bot, business, sales, settings, profile, now)
        return
    if sender.is_bot or sender.id in settings.owner_ids:
        return  # another bot, the owner's Saved Messages, staff: no customers
    person = TelegramPerson(
        telegram_id=sender.id,
        first_name=sender.first_name,
        last_name=sender.last_name,
        username=sender.username,
        language=sender.language_code,
    )
    seen = await business.client_wrote(
        connection_id=connection_id, person=person, text=message.text, now=now
    )
    contact = message.contact
    if seen is not None and contact is not None and contact.user_id == sender.id:
        # Their own number, shared in the chat: the same phone matches the owner's record.
        try:
            await customers.set_phone(sender.id, contact.phone_number)
        except InputError as error:
            log.info("business contact of %s not attached: %s", sender.id, error.code)


async def _log_sale(
    message: Message,
    args: str,
    seen: ChatOfClient,
    state: FSMContext,
    bot: Bot,
    business: BusinessService,
    sales: SalesService,
    settings: Settings,
    profile: ShopProfile,
    now: datetime,
) -> None:
    """The line as /sale would take it; every answer in the bot's chat with the owner."""
    owner_chat = seen.owner_chat_id

    async def send(text: str, reply_markup: Any = None) -> Message:
        return await bot.send_message(owner_chat, text, reply_markup=reply_markup)

    try:
        outcome = await sales.log_one_line(args, now, profile)
    except InputError as error:
        # Nothing was logged: the line stays in the chat for the owner to correct, and the
        # corrected line (or this one again) is a new try.
        await business.release_line(message.chat.id, message.message_id)
        await send(
            tr("biz-sale-failed", line=message.text or "") + "\n" + tr(error.code, **error.params)
        )
        return
    except Exception:
        await business.release_line(message.chat.id, message.message_id)
        raise
    if seen.rights.can_delete_owner_lines and message.business_connection_id:
        try:
            await bot.delete_business_messages(
                business_connection_id=message.business_connection_id,
                message_ids=[message.message_id],
            )
        except TelegramAPIError as exc:
            log.warning("could not delete the sale line in chat %s: %s", message.chat.id, exc)
    await answer_one_line(outcome, state, send, settings)


async def open_card(
    query: CallbackQuery,
    callback_data: BusinessCard,
    customers: CustomerService,
    business: BusinessService,
) -> None:
    card = await customers.card(callback_data.customer_id)
    await query.answer()
    assert isinstance(query.message, Message)
    if card is None or (card.name is None and card.telegram_id is None):
        await query.message.answer(tr("error-customer-gone"))
        return
    totals = await customers.totals(card.id)
    currency = (await business.profile()).currency
    await query.message.answer(
        tr("biz-card", customer=card.label)
        + "\n"
        + trn("biz-card-visits", totals.visits, total=format_money(totals.total, currency))
    )


async def rebook_done(
    query: CallbackQuery,
    callback_data: BusinessRebookDone,
    business: BusinessService,
    clock: Callable[[], datetime],
) -> None:
    counted = await business.mark_reminded(
        customer_id=callback_data.customer_id,
        service_id=callback_data.service_id,
        due=date.fromordinal(callback_data.due),
        now=clock(),
    )
    await query.answer(tr("biz-done-counted" if counted else "biz-done-already"))
