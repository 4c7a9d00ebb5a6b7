"""The owner's routers, guarded once at router level: nobody else reaches these handlers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove

from handlers.owner import (
    birthday_gift,
    catalogue,
    customers,
    deposits,
    growth,
    inbox,
    posts,
    promo,
    sales,
    schedule,
    settings,
    stats,
    waitlist,
)
from handlers.roles import IsOwner
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    for observer in (router.message, router.callback_query):
        observer.filter(IsOwner())
    router.message.register(owner_start, CommandStart(), StateFilter("*"))
    # First: a reply to a copied customer message is an answer, even inside another form.
    router.include_router(inbox.create_router())
    router.include_routers(
        sales.create_router(), customers.create_router(), catalogue.create_router()
    )
    router.include_router(settings.create_router())
    router.include_router(growth.create_router())
    router.include_router(promo.create_router())
    router.include_router(posts.create_router())
    router.include_router(schedule.create_router())
    router.include_router(stats.create_router())
    router.include_router(birthday_gift.create_router())
    router.include_router(waitlist.create_router())  # issue 13
    router.include_router(deposits.create_router())
    return router


async def owner_start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(tr("start-owner"), reply_markup=ReplyKeyboardRemove())
    await message.answer(tr("help-owner"))
