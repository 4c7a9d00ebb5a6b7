"""The owner's knobs in chat: `/settings` (buttons) or `/settings <name> <value>`."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.filters import ANSWER
from services.errors import InputError
from services.money import format_money
from services.shop import EDITABLE, ShopProfile, ShopService
from ui.callbacks import SettingEdit
from ui.i18n import tr

HINTS = {
    "currency": "RUB, USD, EUR …",
    "acquisition_cost": "500",
    "window": "10:00-20:00",
    "margin_percent": "1–100",
    "lead_days": "1–14",
    "followup_days": "1–30",
    "birthday_days_before": "0–30",
    "birthday_discount": "1–90",
    "birthday_valid_days": "1–60",
    "feedback_hours": "1–72",
    "cashback_percent": "0–50",
    "referral_bonus": "0–100000",
    # issue 11
    "sale_marker": "+",
    "business_delay_minutes": "1–240",
}
# issue 11: hints with words in them, in the owner's language
WORDED_HINTS = ("business_slots", "business_phrases")
ORDER = (
    "currency",
    "margin_percent",
    "acquisition_cost",
    "lead_days",
    "window",
    "followup_days",
    "birthday_days_before",
    "birthday_discount",
    "birthday_valid_days",
    "feedback_hours",
    "cashback_percent",
    "referral_bonus",
    # issue 11
    "sale_marker",
    "business_slots",
    "business_delay_minutes",
    "business_phrases",
    # issue 13
    "late_cancel_hours",
    "unconfirmed_hour",
    "deposit_after_no_shows",
    "deposit_hold_minutes",
)


class SettingsForm(StatesGroup):
    value = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(settings_command, Command("settings"))
    router.callback_query.register(start_edit, SettingEdit.filter())
    router.message.register(process_value, SettingsForm.value, ANSWER)
    return router


def shown(profile: ShopProfile, key: str) -> str:
    if key == "window":
        return f"{profile.window_start:%H:%M}-{profile.window_end:%H:%M}"
    if key == "acquisition_cost":
        return format_money(profile.acquisition_cost, profile.currency)
    if key == "business_slots":  # issue 11
        return tr("biz-on" if profile.business_slots else "biz-off")
    return str(getattr(profile, key))


def overview(profile: ShopProfile) -> tuple[str, InlineKeyboardMarkup]:
    lines = [tr("settings-header")]
    builder = InlineKeyboardBuilder()
    for key in ORDER:
        label = tr(f"knob-{key}")
        lines.append(tr("settings-line", label=label, value=shown(profile, key)))
        builder.button(text=label, callback_data=SettingEdit(key=key))
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


async def settings_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    shop: ShopService,
    shop_profile: ShopProfile,
) -> None:
    if not command.args:
        text, markup = overview(shop_profile)
        await message.answer(text, reply_markup=markup)
        return
    key, _, value = command.args.strip().partition(" ")
    if not value.strip():
        raise InputError("error-settings-usage")
    # The new values come back from the write: the update's profile was read before it.
    profile = await shop.set(key.lower(), value)
    await state.clear()
    await message.answer(
        tr("settings-saved", label=tr(f"knob-{key.lower()}"), value=shown(profile, key.lower()))
    )


async def start_edit(
    query: CallbackQuery, callback_data: SettingEdit, state: FSMContext, shop_profile: ShopProfile
) -> None:
    if callback_data.key not in EDITABLE:
        raise InputError("error-knob-unknown", known=", ".join(EDITABLE))
    await state.set_state(SettingsForm.value)
    await state.update_data(key=callback_data.key)
    await query.answer()
    assert isinstance(query.message, Message)
    await query.message.answer(
        tr(
            "settings-ask",
            label=tr(f"knob-{callback_data.key}"),
            value=shown(shop_profile, callback_data.key),
            hint=tr(f"biz-hint-{callback_data.key}")
            if callback_data.key in WORDED_HINTS
            else HINTS[callback_data.key],
        )
    )


async def process_value(message: Message, state: FSMContext, shop: ShopService) -> None:
    assert message.text is not None
    key = (await state.get_data())["key"]
    profile = await shop.set(key, message.text)
    await state.clear()
    await message.answer(tr("settings-saved", label=tr(f"knob-{key}"), value=shown(profile, key)))
