"""Keyboards, built by small functions so handlers only say which one they need."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from services.dto import CustomerCard, SaleLine, ServiceItem
from services.money import format_money
from ui.callbacks import (
    ConsentChoice,
    SaleApplyCode,
    SaleDelete,
    SaleDeleteConfirm,
    SalePickAmount,
    SalePickCustomer,
    SalePickDay,
    SalePickService,
    SalePoints,
    ServiceArchive,
    ServiceEdit,
    ServiceNew,
    ServiceOpen,
)
from ui.i18n import tr, trn

BUTTON_TEXT = 60  # long labels get cut by Telegram clients anyway


def _cut(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT else text[: BUTTON_TEXT - 1] + "…"


def share_phone() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.row(KeyboardButton(text=tr("button-share-phone"), request_contact=True))
    builder.row(KeyboardButton(text=tr("button-skip")))
    return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)


def skip_only() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.button(text=tr("button-skip"))
    return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)


def consent() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("button-consent-yes"), callback_data=ConsentChoice(agree=True))
    builder.button(text=tr("button-consent-no"), callback_data=ConsentChoice(agree=False))
    builder.adjust(1)
    return builder.as_markup()


def pick_customer(cards: Sequence[CustomerCard]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for card in cards:
        builder.button(text=_cut(card.label), callback_data=SalePickCustomer(customer_id=card.id))
    builder.adjust(1)
    return builder.as_markup()


def pick_service(services: Sequence[ServiceItem], currency: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in services:
        label = f"{item.name} · {format_money(item.price, currency)}"
        builder.button(text=_cut(label), callback_data=SalePickService(service_id=item.id))
    builder.button(text=tr("button-no-service"), callback_data=SalePickService(service_id=0))
    builder.adjust(1)
    return builder.as_markup()


def suggest_amount(amount: int, currency: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=format_money(amount, currency), callback_data=SalePickAmount(amount=amount))
    return builder.as_markup()


def apply_code(code: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("button-apply-code", code=code), callback_data=SaleApplyCode(code=code))
    builder.button(text=tr("button-no-code"), callback_data=SaleApplyCode(code=""))
    return builder.as_markup()


def use_points(points: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=trn("button-use-points", points), callback_data=SalePoints(points=points))
    builder.button(text=tr("button-no-points"), callback_data=SalePoints(points=0))
    return builder.as_markup()


def pick_day() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("button-today"), callback_data=SalePickDay(days_ago=0))
    builder.button(text=tr("button-yesterday"), callback_data=SalePickDay(days_ago=1))
    return builder.as_markup()


def recent_sales(lines: Sequence[SaleLine]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for line in lines:
        builder.button(
            text=tr("button-delete-sale", id=line.purchase_id),
            callback_data=SaleDelete(purchase_id=line.purchase_id),
        )
    builder.adjust(3)
    return builder.as_markup()


def confirm_delete(purchase_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr("button-delete-yes"),
        callback_data=SaleDeleteConfirm(purchase_id=purchase_id, confirmed=True),
    )
    builder.button(
        text=tr("button-delete-no"),
        callback_data=SaleDeleteConfirm(purchase_id=purchase_id, confirmed=False),
    )
    return builder.as_markup()


def catalogue(services: Sequence[ServiceItem]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=_cut(item.name), callback_data=ServiceOpen(service_id=item.id).pack()
        )
        for item in services
    ]
    buttons.append(
        InlineKeyboardButton(text=tr("button-service-add"), callback_data=ServiceNew().pack())
    )
    builder = InlineKeyboardBuilder()
    # One `add` for all: each `button()` call copies the whole keyboard (slow for hundreds).
    builder.add(*buttons)
    builder.adjust(1)
    return builder.as_markup()


def service_card(item: ServiceItem) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for field, key in (
        ("price", "button-edit-price"),
        ("cycle_days", "button-edit-cycle"),
        ("duration_minutes", "button-edit-duration"),
    ):
        builder.button(text=tr(key), callback_data=ServiceEdit(service_id=item.id, field=field))
    builder.button(
        text=tr("button-unarchive" if item.archived else "button-archive"),
        callback_data=ServiceArchive(service_id=item.id, archived=not item.archived),
    )
    builder.adjust(3, 1)
    return builder.as_markup()
