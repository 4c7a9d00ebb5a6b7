"""Booking: /book (service → day → slot), one-tap slots from reminders, confirm / move / cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.customer.deposits import send_deposit_invoice
from handlers.once import ONCE, ReleasePress
from handlers.webapp import app_button
from services.bookings import AlreadyBooked, BookingItem, BookingService, SlotTaken
from services.catalogue import CatalogueService
from services.customers import CustomerService
from services.deposits import DepositService
from services.dto import ServiceItem
from services.errors import InputError
from services.money import format_money
from services.owner_notices import OwnerNotices
from services.schedule import (
    SEARCH_DAYS,
    ScheduleService,
    group_by_day,
    local_bounds,
)
from services.shop import ShopProfile
from services.slot_time import slot_minutes, slot_start
from ui.callbacks import BookDay, BookingAction, BookMove, BookOther, BookSlot, WaitAsk
from ui.i18n import current_texts, tr
from ui.keyboards import BUTTON_TEXT
from ui.messages.bookings import (
    booking_actions,
    day_label,
    own_booking,
    reminder_note,
    when_label,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(book_command, Command("book"))
    router.callback_query.register(pick_service, BookOther.filter())
    router.callback_query.register(pick_day, BookDay.filter())
    # A slot acts once; a slot that was taken meanwhile releases its press (see pick_slot).
    router.callback_query.register(pick_slot, BookSlot.filter(), flags=ONCE)
    router.callback_query.register(pick_new_time, BookMove.filter(), flags=ONCE)
    # I'll come and Cancel act once each (the booking's status refuses the other after a
    # cancel with its own words); Reschedule only opens the days again, as often as wanted.
    router.callback_query.register(
        booking_action, BookingAction.filter(F.action.in_({"confirm", "cancel"})), flags=ONCE
    )
    router.callback_query.register(booking_action, BookingAction.filter())
    return router


# --- /book -----------------------------------------------------------------------------------


async def book_command(
    message: Message,
    customers: CustomerService,
    catalogue: CatalogueService,
    bookings: BookingService,
    shop_profile: ShopProfile,
    settings: Settings,
    clock: Clock,
) -> None:
    assert message.from_user is not None
    # A customer row is enough (an imported customer may never have pressed /start).
    if await customers.card_by_telegram(message.from_user.id) is None:
        await message.answer(tr("bk-not-registered"))
        return
    services = await catalogue.active()
    if not services:
        await message.answer(tr("bk-no-services"))
        return
    await show_own_bookings(
        message, await bookings.upcoming(message.from_user.id, clock()), settings
    )
    currency = shop_profile.currency
    markup = _services_keyboard(services, currency)
    book_in_app = app_button(settings, "wa-book-button")  # issue 12: the Mini App's booking
    if book_in_app is not None:
        markup.inline_keyboard.append([book_in_app])
    await message.answer(tr("bk-pick-service"), reply_markup=markup)


async def show_own_bookings(
    message: Message, items: Sequence[BookingItem], settings: Settings
) -> None:
    """One message per upcoming booking, each with Reschedule and Cancel (BookingAction)."""
    for item in items:
        shown = own_booking(item.id, item.service.name, item.starts_at, settings.zone, tr)
        await message.answer(shown.text, reply_markup=shown.markup)


def _services_keyboard(services: Sequence[ServiceItem], currency: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in services:
        label = f"{item.name} · {format_money(item.price, currency)} · " + tr(
            "bk-minutes", minutes=item.duration_minutes
        )
        builder.button(text=_cut(label), callback_data=BookOther(service_id=item.id))
    builder.adjust(1)
    return builder.as_markup()


def _cut(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT else text[: BUTTON_TEXT - 1] + "…"


# --- service → day → slot --------------------------------------------------------------------


async def pick_service(
    query: CallbackQuery,
    callback_data: BookOther,
    catalogue: CatalogueService,
    bookings: BookingService,
    schedule: ScheduleService,
    settings: Settings,
    clock: Clock,
) -> None:
    """A service was chosen (in /book, or "another time" on a reminder): offer the days."""
    now = clock()
    await bookings.check_button(
        telegram_id=query.from_user.id, ref=callback_data.ref, move=0, now=now
    )
    service = await _active_service(catalogue, callback_data.service_id)
    existing = next(
        (b for b in await bookings.upcoming(query.from_user.id, now) if b.service.id == service.id),
        None,
    )
    await query.answer()
    message = _message_of(query)
    if existing is not None:
        await _offer_existing(message, existing, settings)
        return
    await _offer_days(message, schedule, service, settings, now, ref=callback_data.ref, move=0)


async def pick_day(
    query: CallbackQuery,
    callback_data: BookDay,
    catalogue: CatalogueService,
    bookings: BookingService,
    schedule: ScheduleService,
    settings: Settings,
    clock: Clock,
) -> None:
    now = clock()
    await bookings.check_button(
        telegram_id=query.from_user.id, ref=callback_data.ref, move=callback_data.move, now=now
    )
    service = await _active_service(catalogue, callback_data.service_id)
    await query.answer()
    message = _message_of(query)
    today = now.astimezone(settings.zone).date()
    ref, move = callback_data.ref, callback_data.move
    if not today.toordinal() <= callback_data.day <= today.toordinal() + SEARCH_DAYS:
        await _offer_days(message, schedule, service, settings, now, ref=ref, move=move)
        return
    start, end = local_bounds(date.fromordinal(callback_data.day), settings.zone)
    slots = await schedule.free_slots(
        duration_minutes=service.duration_minutes,
        start=start,
        end=end,
        now=now,
    )
    if not slots:
        await message.answer(tr("bk-day-full"))
        await _offer_days(message, schedule, service, settings, now, ref=ref, move=move)
        return
    builder = InlineKeyboardBuilder()
    for slot in slots:
        builder.button(
            text=f"{slot.astimezone(settings.zone):%H:%M}",
            callback_data=_slot_data(service.id, slot, ref, move),
        )
    builder.adjust(4)
    builder.row(
        InlineKeyboardButton(
            text=tr("bk-button-other-day"),
            callback_data=BookDay(service_id=service.id, day=-1, ref=ref, move=move).pack(),
        )
    )
    await message.answer(
        tr(
            "bk-pick-slot",
            service=service.name,
            day=day_label(slots[0], settings.zone, tr),
        ),
        reply_markup=builder.as_markup(),
    )


async def pick_slot(
    query: CallbackQuery,
    callback_data: BookSlot,
    bookings: BookingService,
    schedule: ScheduleService,
    settings: Settings,
    owner_notices: OwnerNotices,
    shop_profile: ShopProfile,
    clock: Clock,
    release_press: ReleasePress | None = None,
    deposits: DepositService | None = None,
    bot: Bot | None = None,
) -> None:
    """One tap books the slot; the loser of a race gets fresh slots."""
    now = clock()
    message = _message_of(query)
    wanted = _moment(callback_data.at)
    try:
        if wanted is None:
            raise SlotTaken(callback_data.service_id, now)
        booking = await bookings.book(
            telegram_id=query.from_user.id,
            service_id=callback_data.service_id,
            starts_at=wanted,
            now=now,
            ref=callback_data.ref,
            source="rebook" if callback_data.ref else "book",
        )
    except SlotTaken as taken:
        await _nothing_done(release_press)
        await query.answer()
        await _offer_fresh(message, schedule, taken, settings, now, ref=callback_data.ref)
        return
    except AlreadyBooked as already:
        await _nothing_done(release_press)
        await query.answer()
        await _offer_existing(message, already.booking, settings)
        return
    await query.answer()
    await owner_notices.booking("booked", booking, now)
    if booking.deposit_due and deposits is not None and bot is not None:
        # issue 13: the slot is held until the deposit is paid; the invoice says the rest
        await send_deposit_invoice(
            bot, message.chat.id, current_texts(), deposits, booking, settings
        )
        return
    reminder = await bookings.reminder_at(booking, now, shop_profile)
    await message.answer(
        tr(
            "bk-booked",
            service=booking.service.name,
            when=when_label(booking.starts_at, settings.zone, tr),
        )
        + reminder_note(reminder, settings.zone, tr)
    )


async def pick_new_time(
    query: CallbackQuery,
    callback_data: BookMove,
    bookings: BookingService,
    schedule: ScheduleService,
    settings: Settings,
    owner_notices: OwnerNotices,
    shop_profile: ShopProfile,
    clock: Clock,
    release_press: ReleasePress | None = None,
) -> None:
    now = clock()
    message = _message_of(query)
    current = await bookings.own(
        telegram_id=query.from_user.id, booking_id=callback_data.booking_id, now=now
    )
    wanted = _moment(callback_data.at)
    try:
        if wanted is None:
            raise SlotTaken(current.service.id, now, current.id)
        booking = await bookings.reschedule(
            telegram_id=query.from_user.id,
            booking_id=callback_data.booking_id,
            starts_at=wanted,
            now=now,
        )
    except SlotTaken as taken:
        await _nothing_done(release_press)
        await query.answer()
        await _offer_fresh(message, schedule, taken, settings, now, ref=0)
        return
    await query.answer()
    reminder = await bookings.reminder_at(booking, now, shop_profile)
    await message.answer(
        tr(
            "bk-moved",
            service=booking.service.name,
            when=when_label(booking.starts_at, settings.zone, tr),
        )
        + reminder_note(reminder, settings.zone, tr)
    )
    await owner_notices.booking("moved", booking, now, was=current.starts_at)


# --- the reminder's buttons ------------------------------------------------------------------


async def booking_action(
    query: CallbackQuery,
    callback_data: BookingAction,
    bookings: BookingService,
    schedule: ScheduleService,
    settings: Settings,
    owner_notices: OwnerNotices,
    clock: Clock,
) -> None:
    now = clock()
    message = _message_of(query)
    who, booking_id = query.from_user.id, callback_data.booking_id
    if callback_data.action in {"confirm", "cancel"}:
        confirm = callback_data.action == "confirm"
        change = bookings.confirm if confirm else bookings.cancel
        booking = await change(telegram_id=who, booking_id=booking_id, now=now)
        await query.answer()
        text = tr(
            "bk-confirmed" if confirm else "bk-cancelled",
            service=booking.service.name,
            when=when_label(booking.starts_at, settings.zone, tr),
        )
        if booking.deposit_refund:  # issue 13: cancelled in time, the deposit goes back
            text += "\n" + tr("dp-refund-customer")
        await message.answer(text)
        action = "confirmed" if confirm else "cancelled"
        await owner_notices.booking(action, booking, now, refund=booking.deposit_refund)
    elif callback_data.action == "move":
        booking = await bookings.own(telegram_id=who, booking_id=booking_id, now=now)
        await query.answer()
        service = booking.service
        await _offer_days(message, schedule, service, settings, now, ref=0, move=booking.id)
    else:
        raise InputError("error-stale-button")


# --- pieces ----------------------------------------------------------------------------------


async def _nothing_done(release_press: ReleasePress | None) -> None:
    """The tap booked nothing: the same button may be tried again later."""
    if release_press is not None:
        await release_press()


async def _offer_days(
    message: Message,
    schedule: ScheduleService,
    service: ServiceItem,
    settings: Settings,
    now: datetime,
    *,
    ref: int,
    move: int,
) -> None:
    slots = await schedule.free_slots(
        duration_minutes=service.duration_minutes,
        start=now,
        end=now + timedelta(days=SEARCH_DAYS),
        now=now,
    )
    days = group_by_day(slots, settings.zone)
    # issue 13: no time that suits: wait for freed time instead
    wait = InlineKeyboardButton(
        text=tr("wl-button-ask"), callback_data=WaitAsk(service_id=service.id).pack()
    )
    if not days:
        await message.answer(
            tr("bk-no-free-days", service=service.name),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[wait]]),
        )
        return
    builder = InlineKeyboardBuilder()
    for day, day_slots in days.items():
        builder.button(
            text=day_label(day_slots[0], settings.zone, tr),
            callback_data=BookDay(service_id=service.id, day=day.toordinal(), ref=ref, move=move),
        )
    builder.adjust(3)
    builder.row(wait)
    await message.answer(tr("bk-pick-day", service=service.name), reply_markup=builder.as_markup())


async def _offer_fresh(
    message: Message,
    schedule: ScheduleService,
    taken: SlotTaken,
    settings: Settings,
    now: datetime,
    *,
    ref: int,
) -> None:
    """The slot was just taken: offer the nearest free slots of the same service instead."""
    around = max(taken.wanted, now)
    slots = await schedule.nearest_slots(service_id=taken.service_id, around=around, now=now)
    move = taken.booking_id or 0
    builder = InlineKeyboardBuilder()
    for slot in slots:
        builder.button(
            text=when_label(slot, settings.zone, tr),
            callback_data=_slot_data(taken.service_id, slot, ref, move),
        )
    builder.button(
        text=tr("bk-button-other-day"),
        callback_data=BookDay(service_id=taken.service_id, day=-1, ref=ref, move=move),
    )
    builder.adjust(2)
    key = "bk-slot-taken" if slots else "bk-slot-taken-none"
    await message.answer(tr(key), reply_markup=builder.as_markup())


async def _offer_existing(message: Message, booking: BookingItem, settings: Settings) -> None:
    await message.answer(
        tr(
            "bk-already-booked",
            service=booking.service.name,
            when=when_label(booking.starts_at, settings.zone, tr),
        ),
        reply_markup=booking_actions(booking.id, tr),
    )


def _slot_data(service_id: int, slot: datetime, ref: int, move: int) -> BookSlot | BookMove:
    if move:
        return BookMove(booking_id=move, at=slot_minutes(slot))
    return BookSlot(service_id=service_id, at=slot_minutes(slot), ref=ref)


def _moment(minutes: int) -> datetime | None:
    try:
        return slot_start(minutes)
    except ValueError:  # callback data can be forged
        return None


async def _active_service(catalogue: CatalogueService, service_id: int) -> ServiceItem:
    service = await catalogue.get(service_id)
    if service is None or service.archived:
        raise InputError("error-service-unknown")
    return service


def _message_of(query: CallbackQuery) -> Message:
    # Buttons live on our own recent messages; an inaccessible (very old) one is stale.
    if not isinstance(query.message, Message):
        raise InputError("error-stale-button")
    return query.message
