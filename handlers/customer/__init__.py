"""Routers for customers: registration and their profile."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings
from handlers.customer import (
    booking,
    deposits,
    inbox,
    privacy,
    profile,
    registration,
    retention,
    waitlist,
)


def create_router(settings: Settings | None = None) -> Router:
    router = Router(name=__name__)
    router.include_routers(
        profile.create_router(),
        privacy.create_router(),
        retention.create_router(),
        # After the rating's own question, before forms: a reply to the bot goes to the owner.
        inbox.create_router(),
        booking.create_router(),
        waitlist.create_router(),  # issue 13
        registration.create_router(),
    )
    if settings is not None and settings.payment_provider_token is not None:
        router.include_router(deposits.create_router())  # issue 13: only with payments on
    return router
