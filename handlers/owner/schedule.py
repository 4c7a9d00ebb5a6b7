"""The owner's schedule: working hours and blocked time (/hours), the day's bookings (/today)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.filters import ANSWER
from handlers.once import ONCE
from services.bookings import BOOKED, BookingItem, BookingService
from services.dto import SaleReceipt
from services.errors import InputError
from services.money import format_money
from services.no_shows import NoShowService
from services.parsing import MAX_TYPED, parse_day, parse_weekday
from services.schedule import (
    BlockItem,
    ScheduleService,
    Week,
)
from services.shop import ShopProfile
from ui import formatting
from ui.callbacks import (
    OwnerBookingDone,
    OwnerBookingNoShow,
    OwnerDayView,
    OwnerHoursDay,
    OwnerSaleAmount,
)
from ui.i18n import current_texts, tr
from ui.long_text import answer_long
from ui.messages.bookings import day_label
from ui.messages.no_shows import lost_line

Clock = Callable[[], datetime]


class HoursForm(StatesGroup):
    day = State()


class AmountForm(StatesGroup):
    amount = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(hours_command, Command("hours"))
    router.callback_query.register(ask_day_hours, OwnerHoursDay.filter())
    router.message.register(process_day_hours, HoursForm.day, ANSWER)
    router.message.register(today_command, Command("today"))
    router.callback_query.register(show_day, OwnerDayView.filter())
    router.callback_query.register(mark_done, OwnerBookingDone.filter(), flags=ONCE)
    router.callback_query.register(mark_no_show, OwnerBookingNoShow.filter(), flags=ONCE)
    router.callback_query.register(ask_amount, OwnerSaleAmount.filter())
    router.message.register(process_amount, AmountForm.amount, ANSWER)
    return router


# --- /hours ----------------------------------------------------------------------------------


async def hours_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    schedule: ScheduleService,
    settings: Settings,
    clock: Clock,
) -> None:
    now = clock()
    args = " ".join((command.args or "").split())
    if not args:
        await state.clear()
        await _show_week(message, schedule, settings, now)
        return
    if len(args) > MAX_TYPED:
        raise InputError("error-hours-usage")
    word, _, rest = args.partition(" ")
    word = word.casefold()
    if word in {"off", "выходной"}:
        if not rest:
            raise InputError("error-hours-usage")
        block = await schedule.add_day_off(rest, now)
        await message.answer(tr("bk-hours-day-off-saved", block=_block_line(block, settings)))
    elif word in {"block", "блок"}:
        day_text, _, interval = rest.partition(" ")
        if not day_text or not interval:
            raise InputError("error-hours-usage")
        block = await schedule.add_block(day_text, interval, now)
        await message.answer(tr("bk-hours-block-saved", block=_block_line(block, settings)))
    elif word in {"unblock", "разблок"}:
        block = await schedule.remove_block(rest, now)
        await message.answer(tr("bk-hours-block-removed", block=_block_line(block, settings)))
    else:
        weekday = parse_weekday(word)
        if not rest:
            raise InputError("error-hours-usage")
        week = await schedule.set_day(weekday, rest, now)
        await message.answer(tr("bk-hours-saved") + "\n\n" + _week_text(week))


async def ask_day_hours(
    query: CallbackQuery, callback_data: OwnerHoursDay, state: FSMContext
) -> None:
    if not 0 <= callback_data.weekday <= 6:
        raise InputError("error-stale-button")
    await state.set_state(HoursForm.day)
    await state.update_data(weekday=callback_data.weekday)
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.answer(
        tr("bk-hours-ask", day=tr(f"bk-weekday-long-{callback_data.weekday}"))
    )


async def process_day_hours(
    message: Message, state: FSMContext, schedule: ScheduleService, clock: Clock
) -> None:
    assert message.text is not None
    weekday = int((await state.get_data())["weekday"])
    week = await schedule.set_day(weekday, message.text, clock())
    await state.clear()
    await message.answer(tr("bk-hours-saved") + "\n\n" + _week_text(week))


async def _show_week(
    message: Message, schedule: ScheduleService, settings: Settings, now: datetime
) -> None:
    week = await schedule.week()
    blocks = await schedule.upcoming_blocks(now)
    parts = [tr("bk-hours-header"), _week_text(week)]
    if blocks:
        parts += ["", tr("bk-hours-blocks"), *(_block_line(b, settings) for b in blocks)]
    parts += ["", tr("bk-hours-help")]
    await answer_long(message, "\n".join(parts), reply_markup=_weekdays_keyboard())


def _week_text(week: Week) -> str:
    lines = []
    for weekday in range(7):
        hours = week.on(weekday)
        value = f"{hours[0]:%H:%M}–{hours[1]:%H:%M}" if hours else tr("bk-hours-off")
        lines.append(f"{tr(f'bk-weekday-{weekday}')}: {value}")
    return "\n".join(lines)


def _block_line(block: BlockItem, settings: Settings) -> str:
    start = block.starts_at.astimezone(settings.zone)
    end = block.ends_at.astimezone(settings.zone)
    if block.note == "off":
        return tr("bk-block-day-off", id=block.id, day=f"{start:%d.%m.%Y}")
    return tr(
        "bk-block-line",
        id=block.id,
        day=f"{start:%d.%m.%Y}",
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
    )


def _weekdays_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for weekday in range(7):
        builder.button(
            text=tr(f"bk-weekday-{weekday}"), callback_data=OwnerHoursDay(weekday=weekday)
        )
    builder.adjust(7)
    return builder.as_markup()


# --- /today ----------------------------------------------------------------------------------


async def today_command(
    message: Message,
    command: CommandObject,
    bookings: BookingService,
    no_shows: NoShowService,
    settings: Settings,
    clock: Clock,
) -> None:
    today = bookings.today(clock())
    args = (command.args or "").strip()
    if len(args) > 40:
        raise InputError("error-date-format")
    day = parse_day(args, today=today) if args else today
    text, markup = await _day_view(bookings, no_shows, settings, day)
    await answer_long(message, text, reply_markup=markup)


async def show_day(
    query: CallbackQuery,
    callback_data: OwnerDayView,
    bookings: BookingService,
    no_shows: NoShowService,
    settings: Settings,
) -> None:
    if not 1 <= callback_data.day <= date.max.toordinal():
        raise InputError("error-stale-button")
    day = date.fromordinal(callback_data.day)
    text, markup = await _day_view(bookings, no_shows, settings, day)
    await query.answer()
    assert isinstance(query.message, Message)
    await answer_long(query.message, text, reply_markup=markup)


async def _day_view(
    bookings: BookingService, no_shows: NoShowService, settings: Settings, day: date
) -> tuple[str, InlineKeyboardMarkup]:
    items = await bookings.of_day(day)
    # issue 13: each customer's lost visits beside their booking
    lost = await no_shows.of_customers({item.customer.id for item in items})
    title = f"{tr(f'bk-weekday-{day.weekday()}')} {day:%d.%m.%Y}"
    lines = [tr("bk-day-header", day=title)]
    texts = current_texts()
    lines += [
        " ".join(
            part
            for part in (
                _booking_line(item, settings),
                lost_line(texts, lost.get(item.customer.id)),
            )
            if part
        )
        for item in items
    ] or [tr("bk-day-empty")]
    builder = InlineKeyboardBuilder()
    sizes = []
    buttons = []
    for item in items:
        if item.status != BOOKED:
            continue
        at = f"{item.starts_at.astimezone(settings.zone):%H:%M}"
        done = OwnerBookingDone(booking_id=item.id).pack()
        no_show = OwnerBookingNoShow(booking_id=item.id).pack()
        buttons += [
            InlineKeyboardButton(text=tr("bk-button-done", time=at), callback_data=done),
            InlineKeyboardButton(text=tr("bk-button-no-show", time=at), callback_data=no_show),
        ]
        sizes.append(2)
    # One `add` for all: each `button()` call copies the whole keyboard (slow for a busy day).
    builder.add(*buttons)
    if day > date.min:
        builder.button(
            text=tr("bk-button-prev-day"), callback_data=OwnerDayView(day=day.toordinal() - 1)
        )
    builder.button(
        text=tr("bk-button-next-day"), callback_data=OwnerDayView(day=day.toordinal() + 1)
    )
    builder.adjust(*sizes, 2)
    return "\n".join(lines), builder.as_markup()


def _booking_line(item: BookingItem, settings: Settings) -> str:
    start = item.starts_at.astimezone(settings.zone)
    end = item.ends_at.astimezone(settings.zone)
    status = tr(f"bk-status-{item.status}")
    if item.status == BOOKED and item.confirmed:
        status = tr("bk-status-confirmed")
    return tr(
        "bk-day-line",
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        service=item.service.name,
        customer=item.customer.label,
        status=status,
    )


async def mark_done(
    query: CallbackQuery,
    callback_data: OwnerBookingDone,
    bookings: BookingService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Clock,
) -> None:
    closed = await bookings.mark_done(callback_data.booking_id, clock(), shop_profile)
    await query.answer()
    assert isinstance(query.message, Message)
    await _send_receipt(query.message, closed.sale, settings, closed.deposit)


async def mark_no_show(
    query: CallbackQuery,
    callback_data: OwnerBookingNoShow,
    bookings: BookingService,
    no_shows: NoShowService,
    settings: Settings,
    clock: Clock,
) -> None:
    item = await bookings.mark_no_show(callback_data.booking_id, clock())
    await query.answer()
    assert isinstance(query.message, Message)
    text = tr(
        "bk-no-show-saved",
        customer=item.customer.label,
        service=item.service.name,
        day=day_label(item.starts_at, settings.zone, tr),
        time=f"{item.starts_at.astimezone(settings.zone):%H:%M}",
    )
    # issue 13: the customer's record, so the owner sees at once who keeps not coming
    counts = (await no_shows.of_customers({item.customer.id})).get(item.customer.id)
    if counts is not None:
        history = lost_line(current_texts(), counts).removeprefix("⚠ ")
        text += "\n" + tr("ns-no-show-count", parts=history)
    await query.message.answer(text)


async def ask_amount(
    query: CallbackQuery, callback_data: OwnerSaleAmount, state: FSMContext
) -> None:
    await state.set_state(AmountForm.amount)
    await state.update_data(purchase_id=callback_data.purchase_id)
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.answer(tr("bk-ask-amount", id=callback_data.purchase_id))


async def process_amount(
    message: Message,
    state: FSMContext,
    bookings: BookingService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Clock,
) -> None:
    assert message.text is not None
    purchase_id = int((await state.get_data())["purchase_id"])
    sale = await bookings.change_amount(purchase_id, message.text, clock(), shop_profile)
    await state.clear()
    await _send_receipt(message, sale, settings)


async def _send_receipt(
    message: Message, sale: SaleReceipt, settings: Settings, deposit: int = 0
) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr("bk-button-change-amount"),
        callback_data=OwnerSaleAmount(purchase_id=sale.purchase_id),
    )
    text = formatting.receipt(sale, sale.currency, settings.zone)
    if deposit:  # issue 13: paid in advance through Telegram; the rest is paid at the counter
        text += "\n" + tr(
            "dp-deducted",
            deposit=format_money(deposit, sale.currency),
            rest=format_money(max(sale.amount - deposit, 0), sale.currency),
        )
    await message.answer(text, reply_markup=builder.as_markup())
