"""The owner's view of the waitlist (issue 13): who waits for time on a day, in join order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from services.errors import InputError
from services.parsing import parse_day
from services.waitlist import WaitlistService
from ui.callbacks import OwnerWaitDay
from ui.i18n import tr
from ui.long_text import answer_long

Clock = Callable[[], datetime]


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(waitlist_command, Command("waitlist"))
    router.callback_query.register(show_day, OwnerWaitDay.filter())
    return router


async def waitlist_command(
    message: Message,
    command: CommandObject,
    waitlist: WaitlistService,
    settings: Settings,
    clock: Clock,
) -> None:
    today = clock().astimezone(settings.zone).date()
    args = (command.args or "").strip()
    if len(args) > 40:
        raise InputError("error-date-format")
    day = parse_day(args, today=today) if args else today
    text, markup = await _day_view(waitlist, day)
    await answer_long(message, text, reply_markup=markup)


async def show_day(
    query: CallbackQuery, callback_data: OwnerWaitDay, waitlist: WaitlistService
) -> None:
    if not 1 < callback_data.day < date.max.toordinal():
        raise InputError("error-stale-button")
    text, markup = await _day_view(waitlist, date.fromordinal(callback_data.day))
    await query.answer()
    assert isinstance(query.message, Message)
    await answer_long(query.message, text, reply_markup=markup)


async def _day_view(waitlist: WaitlistService, day: date) -> tuple[str, InlineKeyboardMarkup]:
    items = await waitlist.of_day(day)
    title = f"{tr(f'bk-weekday-{day.weekday()}')} {day:%d.%m.%Y}"
    lines = [tr("wl-owner-header", day=title)]
    lines += [
        tr(
            "wl-owner-line",
            n=number,
            customer=item.customer.label,
            service=item.service.name,
            first=f"{item.first_day:%d.%m}",
            last=f"{item.last_day:%d.%m}",
            joined=f"{item.created_at:%d.%m}",
        )
        for number, item in enumerate(items, start=1)
    ] or [tr("wl-owner-empty")]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr("bk-button-prev-day"), callback_data=OwnerWaitDay(day=day.toordinal() - 1)
    )
    builder.button(
        text=tr("bk-button-next-day"), callback_data=OwnerWaitDay(day=day.toordinal() + 1)
    )
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()
