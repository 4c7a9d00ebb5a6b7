"""The owner's side of the inbox: /inbox, and answering a customer from the bot's chat.

An answer is a Telegram reply to a customer's message copied here, or whatever the owner
writes after pressing "Answer" under it. Either way it goes to the customer through the
outbox, inside the customer's sending window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.customer.inbox import incoming_of
from services.inbox import Answered, Conversation, InboxService
from ui.callbacks import InboxAnswer
from ui.i18n import tr

_LIST_LIMIT = 10  # conversations in /inbox, each with its button
_SNIPPET = 80


class InboxReply(StatesGroup):
    words = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(list_inbox, Command("inbox"))
    # A reply to a copied customer message is an answer, whatever form is open.
    router.message.register(answer_by_reply, ~F.text.startswith("/"), RepliesToCopy())
    router.callback_query.register(ask_for_answer, InboxAnswer.filter())
    router.message.register(answer_typed, InboxReply.words, ~F.text.startswith("/"))
    return router


class RepliesToCopy(Filter):
    """A reply to a customer's message the bot copied here; gives the customer's id."""

    async def __call__(self, message: Message, inbox: InboxService) -> bool | dict[str, Any]:
        reply = message.reply_to_message
        if reply is None:
            return False
        customer_id = await inbox.customer_of_copy(message.chat.id, reply.message_id)
        return {"inbox_customer_id": customer_id} if customer_id is not None else False


async def list_inbox(message: Message, inbox: InboxService, settings: Settings) -> None:
    conversations = await inbox.open_conversations(_LIST_LIMIT)
    if not conversations:
        await message.answer(tr("inbox-list-empty"))
        return
    lines = [tr("inbox-list-title")]
    builder = InlineKeyboardBuilder()
    for conversation in conversations:
        lines.append(_line(conversation, settings))
        builder.button(
            text=tr("inbox-button-answer-to", customer=conversation.customer.label),
            callback_data=InboxAnswer(customer_id=conversation.customer.id),
        )
    builder.adjust(1)
    await message.answer("\n\n".join(lines), reply_markup=builder.as_markup())


def _line(conversation: Conversation, settings: Settings) -> str:
    when = conversation.last_at.astimezone(settings.zone)
    if conversation.last_content == "text":
        words = (conversation.last_text or "").strip().replace("\n", " ")
    else:
        words = tr(f"inbox-content-{conversation.last_content}")
    if len(words) > _SNIPPET:
        words = words[: _SNIPPET - 1].rstrip() + "…"
    return tr(
        "inbox-list-line",
        customer=conversation.customer.label,
        when=f"{when:%d.%m %H:%M}",
        waiting=conversation.waiting,
        words=words,
    )


async def answer_by_reply(
    message: Message,
    inbox_customer_id: int,
    inbox: InboxService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    result = await inbox.answer(message.chat.id, inbox_customer_id, incoming_of(message), clock())
    await message.answer(_confirmation(result, settings))


async def ask_for_answer(
    query: CallbackQuery, callback_data: InboxAnswer, state: FSMContext, inbox: InboxService
) -> None:
    card = await inbox.card(callback_data.customer_id)
    await state.set_state(InboxReply.words)
    await state.update_data(inbox_customer_id=card.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(tr("inbox-ask-answer", customer=card.label))


async def answer_typed(
    message: Message,
    state: FSMContext,
    inbox: InboxService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    customer_id = int((await state.get_data())["inbox_customer_id"])
    result = await inbox.answer(message.chat.id, customer_id, incoming_of(message), clock())
    await state.clear()
    await message.answer(_confirmation(result, settings))


def _confirmation(result: Answered, settings: Settings) -> str:
    customer = result.customer.label
    if result.unreachable:
        return tr("inbox-answer-unreachable", customer=customer)
    if result.waits:
        when = result.send_at.astimezone(settings.zone)
        return tr("inbox-answer-waits", customer=customer, when=f"{when:%d.%m %H:%M}")
    return tr("inbox-answer-queued", customer=customer)
