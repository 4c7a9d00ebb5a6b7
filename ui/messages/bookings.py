"""Renderers of booking messages: the reminder the day before, with confirm / move / cancel,
a customer's own upcoming booking with move / cancel, and when the reminder will come."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.outbox_payloads import BookingReminder
from ui.callbacks import BookingAction
from ui.messages.base import RenderContext, Rendered, Renderers, renderer

Translate = Callable[[str], str]
TranslateWith = Callable[..., str]  # a key and its placeholders, as `tr`


def day_label(moment: datetime, zone: ZoneInfo, t: Translate) -> str:
    """A day as in Thu 26.11, in the shop's zone."""
    local = moment.astimezone(zone)
    return f"{t(f'bk-weekday-{local.weekday()}')} {local:%d.%m}"


def when_label(moment: datetime, zone: ZoneInfo, t: Translate) -> str:
    """A moment as in Thu 26.11 10:30, in the shop's zone."""
    return f"{day_label(moment, zone, t)} {moment.astimezone(zone):%H:%M}"


def booking_actions(booking_id: int, t: Translate) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action, key in (
        ("confirm", "bk-button-confirm"),
        ("move", "bk-button-move"),
        ("cancel", "bk-button-cancel"),
    ):
        builder.button(
            text=t(key), callback_data=BookingAction(booking_id=booking_id, action=action)
        )
    builder.adjust(1, 2)
    return builder.as_markup()


def own_booking_actions(booking_id: int, t: Translate) -> InlineKeyboardMarkup:
    """Reschedule and Cancel under a customer's own booking (in /me and /book)."""
    builder = InlineKeyboardBuilder()
    for action, key in (("move", "bk-button-move"), ("cancel", "bk-button-cancel")):
        builder.button(
            text=t(key), callback_data=BookingAction(booking_id=booking_id, action=action)
        )
    builder.adjust(2)
    return builder.as_markup()


def own_booking(
    booking_id: int, service: str, starts_at: datetime, zone: ZoneInfo, t: TranslateWith
) -> Rendered:
    # No cancellation cut-off exists yet: the service allows both until the booking starts.
    text = t("mybk-item", service=service, when=when_label(starts_at, zone, t))
    return Rendered(text=text, markup=own_booking_actions(booking_id, t))


def reminder_note(moment: datetime | None, zone: ZoneInfo, t: TranslateWith) -> str:
    """' We'll remind you …' after a confirmation, or nothing when no reminder will come."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return " " + t("mybk-remind", day=day_label(moment, zone, t), time=f"{local:%H:%M}")


def booking_reminder(payload: BookingReminder, context: RenderContext) -> Rendered:
    starts_at = payload.starts_at
    text = context.t(
        "bk-reminder",
        service=payload.service,
        when=when_label(starts_at, context.zone, context.t),
        time=f"{starts_at.astimezone(context.zone):%H:%M}",
    )
    return Rendered(text=text, markup=booking_actions(payload.booking_id, context.t))


RENDERERS: Renderers = dict([renderer(BookingReminder, booking_reminder)])
