"""Renderers of the notices to owners (services/owner_notices.py), in each owner's language."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.money import format_money
from services.outbox_payloads import OwnerBooking, OwnerLowRating, OwnerNewCustomer
from ui.callbacks import BirthdayGrant
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.messages.bookings import when_label
from ui.words import source_name

_BOOKING_TEXTS = {
    "booked": "bk-owner-booked",
    "moved": "bk-owner-moved",
    "confirmed": "bk-owner-confirmed",
    "cancelled": "bk-owner-cancelled",
}


def new_customer(payload: OwnerNewCustomer, context: RenderContext) -> Rendered:
    """Who registered; when the birthday came too late for the rule, a button to give the gift."""
    text = context.t(
        "owner-new-customer",
        customer=payload.customer,
        # In words, as /sources shows it: «referral» was English in a Russian notice; no source
        # is "direct", as the /sources count takes it (storage/growth.py).
        source=source_name(context.t, payload.source or "direct"),
        consent=context.t("yes" if payload.consent else "no"),
    )
    if not payload.birthday_late:
        return Rendered(text=text)
    text += "\n" + context.t("kw-owner-birthday-late", birthday=payload.birthday)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=context.t("kw-button-grant-gift"),
        callback_data=BirthdayGrant(customer_id=payload.customer_id),
    )
    return Rendered(text=text, markup=builder.as_markup())


def booking(payload: OwnerBooking, context: RenderContext) -> Rendered:
    """A booking made, moved, confirmed or cancelled; times in the shop's zone."""
    extra: dict[str, str] = {}
    if payload.was:
        extra["was"] = when_label(payload.was, context.zone, context.t)
    text = context.t(
        _BOOKING_TEXTS[payload.action],
        customer=payload.customer,
        service=payload.service,
        when=when_label(payload.starts_at, context.zone, context.t),
        **extra,
    )
    if payload.refund:  # issue 13: the bot cannot refund; the provider's cabinet can
        text += "\n" + context.t(
            "dp-owner-refund", amount=format_money(payload.refund, context.currency)
        )
    return Rendered(text=text)


def low_rating(payload: OwnerLowRating, context: RenderContext) -> Rendered:
    """A low rating: at once (their words are asked for), and again with their words."""
    comment = payload.comment
    return Rendered(
        text=context.t(
            "rb-owner-low-rating",
            stars=payload.stars,
            customer=payload.customer,
            comment=comment if comment is not None else context.t("rb-owner-low-rating-waiting"),
        )
    )


RENDERERS: Renderers = dict(
    [
        renderer(OwnerNewCustomer, new_customer),
        renderer(OwnerBooking, booking),
        renderer(OwnerLowRating, low_rating),
    ]
)
