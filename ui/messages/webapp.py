"""Renderers of the Mini App's messages (issue 12): the shop moved or cancelled a booking."""

from __future__ import annotations

from services.outbox_payloads import BookingChanged
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.messages.bookings import own_booking_actions, when_label


def booking_changed(payload: BookingChanged, context: RenderContext) -> Rendered:
    t, zone = context.t, context.zone
    when = when_label(payload.starts_at, zone, t)
    if payload.action == "moved":
        was = when_label(payload.was, zone, t) if payload.was else "—"
        text = t("wa-booking-moved", service=payload.service, when=when, was=was)
        # Reschedule and Cancel as under their own booking: the new time may not suit them.
        return Rendered(text=text, markup=own_booking_actions(payload.booking_id, t))
    return Rendered(text=t("wa-booking-cancelled", service=payload.service, when=when))


RENDERERS: Renderers = dict([renderer(BookingChanged, booking_changed)])
