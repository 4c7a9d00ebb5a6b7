"""A customer's words for the shop: replies to the bot's messages, and what nobody understood."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import Message

from handlers.customer.registration import person_of
from handlers.roles import IsCustomer
from services.inbox import InboxService, Incoming
from ui.i18n import tr

# Message fields that carry something to pass on, in the order Telegram's types are checked.
_CONTENTS = ("photo", "voice", "video", "video_note", "document", "sticker", "audio")


def create_router() -> Router:
    router = Router(name=__name__)
    # A reply to a reminder, a win-back or a promo is for the owner, whatever form is open.
    router.message.register(pass_on, IsCustomer(), ~F.text.startswith("/"), RepliesToBotMessage())
    return router


class RepliesToBotMessage(Filter):
    """A Telegram reply to one of the bot's outbox messages."""

    async def __call__(self, message: Message, inbox: InboxService) -> bool:
        reply = message.reply_to_message
        if reply is None:
            return False
        return await inbox.is_reply_to_bot_message(message.chat.id, reply.message_id)


def incoming_of(message: Message) -> Incoming:
    content = next((name for name in _CONTENTS if getattr(message, name, None)), None)
    if content is None:
        content = "text" if message.text is not None else "other"
    reply = message.reply_to_message
    return Incoming(
        chat_id=message.chat.id,
        message_id=message.message_id,
        content=content,
        text=message.text if message.text is not None else message.caption,
        reply_to_message_id=reply.message_id if reply else None,
        reply_to_text=(reply.text or reply.caption) if reply else None,
    )


async def pass_on(message: Message, inbox: InboxService, clock: Callable[[], datetime]) -> None:
    """Keep it for the owners (copies go through the outbox) and say so, without a time promise."""
    received = await inbox.receive(person_of(message), incoming_of(message), clock())
    # With no owner configured nobody would read it: do not say it was passed on.
    await message.answer(tr("inbox-passed-on" if received.owners else "not-understood"))
