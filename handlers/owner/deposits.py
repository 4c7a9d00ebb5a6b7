"""The owner sets a service's deposit (issue 13): `/deposit <service>; <amount | N% | ->`."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Settings
from services.deposits import DepositService
from services.errors import InputError
from services.money import format_money
from services.parsing import MAX_TYPED
from services.shop import ShopProfile
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(deposit_command, Command("deposit"))
    return router


async def deposit_command(
    message: Message,
    command: CommandObject,
    deposits: DepositService,
    shop_profile: ShopProfile,
    settings: Settings,
) -> None:
    args = (command.args or "").strip()
    if not args or len(args) > MAX_TYPED:
        raise InputError("dp-usage")
    name, amount, percent = await deposits.set_for_service(args)
    if amount:
        text = tr("dp-set-amount", service=name, amount=format_money(amount, shop_profile.currency))
    elif percent:
        text = tr("dp-set-percent", service=name, percent=percent)
    else:
        text = tr("dp-set-none", service=name)
    if settings.payment_provider_token is None:
        text += "\n" + tr("dp-payments-off")
    await message.answer(text)
