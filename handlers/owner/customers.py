"""Adding a customer who is not on Telegram: `/addcustomer <name> <phone>` or step by step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.config import Settings
from handlers.filters import ANSWER
from services.customers import CustomerService
from services.errors import InputError
from services.parsing import clean_text, parse_birthday, parse_phone, split_name_and_phone
from ui.i18n import tr


class AddCustomerForm(StatesGroup):
    name = State()
    phone = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(add_customer_command, Command("addcustomer"))
    router.message.register(birthday_command, Command("birthday"))
    router.message.register(process_name, AddCustomerForm.name, ANSWER)
    router.message.register(process_phone, AddCustomerForm.phone, ANSWER)
    return router


async def add_customer_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    customers: CustomerService,
    clock: Callable[[], datetime],
) -> None:
    if not command.args:
        await state.set_state(AddCustomerForm.name)
        await message.answer(tr("addcustomer-ask-name"))
        return
    name, phone = split_name_and_phone(command.args)
    card = await customers.add_offline(name, phone, clock())
    await state.clear()
    await message.answer(tr("addcustomer-done", customer=card.label))


async def process_name(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    await state.update_data(name=clean_text(message.text))
    await state.set_state(AddCustomerForm.phone)
    await message.answer(tr("addcustomer-ask-phone"))


async def process_phone(
    message: Message,
    state: FSMContext,
    customers: CustomerService,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None
    phone = parse_phone(message.text)
    data = await state.get_data()
    card = await customers.add_offline(data["name"], phone, clock())
    await state.clear()
    await message.answer(tr("addcustomer-done", customer=card.label))


async def birthday_command(
    message: Message,
    command: CommandObject,
    customers: CustomerService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    """`/birthday <customer> <DD.MM[.YYYY]>`: only the owner changes a saved birthday."""
    query, _, typed = (command.args or "").strip().rpartition(" ")
    if not query or not typed:
        raise InputError("error-birthday-usage")
    now = clock()
    birthday = parse_birthday(typed, today=now.astimezone(settings.zone).date())
    card = await customers.find_one(query)
    card = await customers.set_birthday_by_owner(card.id, birthday, now)
    await message.answer(
        tr("birthday-set-by-owner", customer=card.label, birthday=birthday.as_text())
    )
