"""The waitlist (issue 13): join it for a service and the next days; take an offered slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.customer.deposits import send_deposit_invoice
from handlers.once import ONCE, ReleasePress
from services.bookings import AlreadyBooked, BookingService, SlotTaken
from services.customers import CustomerService
from services.deposits import DepositService
from services.errors import InputError
from services.owner_notices import OwnerNotices
from services.slot_time import slot_start
from services.waitlist import JOIN_DAYS, WaitlistService
from ui.callbacks import WaitAsk, WaitJoin, WaitLeave, WaitTake
from ui.i18n import current_texts, tr, trn
from ui.messages.bookings import when_label

Clock = Callable[[], datetime]


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(ask_days, WaitAsk.filter())
    router.callback_query.register(join, WaitJoin.filter(), flags=ONCE)
    # First tap books; a tap that lost the race releases its press (the entry stays waiting).
    router.callback_query.register(take, WaitTake.filter(), flags=ONCE)
    router.callback_query.register(leave, WaitLeave.filter(), flags=ONCE)
    return router


async def ask_days(
    query: CallbackQuery, callback_data: WaitAsk, customers: CustomerService
) -> None:
    if await customers.card_by_telegram(query.from_user.id) is None:
        raise InputError("error-book-not-registered")
    builder = InlineKeyboardBuilder()
    for days in JOIN_DAYS:
        builder.button(
            text=trn("wl-next-days", days),
            callback_data=WaitJoin(service_id=callback_data.service_id, days=days),
        )
    builder.adjust(1)
    await query.answer()
    await _message_of(query).answer(tr("wl-ask-days"), reply_markup=builder.as_markup())


async def join(
    query: CallbackQuery,
    callback_data: WaitJoin,
    waitlist: WaitlistService,
    settings: Settings,
    clock: Clock,
) -> None:
    item = await waitlist.join(
        telegram_id=query.from_user.id,
        service_id=callback_data.service_id,
        days=callback_data.days,
        now=clock(),
    )
    await query.answer()
    await _message_of(query).answer(
        tr(
            "wl-joined",
            service=item.service.name,
            first=f"{item.first_day:%d.%m}",
            last=f"{item.last_day:%d.%m}",
        )
    )


async def take(
    query: CallbackQuery,
    callback_data: WaitTake,
    bookings: BookingService,
    waitlist: WaitlistService,
    owner_notices: OwnerNotices,
    settings: Settings,
    clock: Clock,
    release_press: ReleasePress | None = None,
    deposits: DepositService | None = None,
    bot: Bot | None = None,
) -> None:
    now = clock()
    message = _message_of(query)
    who = query.from_user.id
    try:
        wanted = slot_start(callback_data.at)
    except ValueError:
        raise InputError("error-stale-button") from None
    service_id = await waitlist.service_of(telegram_id=who, entry_id=callback_data.entry_id)
    if wanted <= now:
        # An offer read after its time began: it expired with the slot; they keep waiting.
        if release_press is not None:
            await release_press()
        await query.answer()
        await message.answer(tr("wl-expired"))
        return
    action, was = "booked", None
    try:
        try:
            booking = await bookings.book(
                telegram_id=who,
                service_id=service_id,
                starts_at=wanted,
                now=now,
                ref=callback_data.ref,
                source="waitlist",
                waitlist_entry=callback_data.entry_id,
            )
        except AlreadyBooked as already:
            # They waited for an earlier time than the one they hold: move it there.
            booking = await bookings.reschedule(
                telegram_id=who, booking_id=already.booking.id, starts_at=wanted, now=now
            )
            await waitlist.booked(entry_id=callback_data.entry_id, booking_id=booking.id)
            action, was = "moved", already.booking.starts_at
    except SlotTaken:
        if release_press is not None:
            await release_press()
        await query.answer()
        await message.answer(tr("wl-taken"))
        return
    await query.answer()
    await owner_notices.booking(action, booking, now, was=was)
    if booking.deposit_due and deposits is not None and bot is not None:
        await send_deposit_invoice(
            bot, message.chat.id, current_texts(), deposits, booking, settings
        )
        return
    when = when_label(booking.starts_at, settings.zone, tr)
    key = "bk-booked" if action == "booked" else "bk-moved"
    await message.answer(tr(key, service=booking.service.name, when=when))


async def leave(query: CallbackQuery, callback_data: WaitLeave, waitlist: WaitlistService) -> None:
    await waitlist.leave(telegram_id=query.from_user.id, entry_id=callback_data.entry_id)
    await query.answer()
    await _message_of(query).answer(tr("wl-left"))


def _message_of(query: CallbackQuery) -> Message:
    if not isinstance(query.message, Message):
        raise InputError("error-stale-button")
    return query.message
