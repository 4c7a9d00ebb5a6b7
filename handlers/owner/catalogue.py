"""The services catalogue: list, add, edit price / cycle / duration, archive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from handlers.filters import ANSWER
from services.catalogue import CatalogueService
from services.errors import InputError
from services.parsing import clean_text, parse_money, parse_optional_days, parse_whole
from services.shop import ShopProfile
from ui import formatting, keyboards
from ui.callbacks import ServiceArchive, ServiceEdit, ServiceNew, ServiceOpen
from ui.i18n import tr
from ui.long_text import answer_long

DURATION_RANGE = (5, 720)


class ServiceForm(StatesGroup):
    name = State()
    price = State()
    cycle = State()
    duration = State()
    edit = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(list_services, Command("services"))
    router.message.register(add_service_command, Command("addservice"))
    router.message.register(pair_command, Command("pair"))
    router.callback_query.register(open_service, ServiceOpen.filter())
    router.callback_query.register(start_new_service, ServiceNew.filter())
    router.callback_query.register(start_edit, ServiceEdit.filter())
    router.callback_query.register(toggle_archive, ServiceArchive.filter())
    router.message.register(process_name, ServiceForm.name, ANSWER)
    router.message.register(process_price, ServiceForm.price, ANSWER)
    router.message.register(process_cycle, ServiceForm.cycle, ANSWER)
    router.message.register(process_duration, ServiceForm.duration, ANSWER)
    router.message.register(process_edit, ServiceForm.edit, ANSWER)
    return router


def parse_duration(text: str) -> int:
    low, high = DURATION_RANGE
    return parse_whole(text, low=low, high=high, error="error-duration")


async def list_services(message: Message, catalogue: CatalogueService) -> None:
    services = await catalogue.active()
    text = tr("services-header") if services else tr("services-empty")
    await answer_long(message, text, reply_markup=keyboards.catalogue(services))


async def add_service_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
    clock: Callable[[], datetime],
) -> None:
    if not command.args:
        await _ask_name(message, state)
        return
    parts = [part.strip() for part in command.args.split(";")]
    if not 2 <= len(parts) <= 4:
        raise InputError("error-addservice-usage")
    parts += [""] * (4 - len(parts))
    item = await catalogue.add(
        name=parts[0],
        price=parse_money(parts[1]),
        cycle_days=parse_optional_days(parts[2]) if parts[2] else None,
        duration_minutes=parse_duration(parts[3]) if parts[3] else None,
        now=clock(),
    )
    await state.clear()
    currency = shop_profile.currency
    await message.answer(
        formatting.service_card(item, currency), reply_markup=keyboards.service_card(item)
    )


async def start_new_service(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await _ask_name(query.message, state)


async def _ask_name(message: Message, state: FSMContext) -> None:
    await state.set_state(ServiceForm.name)
    await message.answer(tr("service-ask-name"))


async def process_name(message: Message, state: FSMContext, catalogue: CatalogueService) -> None:
    assert message.text is not None
    name = clean_text(message.text, error="error-service-name")
    if await catalogue.by_name(name):
        raise InputError("error-service-exists", name=name)
    await state.update_data(name=name)
    await state.set_state(ServiceForm.price)
    await message.answer(tr("service-ask-price"))


async def process_price(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    await state.update_data(price=parse_money(message.text))
    await state.set_state(ServiceForm.cycle)
    await message.answer(tr("service-ask-cycle"))


async def process_cycle(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    await state.update_data(cycle_days=parse_optional_days(message.text))
    await state.set_state(ServiceForm.duration)
    await message.answer(tr("service-ask-duration"))


async def process_duration(
    message: Message,
    state: FSMContext,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None
    duration = parse_duration(message.text)
    data = await state.get_data()
    item = await catalogue.add(
        name=data["name"],
        price=data["price"],
        cycle_days=data.get("cycle_days"),
        duration_minutes=duration,
        now=clock(),
    )
    await state.clear()
    currency = shop_profile.currency
    await message.answer(
        formatting.service_card(item, currency), reply_markup=keyboards.service_card(item)
    )


async def open_service(
    query: CallbackQuery,
    callback_data: ServiceOpen,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    item = await catalogue.get(callback_data.service_id)
    if item is None:
        raise InputError("error-service-unknown")
    await query.answer()
    assert isinstance(query.message, Message)
    currency = shop_profile.currency
    await query.message.answer(
        formatting.service_card(item, currency), reply_markup=keyboards.service_card(item)
    )


_EDIT_PROMPTS = {
    "price": "service-ask-price",
    "cycle_days": "service-ask-cycle",
    "duration_minutes": "service-ask-duration",
}


async def start_edit(query: CallbackQuery, callback_data: ServiceEdit, state: FSMContext) -> None:
    if callback_data.field not in _EDIT_PROMPTS:
        raise InputError("error-service-unknown")
    await state.set_state(ServiceForm.edit)
    await state.update_data(service_id=callback_data.service_id, field=callback_data.field)
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.answer(tr(_EDIT_PROMPTS[callback_data.field]))


async def process_edit(
    message: Message, state: FSMContext, catalogue: CatalogueService, shop_profile: ShopProfile
) -> None:
    assert message.text is not None
    data = await state.get_data()
    field = data["field"]
    value: int | None
    if field == "price":
        value = parse_money(message.text)
    elif field == "cycle_days":
        value = parse_optional_days(message.text)
    else:
        value = parse_duration(message.text)
    item = await catalogue.change(data["service_id"], field, value)
    await state.clear()
    currency = shop_profile.currency
    await message.answer(
        formatting.service_card(item, currency), reply_markup=keyboards.service_card(item)
    )


async def toggle_archive(
    query: CallbackQuery,
    callback_data: ServiceArchive,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    item = await catalogue.change(callback_data.service_id, "archived", callback_data.archived)
    await query.answer(tr("service-archived" if item.archived else "service-active"))
    assert isinstance(query.message, Message)
    currency = shop_profile.currency
    await query.message.edit_text(
        formatting.service_card(item, currency), reply_markup=keyboards.service_card(item)
    )


async def pair_command(
    message: Message, command: CommandObject, catalogue: CatalogueService
) -> None:
    """`/pair Manicure > Cuticle oil`: what the thank-you suggests after a service."""
    after, suggested = await catalogue.pair(command.args or "")
    if suggested is None:
        await message.answer(tr("pair-removed", service=after))
    else:
        await message.answer(tr("pair-saved", service=after, suggested=suggested))
