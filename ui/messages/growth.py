"""Renderers of growth messages: referral bonuses, promos, channel posts."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.outbox_payloads import ChannelPost, Promo, ReferralBonus, ReferralFriend
from ui.i18n import trn_in
from ui.messages.base import RenderContext, Rendered, Renderers, renderer


def referral_bonus(payload: ReferralBonus, context: RenderContext) -> Rendered:
    return Rendered(
        text=trn_in(
            context.i18n,
            context.language,
            "rf-bonus",
            payload.points,
            friend=payload.friend or "—",
            balance=payload.balance,
        )
    )


def referral_friend(payload: ReferralFriend, context: RenderContext) -> Rendered:
    return Rendered(
        text=trn_in(
            context.i18n,
            context.language,
            "rf-friend",
            payload.points,
            referrer=payload.referrer or "—",
        )
    )


def promo(payload: Promo, context: RenderContext) -> Rendered:
    return Rendered(text=payload.text, photo=payload.photo)


def channel_post(payload: ChannelPost, context: RenderContext) -> Rendered:
    markup = None
    if payload.button_url:
        builder = InlineKeyboardBuilder()
        builder.button(text=context.t("ch-button-start"), url=payload.button_url)
        markup = builder.as_markup()
    return Rendered(text=payload.text, photo=payload.photo, markup=markup)


RENDERERS: Renderers = dict(
    [
        renderer(Promo, promo),
        renderer(ChannelPost, channel_post),
        renderer(ReferralBonus, referral_bonus),
        renderer(ReferralFriend, referral_friend),
    ]
)
