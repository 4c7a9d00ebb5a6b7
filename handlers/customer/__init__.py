"""Routers for customers: registration and their profile."""

from __future__ import annotations

from aiogram import Router

from handlers.customer import (
    booking,
    inbox,
    privacy,
    profile,
    registration,
    retention,
    waitlist,
)


def create_router() -> Router:
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
    return router
