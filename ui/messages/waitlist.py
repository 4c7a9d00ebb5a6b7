"""The waitlist's offer of freed time (issue 13), in the customer's language."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.outbox_payloads import WaitlistOffer
from services.slot_time import slot_minutes
from ui.callbacks import WaitLeave, WaitTake
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.messages.bookings import when_label


def waitlist_offer(payload: WaitlistOffer, context: RenderContext) -> Rendered:
    when = when_label(payload.at, context.zone, context.t)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=context.t("wl-button-take", when=when),
        callback_data=WaitTake(
            entry_id=payload.entry_id, at=slot_minutes(payload.at), ref=context.outbox_id
        ),
    )
    builder.button(
        text=context.t("wl-button-leave"), callback_data=WaitLeave(entry_id=payload.entry_id)
    )
    builder.adjust(1)
    text = context.t("wl-offer", service=payload.service, when=when)
    return Rendered(text=text, markup=builder.as_markup())


RENDERERS: Renderers = dict([renderer(WaitlistOffer, waitlist_offer)])
