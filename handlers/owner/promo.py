"""A promo to a segment: compose (text or photo) → segment → count and preview → send.

Delivery goes through the outbox; a progress message is edited until everything is out
(see scheduler/progress.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.filters import ANSWER
from handlers.once import ONCE
from services.campaigns import CampaignService, Segment, check_text, segment_of
from services.catalogue import CatalogueService
from services.errors import InputError
from ui.callbacks import PromoConfirm, PromoSegment
from ui.i18n import tr, trn

# Segments whose value the owner types (the others are chosen by a button).
TYPED_VALUE = {"idle": "promo-ask-days", "source": "promo-ask-source"}


class PromoForm(StatesGroup):
    content = State()
    segment = State()
    value = State()
    confirm = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_promo, Command("promo"))
    router.message.register(process_content, PromoForm.content, ANSWER | F.photo)
    router.callback_query.register(process_segment, PromoSegment.filter(), PromoForm.segment)
    router.message.register(process_value, PromoForm.value, ANSWER)
    router.callback_query.register(
        process_confirm, PromoConfirm.filter(), PromoForm.confirm, flags=ONCE
    )
    return router


def segment_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind, value in (
        ("all", ""),
        ("abc", "A"),
        ("abc", "B"),
        ("abc", "C"),
        ("at_risk", ""),
        ("idle", ""),
        ("birthday_month", ""),
        ("source", ""),
        ("service", ""),
    ):
        label = tr(f"promo-segment-{kind}", value=value)
        builder.button(text=label, callback_data=PromoSegment(kind=kind, value=value))
    builder.adjust(1, 3, 1, 1, 1, 1, 1)
    return builder.as_markup()


async def start_promo(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(PromoForm.content)
    await message.answer(tr("promo-ask-content"))


async def process_content(message: Message, state: FSMContext) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    text = check_text(message.caption if photo else message.text, has_photo=photo is not None)
    await state.update_data(text=text, photo=photo)
    await state.set_state(PromoForm.segment)
    await message.answer(tr("promo-ask-segment"), reply_markup=segment_keyboard())


async def process_segment(
    query: CallbackQuery,
    callback_data: PromoSegment,
    state: FSMContext,
    catalogue: CatalogueService,
    campaigns: CampaignService,
    bot: Bot,
    clock: Callable[[], datetime],
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    kind = callback_data.kind
    if kind in TYPED_VALUE:
        await state.update_data(kind=kind)
        await state.set_state(PromoForm.value)
        await query.message.answer(tr(TYPED_VALUE[kind]))
        return
    if kind == "service" and not callback_data.value:
        builder = InlineKeyboardBuilder()
        for item in await catalogue.active():
            builder.button(
                text=item.name[:60], callback_data=PromoSegment(kind="service", value=str(item.id))
            )
        builder.adjust(1)
        await query.message.answer(tr("promo-ask-service"), reply_markup=builder.as_markup())
        return
    segment = segment_of(kind, callback_data.value or None)
    await _preview(query.message, state, segment, campaigns, bot, clock())


async def process_value(
    message: Message,
    state: FSMContext,
    campaigns: CampaignService,
    bot: Bot,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None
    data = await state.get_data()
    segment = segment_of(data["kind"], message.text)
    await _preview(message, state, segment, campaigns, bot, clock())


async def _preview(
    message: Message,
    state: FSMContext,
    segment: Segment,
    campaigns: CampaignService,
    bot: Bot,
    now: datetime,
) -> None:
    recipients = await campaigns.audience(segment, now)
    if not recipients:
        raise InputError("error-segment-empty")
    await state.update_data(segment_kind=segment.kind, segment_value=segment.value)
    await state.set_state(PromoForm.confirm)
    data = await state.get_data()
    await message.answer(trn("promo-preview-header", len(recipients)))
    if data.get("photo"):
        await bot.send_photo(message.chat.id, data["photo"], caption=data.get("text") or None)
    else:
        await message.answer(data["text"])
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr("promo-button-send", count=len(recipients)), callback_data=PromoConfirm(send=True)
    )
    builder.button(text=tr("promo-button-cancel"), callback_data=PromoConfirm(send=False))
    builder.adjust(1)
    await message.answer(tr("promo-confirm"), reply_markup=builder.as_markup())


async def process_confirm(
    query: CallbackQuery,
    callback_data: PromoConfirm,
    state: FSMContext,
    campaigns: CampaignService,
    clock: Callable[[], datetime],
    i18n: I18n,
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    if not callback_data.send:
        await state.clear()
        await query.message.edit_text(tr("promo-cancelled"))
        return
    data = await state.get_data()
    segment = Segment(data["segment_kind"], data.get("segment_value"))
    progress = await campaigns.launch(
        text=data.get("text") or "",
        photo=data.get("photo"),
        segment=segment,
        now=clock(),
        progress_chat_id=query.message.chat.id,
        language=i18n.current_locale,
    )
    await state.clear()
    await query.message.edit_text(
        tr("promo-progress", done=0, sent=0, total=progress.total, blocked=0, failed=0)
    )
    await campaigns.attach_progress_message(progress.campaign_id, query.message.message_id)
