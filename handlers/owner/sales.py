"""Logging a sale, guided (customer → service → amount → day) or in one line, and undoing one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.filters import ANSWER
from handlers.once import ONCE, ONCE_PER_MESSAGE
from services.catalogue import CatalogueService
from services.customers import CustomerService
from services.errors import InputError
from services.money import format_money
from services.parsing import parse_date, parse_money, parse_whole
from services.sales import (
    AskFreeVisit,
    AskNewCustomer,
    AskRepeat,
    OneLineSale,
    SaleDraft,
    SalesService,
)
from services.shop import ShopProfile
from ui import formatting, keyboards
from ui.callbacks import (
    SaleAddCustomer,
    SaleApplyCode,
    SaleDelete,
    SaleDeleteConfirm,
    SaleFreeVisitConfirm,
    SalePickAmount,
    SalePickCustomer,
    SalePickDay,
    SalePickService,
    SalePoints,
    SaleRepeatConfirm,
)
from ui.i18n import tr
from ui.long_text import answer_long


class SaleForm(StatesGroup):
    customer = State()
    service = State()
    amount = State()
    code = State()
    points = State()
    day = State()
    repeat = State()  # a one-line sale just like one logged minutes ago: log it too?
    free_visit = State()  # a one-line sale of 0: a free visit?
    new_customer = State()  # a one-line sale for a phone or name nobody has: add them?


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(sale_command, Command("sale"))
    router.message.register(process_customer_query, SaleForm.customer, ANSWER)
    router.callback_query.register(
        process_customer_pick, SalePickCustomer.filter(), SaleForm.customer
    )
    router.callback_query.register(process_service_pick, SalePickService.filter(), SaleForm.service)
    router.message.register(process_amount, SaleForm.amount, ANSWER)
    router.callback_query.register(process_amount_pick, SalePickAmount.filter(), SaleForm.amount)
    # Each step of the form is one choice on its own message: a double tap acts once.
    router.callback_query.register(
        process_code_choice, SaleApplyCode.filter(), SaleForm.code, flags=ONCE_PER_MESSAGE
    )
    router.callback_query.register(
        process_points_pick, SalePoints.filter(), SaleForm.points, flags=ONCE_PER_MESSAGE
    )
    router.message.register(process_points, SaleForm.points, ANSWER)
    router.message.register(process_day, SaleForm.day, ANSWER)
    router.callback_query.register(
        process_day_pick, SalePickDay.filter(), SaleForm.day, flags=ONCE_PER_MESSAGE
    )
    router.callback_query.register(
        confirm_repeat, SaleRepeatConfirm.filter(), SaleForm.repeat, flags=ONCE_PER_MESSAGE
    )
    router.callback_query.register(
        confirm_free_visit,
        SaleFreeVisitConfirm.filter(),
        SaleForm.free_visit,
        flags=ONCE_PER_MESSAGE,
    )
    router.callback_query.register(
        add_customer_and_log, SaleAddCustomer.filter(), SaleForm.new_customer, flags=ONCE
    )
    router.message.register(list_sales, Command("sales"))
    router.message.register(delete_command, Command("delsale"))
    router.callback_query.register(ask_delete, SaleDelete.filter())
    router.callback_query.register(
        confirm_delete, SaleDeleteConfirm.filter(), flags=ONCE_PER_MESSAGE
    )
    return router


async def sale_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    if not command.args:
        await state.set_state(SaleForm.customer)
        await message.answer(tr("sale-ask-customer"))
        return
    outcome = await sales.log_one_line(command.args, clock(), shop_profile)
    await answer_one_line(outcome, state, message.answer, settings)


# How the answer goes out: message.answer here; the bot's chat with the owner for a sale
# typed in a client's chat through Telegram Business (handlers/business.py).
Send = Callable[..., Awaitable[Any]]


async def answer_one_line(
    outcome: OneLineSale, state: FSMContext, send: Send, settings: Settings
) -> None:
    """The receipt of a one-line sale, or its one question (the state set for the answer)."""
    if isinstance(outcome, AskNewCustomer):
        await _offer_new_customer(send, state, outcome)
    elif isinstance(outcome, AskFreeVisit):
        await _ask_free_visit(send, state, _pending(outcome.draft), outcome.customer.label)
    elif isinstance(outcome, AskRepeat):
        # Most likely the owner saw no receipt and typed it again: ask before a second sale.
        await state.set_state(SaleForm.repeat)
        await state.set_data({"pending": _pending(outcome.draft)})
        repeat = outcome.repeat
        await send(
            tr("once-sale-repeat-ask", minutes=repeat.minutes_ago, id=repeat.purchase_id),
            reply_markup=_repeat_keyboard(),
        )
    else:
        await send(formatting.receipt(outcome, outcome.currency, settings.zone))


def _pending(draft: SaleDraft) -> dict[str, Any]:
    """The sale waiting for an answer, as the conversation's data keeps it (plain JSON)."""
    return {
        "customer_id": draft.customer_id,
        "amount": draft.amount,
        "service_id": draft.service_id,
        "day": draft.day.isoformat() if draft.day else None,
        "code": draft.code,
        "points": draft.points,
    }


async def _ask_free_visit(
    send: Send, state: FSMContext, pending: dict[str, Any], label: str
) -> None:
    # 0 is a typo as often as a warranty fix: it is logged only once confirmed.
    await state.set_state(SaleForm.free_visit)
    await state.set_data({"pending": pending})
    await send(tr("datafix-free-visit-ask", customer=label), reply_markup=_free_visit_keyboard())


async def _offer_new_customer(send: Send, state: FSMContext, offer: AskNewCustomer) -> None:
    """Nobody has this phone or name: one tap adds them with it and logs the sale."""
    newcomer = offer.newcomer
    await state.set_state(SaleForm.new_customer)
    await state.set_data(
        {
            "pending": _pending(offer.draft),
            "newcomer": {"name": newcomer.name, "phone": newcomer.phone},
        }
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("salephrase-add-button"), callback_data=SaleAddCustomer())
    await send(
        tr(
            "salephrase-add-offer",
            who=newcomer.shown,
            amount=format_money(offer.draft.amount, offer.currency),
        ),
        reply_markup=builder.as_markup(),
    )


async def add_customer_and_log(
    query: CallbackQuery,
    state: FSMContext,
    customers: CustomerService,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    data = await state.get_data()
    pending, newcomer = data["pending"], data["newcomer"]
    now = clock()
    if pending["amount"] == 0:
        # A free visit still waits for its own question, asked of the customer just added.
        card = await customers.add_offline(newcomer["name"], newcomer["phone"], now)
        await query.message.edit_text(tr("salephrase-added", customer=card.label))
        await _ask_free_visit(
            query.message.answer, state, {**pending, "customer_id": card.id}, card.label
        )
        return
    sale = await sales.log_sale_for_new_customer(
        name=newcomer["name"],
        phone=newcomer["phone"],
        amount=pending["amount"],
        service_id=pending["service_id"],
        day=date.fromisoformat(pending["day"]) if pending["day"] else None,
        now=now,
        code=pending["code"],
        points=pending["points"],
        profile=shop_profile,
    )
    await state.clear()
    await query.message.edit_text(tr("salephrase-added", customer=sale.customer.label))
    await query.message.answer(formatting.receipt(sale, sale.currency, settings.zone))


def _repeat_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("once-sale-repeat-yes"), callback_data=SaleRepeatConfirm(confirmed=True))
    builder.button(text=tr("once-sale-repeat-no"), callback_data=SaleRepeatConfirm(confirmed=False))
    builder.adjust(1)
    return builder.as_markup()


async def confirm_repeat(
    query: CallbackQuery,
    callback_data: SaleRepeatConfirm,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await _settle_question(
        query, callback_data.confirmed, "once-sale-repeat-kept", {}, state, sales, shop_profile,
        settings, clock,
    )  # fmt: skip


def _free_visit_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for confirmed, text in ((True, "datafix-free-visit-yes"), (False, "datafix-free-visit-no")):
        builder.button(text=tr(text), callback_data=SaleFreeVisitConfirm(confirmed=confirmed))
    builder.adjust(1)
    return builder.as_markup()


async def confirm_free_visit(
    query: CallbackQuery,
    callback_data: SaleFreeVisitConfirm,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await _settle_question(
        query, callback_data.confirmed, "datafix-free-visit-dropped", {"free_visit": True}, state,
        sales, shop_profile, settings, clock,
    )  # fmt: skip


async def _settle_question(
    query: CallbackQuery,
    confirmed: bool,
    dropped_text: str,
    extra: dict[str, Any],
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    """Yes logs the sale waiting in the conversation (with `extra`); No drops it."""
    await query.answer()
    assert isinstance(query.message, Message)
    pending = (await state.get_data())["pending"]
    if not confirmed:
        await state.clear()
        await query.message.edit_text(tr(dropped_text))
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await _log_pending(
        query.message, state, {**pending, **extra}, sales, shop_profile, settings, clock()
    )


async def _log_pending(
    message: Message,
    state: FSMContext,
    pending: dict[str, Any],
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    now: datetime,
) -> None:
    """Log a one-line sale from its parsed parts (kept in the form while it is confirmed)."""
    sale = await sales.log_sale(
        customer_id=pending["customer_id"],
        amount=pending["amount"],
        service_id=pending["service_id"],
        day=date.fromisoformat(pending["day"]) if pending["day"] else None,
        now=now,
        code=pending["code"],
        points=pending["points"],
        free_visit=pending.get("free_visit", False),
        profile=shop_profile,
    )
    await state.clear()
    await message.answer(formatting.receipt(sale, sale.currency, settings.zone))


async def process_customer_query(
    message: Message,
    state: FSMContext,
    customers: CustomerService,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    assert message.text is not None
    found = await customers.find(message.text)
    if not found:
        await message.answer(tr("sale-customer-not-found"))
    elif len(found) == 1:
        await _customer_chosen(message, state, found[0].id, found[0].label, catalogue, shop_profile)
    else:
        await message.answer(tr("sale-pick-customer"), reply_markup=keyboards.pick_customer(found))


async def process_customer_pick(
    query: CallbackQuery,
    callback_data: SalePickCustomer,
    state: FSMContext,
    customers: CustomerService,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    card = await customers.card(callback_data.customer_id)
    if card is None:
        raise InputError("error-customer-gone")
    await query.answer()
    assert isinstance(query.message, Message)
    await _customer_chosen(query.message, state, card.id, card.label, catalogue, shop_profile)


async def _customer_chosen(
    message: Message,
    state: FSMContext,
    customer_id: int,
    label: str,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    await state.update_data(customer_id=customer_id, customer_label=label)
    services = await catalogue.active()
    if not services:
        await state.update_data(service_id=None)
        await state.set_state(SaleForm.amount)
        await message.answer(tr("sale-ask-amount", customer=label))
        return
    await state.set_state(SaleForm.service)
    currency = shop_profile.currency
    await message.answer(
        tr("sale-ask-service", customer=label),
        reply_markup=keyboards.pick_service(services, currency),
    )


async def process_service_pick(
    query: CallbackQuery,
    callback_data: SalePickService,
    state: FSMContext,
    catalogue: CatalogueService,
    shop_profile: ShopProfile,
) -> None:
    service = await catalogue.get(callback_data.service_id) if callback_data.service_id else None
    await state.update_data(service_id=service.id if service else None)
    await state.set_state(SaleForm.amount)
    await query.answer()
    assert isinstance(query.message, Message)
    data = await state.get_data()
    markup = None
    if service is not None:
        markup = keyboards.suggest_amount(service.price, shop_profile.currency)
    await query.message.answer(
        tr("sale-ask-amount", customer=data["customer_label"]), reply_markup=markup
    )


async def process_amount(
    message: Message, state: FSMContext, sales: SalesService, clock: Callable[[], datetime]
) -> None:
    assert message.text is not None
    await _amount_chosen(message, state, parse_money(message.text), sales, clock())


async def process_amount_pick(
    query: CallbackQuery,
    callback_data: SalePickAmount,
    state: FSMContext,
    sales: SalesService,
    clock: Callable[[], datetime],
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await _amount_chosen(query.message, state, callback_data.amount, sales, clock())


async def _amount_chosen(
    message: Message, state: FSMContext, amount: int, sales: SalesService, now: datetime
) -> None:
    await state.update_data(amount=amount, code=None)
    data = await state.get_data()
    offer = await sales.active_code(data["customer_id"], now)
    if offer is not None:
        # The customer has a birthday code: offer it rather than make the owner type it.
        code, percent = offer
        await state.set_state(SaleForm.code)
        await message.answer(
            tr("sale-code-offer", customer=data["customer_label"], code=code, percent=percent),
            reply_markup=keyboards.apply_code(code),
        )
        return
    await _offer_points(message, state, sales)


async def process_code_choice(
    query: CallbackQuery, callback_data: SaleApplyCode, state: FSMContext, sales: SalesService
) -> None:
    await query.answer()
    await state.update_data(code=callback_data.code or None)
    assert isinstance(query.message, Message)
    await _offer_points(query.message, state, sales)


async def _offer_points(message: Message, state: FSMContext, sales: SalesService) -> None:
    """Points can pay part of the price; the owner is offered them only when there are some."""
    data = await state.get_data()
    balance = await sales.points_balance(data["customer_id"])
    usable = min(balance, data["amount"] // 100)
    if usable <= 0:
        await _ask_day(message, state)
        return
    await state.update_data(points=0)
    await state.set_state(SaleForm.points)
    await message.answer(
        tr("sale-points-offer", customer=data["customer_label"], balance=balance),
        reply_markup=keyboards.use_points(usable),
    )


async def process_points_pick(
    query: CallbackQuery, callback_data: SalePoints, state: FSMContext
) -> None:
    await query.answer()
    await state.update_data(points=callback_data.points)
    assert isinstance(query.message, Message)
    await _ask_day(query.message, state)


async def process_points(message: Message, state: FSMContext, sales: SalesService) -> None:
    assert message.text is not None
    data = await state.get_data()
    balance = await sales.points_balance(data["customer_id"])
    usable = min(balance, data["amount"] // 100)
    points = parse_whole(message.text, low=0, high=usable, error="error-points-range")
    await state.update_data(points=points)
    await _ask_day(message, state)


async def _ask_day(message: Message, state: FSMContext) -> None:
    await state.set_state(SaleForm.day)
    await message.answer(tr("sale-ask-day"), reply_markup=keyboards.pick_day())


async def process_day(
    message: Message,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None
    now = clock()
    day = parse_date(message.text, today=sales.today(now), earliest=sales.earliest_date(now))
    await _save(message, state, sales, shop_profile, settings, now, day)


async def process_day_pick(
    query: CallbackQuery,
    callback_data: SalePickDay,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    now = clock()
    day = sales.today(now) - timedelta(days=callback_data.days_ago)
    await query.answer()
    assert isinstance(query.message, Message)
    await _save(query.message, state, sales, shop_profile, settings, now, day)


async def _save(
    message: Message,
    state: FSMContext,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
    now: datetime,
    day: date | None,
) -> None:
    data = await state.get_data()
    sale = await sales.log_sale(
        customer_id=data["customer_id"],
        amount=data["amount"],
        service_id=data.get("service_id"),
        day=day,
        now=now,
        code=data.get("code"),
        points=data.get("points") or 0,
        profile=shop_profile,
    )
    await state.clear()
    await message.answer(formatting.receipt(sale, sale.currency, settings.zone))


async def list_sales(
    message: Message, sales: SalesService, shop_profile: ShopProfile, settings: Settings
) -> None:
    lines = await sales.recent()
    if not lines:
        await message.answer(tr("sales-empty"))
        return
    currency = shop_profile.currency
    text = "\n".join(
        [tr("sales-header")]
        + [formatting.sale_line(line, currency, settings.zone) for line in lines]
    )
    await answer_long(message, text, reply_markup=keyboards.recent_sales(lines))


async def delete_command(message: Message, command: CommandObject) -> None:
    args = (command.args or "").strip().lstrip("#")
    if not args.isdigit() or len(args) > 12:
        raise InputError("error-delsale-usage")
    await message.answer(
        tr("sale-delete-confirm", id=int(args)), reply_markup=keyboards.confirm_delete(int(args))
    )


async def ask_delete(query: CallbackQuery, callback_data: SaleDelete) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.answer(
        tr("sale-delete-confirm", id=callback_data.purchase_id),
        reply_markup=keyboards.confirm_delete(callback_data.purchase_id),
    )


async def confirm_delete(
    query: CallbackQuery,
    callback_data: SaleDeleteConfirm,
    sales: SalesService,
    shop_profile: ShopProfile,
    settings: Settings,
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    if not callback_data.confirmed:
        await query.message.edit_text(tr("sale-delete-kept"))
        return
    line = await sales.delete(callback_data.purchase_id)
    if line is None:
        await query.message.edit_text(tr("sale-delete-missing", id=callback_data.purchase_id))
        return
    currency = shop_profile.currency
    await query.message.edit_text(
        tr("sale-deleted", line=formatting.sale_line(line, currency, settings.zone))
    )
