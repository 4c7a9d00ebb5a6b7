"""Renderers of growth messages: referral bonuses, promos, channel posts."""

from __future__ import annotations

from typing import Any

from aiogram.utils.keyboard import InlineKeyboardBuilder

from ui.i18n import trn_in
from ui.messages.base import RenderContext, Rendered, Renderer


def referral_bonus(payload: dict[str, Any], context: RenderContext) -> Rendered:
    return Rendered(
        text=trn_in(
            context.i18n,
            context.language,
            "rf-bonus",
            int(payload["points"]),
            friend=payload.get("friend") or "—",
            balance=payload["balance"],
        )
    )


def referral_friend(payload: dict[str, Any], context: RenderContext) -> Rendered:
    return Rendered(
        text=trn_in(
            context.i18n,
            context.language,
            "rf-friend",
            int(payload["points"]),
            referrer=payload.get("referrer") or "—",
        )
    )


def promo(payload: dict[str, Any], context: RenderContext) -> Rendered:
    return Rendered(text=str(payload.get("text") or ""), photo=payload.get("photo"))


def channel_post(payload: dict[str, Any], context: RenderContext) -> Rendered:
    markup = None
    if payload.get("button_url"):
        builder = InlineKeyboardBuilder()
        builder.button(text=context.t("ch-button-start"), url=str(payload["button_url"]))
        markup = builder.as_markup()
    return Rendered(text=str(payload.get("text") or ""), photo=payload.get("photo"), markup=markup)


RENDERERS: dict[str, Renderer] = {
    "promo": promo,
    "channel_post": channel_post,
    "referral_bonus": referral_bonus,
    "referral_friend": referral_friend,
}
