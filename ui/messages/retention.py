"""Renderers of the retention messages: rebooking, birthday, thank-you, rating question."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.money import format_money
from ui.callbacks import BookOther, BookSlot, RateVisit, RebookDecline
from ui.messages.base import RenderContext, Rendered, Renderer


def slot_label(minutes: int, context: RenderContext) -> str:
    local = datetime.fromtimestamp(minutes * 60, tz=UTC).astimezone(context.zone)
    weekday = context.t(f"rb-weekday-{local.weekday()}")
    return f"{weekday} {local:%d.%m %H:%M}"


def _rebook_keyboard(payload: dict[str, Any], context: RenderContext) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    service_id = int(payload["service_id"])
    for minutes in payload.get("slots", []):
        builder.button(
            text=slot_label(int(minutes), context),
            callback_data=BookSlot(service_id=service_id, at=int(minutes), ref=context.outbox_id),
        )
    builder.button(
        text=context.t("rb-button-other-time"),
        callback_data=BookOther(service_id=service_id, ref=context.outbox_id),
    )
    builder.button(
        text=context.t("rb-button-not-now"), callback_data=RebookDecline(ref=context.outbox_id)
    )
    builder.adjust(*([2] * (len(payload.get("slots", [])) // 2 + 1)), 1, 1)
    return builder.as_markup()


def rebook(payload: dict[str, Any], context: RenderContext) -> Rendered:
    key = "rb-rebook-slots" if payload.get("slots") else "rb-rebook-no-slots"
    text = context.t(key, name=payload.get("name") or "", service=payload["service"])
    return Rendered(text=text, markup=_rebook_keyboard(payload, context))


def rebook_followup(payload: dict[str, Any], context: RenderContext) -> Rendered:
    key = "rb-followup-slots" if payload.get("slots") else "rb-followup-no-slots"
    text = context.t(key, name=payload.get("name") or "", service=payload["service"])
    return Rendered(text=text, markup=_rebook_keyboard(payload, context))


def birthday(payload: dict[str, Any], context: RenderContext) -> Rendered:
    valid = datetime.fromisoformat(str(payload["valid_until"])).strftime("%d.%m.%Y")
    return Rendered(
        text=context.t(
            "rb-birthday",
            name=payload.get("name") or "",
            code=payload["code"],
            percent=payload["percent"],
            valid_until=valid,
        )
    )


def thanks(payload: dict[str, Any], context: RenderContext) -> Rendered:
    text = context.t(
        "rb-thanks",
        name=payload.get("name") or "",
        amount=format_money(int(payload["amount"]), context.currency),
        visits=payload["visits"],
        total=format_money(int(payload["total"]), context.currency),
    )
    if payload.get("points"):
        text += "\n" + context.t("rb-thanks-points", points=payload["points"])
    if payload.get("suggestion"):
        text += "\n\n" + context.t("rb-thanks-suggestion", service=payload["suggestion"])
    return Rendered(text=text)


def feedback(payload: dict[str, Any], context: RenderContext) -> Rendered:
    builder = InlineKeyboardBuilder()
    for stars in range(1, 6):
        builder.button(
            text="⭐" * stars,
            callback_data=RateVisit(purchase_id=int(payload["purchase_id"]), stars=stars),
        )
    builder.adjust(1)
    key = "rb-feedback-service" if payload.get("service") else "rb-feedback"
    return Rendered(
        text=context.t(key, service=payload.get("service") or ""), markup=builder.as_markup()
    )


RENDERERS: dict[str, Renderer] = {
    "rebook": rebook,
    "rebook_followup": rebook_followup,
    "birthday": birthday,
    "thanks": thanks,
    "feedback": feedback,
}
