"""Renderers of the retention messages: rebooking, birthday, thank-you, rating question."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.money import format_money
from services.outbox_payloads import Birthday, Feedback, Rebook, RebookFollowup, Thanks
from services.slot_time import slot_minutes
from ui.callbacks import BookOther, BookSlot, RateVisit, RebookDecline
from ui.messages.base import RenderContext, Rendered, Renderers, renderer


def slot_label(moment: datetime, context: RenderContext) -> str:
    local = moment.astimezone(context.zone)
    weekday = context.t(f"rb-weekday-{local.weekday()}")
    return f"{weekday} {local:%d.%m %H:%M}"


def _rebook_keyboard(payload: Rebook, context: RenderContext) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for moment in payload.slots:
        builder.button(
            text=slot_label(moment, context),
            callback_data=BookSlot(
                service_id=payload.service_id, at=slot_minutes(moment), ref=context.outbox_id
            ),
        )
    builder.button(
        text=context.t("rb-button-other-time"),
        callback_data=BookOther(service_id=payload.service_id, ref=context.outbox_id),
    )
    builder.button(
        text=context.t("rb-button-not-now"), callback_data=RebookDecline(ref=context.outbox_id)
    )
    builder.adjust(*([2] * (len(payload.slots) // 2 + 1)), 1, 1)
    return builder.as_markup()


def rebook(payload: Rebook, context: RenderContext) -> Rendered:
    key = "rb-rebook-slots" if payload.slots else "rb-rebook-no-slots"
    text = context.t(key, name=payload.name, service=payload.service)
    return Rendered(text=text, markup=_rebook_keyboard(payload, context))


def rebook_followup(payload: RebookFollowup, context: RenderContext) -> Rendered:
    key = "rb-followup-slots" if payload.slots else "rb-followup-no-slots"
    text = context.t(key, name=payload.name, service=payload.service)
    return Rendered(text=text, markup=_rebook_keyboard(payload, context))


def birthday(payload: Birthday, context: RenderContext) -> Rendered:
    return Rendered(
        text=context.t(
            "rb-birthday",
            name=payload.name,
            code=payload.code,
            percent=payload.percent,
            valid_until=payload.valid_until.strftime("%d.%m.%Y"),
        )
    )


def thanks(payload: Thanks, context: RenderContext) -> Rendered:
    text = context.t(
        "rb-thanks",
        name=payload.name,
        amount=format_money(payload.amount, context.currency),
        visits=payload.visits,
        total=format_money(payload.total, context.currency),
    )
    if payload.points:
        text += "\n" + context.t("rb-thanks-points", points=payload.points)
    if payload.suggestion:
        text += "\n\n" + context.t("rb-thanks-suggestion", service=payload.suggestion)
    return Rendered(text=text)


def feedback(payload: Feedback, context: RenderContext) -> Rendered:
    builder = InlineKeyboardBuilder()
    for stars in range(1, 6):
        builder.button(
            text="⭐" * stars,
            callback_data=RateVisit(purchase_id=payload.purchase_id, stars=stars),
        )
    builder.adjust(1)
    key = "rb-feedback-service" if payload.service else "rb-feedback"
    return Rendered(text=context.t(key, service=payload.service or ""), markup=builder.as_markup())


RENDERERS: Renderers = dict(
    [
        renderer(Rebook, rebook),
        renderer(RebookFollowup, rebook_followup),
        renderer(Birthday, birthday),
        renderer(Thanks, thanks),
        renderer(Feedback, feedback),
    ]
)
