"""All routers, built fresh for every dispatcher (tests build several)."""

from __future__ import annotations

from aiogram import F, Router

from handlers import common, customer, fallback, owner, refusals


def get_routers() -> list[Router]:
    # Only private chats talk to the bot; channel updates get their own router later.
    private = Router(name="private")
    private.message.filter(F.chat.type == "private")
    private.include_routers(
        common.create_router(),
        owner.create_router(),
        refusals.create_router(),
        customer.create_router(),
        fallback.create_router(),
    )
    return [private]
