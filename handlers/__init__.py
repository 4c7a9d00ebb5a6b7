"""All routers, built fresh for every dispatcher (tests build several)."""

from __future__ import annotations

from aiogram import F, Router

from bot.config import Settings
from handlers import (
    channel,
    common,
    customer,
    fallback,
    membership,
    owner,
    refusals,
    webapp,
)


def get_routers(settings: Settings) -> list[Router]:
    # Only private chats talk to the bot; the channel's join requests have their own router.
    private = Router(name="private")
    private.message.filter(F.chat.type == "private")
    private.include_routers(
        common.create_router(),
        webapp.create_router(),  # issue 12: /app for everybody
        owner.create_router(),
        refusals.create_router(),
        customer.create_router(),
        fallback.create_router(),
    )
    return [private, membership.create_router(), channel.create_router(settings)]
