"""Routers for customers: registration and their profile."""

from __future__ import annotations

from aiogram import Router

from handlers.customer import profile, registration


def create_router() -> Router:
    router = Router(name=__name__)
    router.include_routers(profile.create_router(), registration.create_router())
    return router
