"""Posts for the shop's channel: compose, optional button to the bot, now or at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.filters import ANSWER
from handlers.once import ONCE
from services.campaigns import check_text
from services.channel_posts import ChannelPostService, PostInfo, parse_publish_time
from services.errors import InputError
from ui.callbacks import PostButton, PostCancel, PostNow
from ui.i18n import tr
from ui.long_text import answer_long


class PostForm(StatesGroup):
    content = State()
    button = State()
    when = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_post, Command("post"))
    router.message.register(list_posts, Command("posts"))
    router.message.register(process_content, PostForm.content, ANSWER | F.photo)
    router.callback_query.register(process_button, PostButton.filter(), PostForm.button)
    router.callback_query.register(publish_now, PostNow.filter(), PostForm.when, flags=ONCE)
    router.message.register(process_when, PostForm.when, ANSWER)
    router.callback_query.register(cancel_post, PostCancel.filter(), flags=ONCE)
    return router


async def start_post(message: Message, state: FSMContext, settings: Settings) -> None:
    if settings.channel_id is None:
        raise InputError("error-no-channel")
    await state.clear()
    await state.set_state(PostForm.content)
    await message.answer(tr("post-ask-content"))


async def process_content(message: Message, state: FSMContext) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    text = check_text(message.caption if photo else message.text, has_photo=photo is not None)
    await state.update_data(text=text, photo=photo)
    await state.set_state(PostForm.button)
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("post-button-yes"), callback_data=PostButton(with_button=True))
    builder.button(text=tr("post-button-no"), callback_data=PostButton(with_button=False))
    await message.answer(tr("post-ask-button"), reply_markup=builder.as_markup())


async def process_button(
    query: CallbackQuery, callback_data: PostButton, state: FSMContext, bot: Bot
) -> None:
    await query.answer()
    url = None
    if callback_data.with_button:
        me = await bot.me()
        url = f"https://t.me/{me.username}?start=channel"
    await state.update_data(button_url=url)
    await state.set_state(PostForm.when)
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("post-now"), callback_data=PostNow())
    assert isinstance(query.message, Message)
    await query.message.answer(tr("post-ask-when"), reply_markup=builder.as_markup())


async def publish_now(
    query: CallbackQuery,
    state: FSMContext,
    posts: ChannelPostService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    await _schedule(query.message, state, posts, settings, clock(), None)


async def process_when(
    message: Message,
    state: FSMContext,
    posts: ChannelPostService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None
    now = clock()
    when = parse_publish_time(message.text, zone=settings.zone, now=now)
    await _schedule(message, state, posts, settings, now, when)


async def _schedule(
    message: Message,
    state: FSMContext,
    posts: ChannelPostService,
    settings: Settings,
    now: datetime,
    when: datetime | None,
) -> None:
    data = await state.get_data()
    post = await posts.schedule(
        text=data.get("text"),
        photo=data.get("photo"),
        button_url=data.get("button_url"),
        publish_at=when,
        now=now,
    )
    await state.clear()
    key = "post-queued-now" if when is None else "post-scheduled"
    await message.answer(tr(key, id=post.id, when=_local(post, settings)))


def _local(post: PostInfo, settings: Settings) -> str:
    return post.publish_at.astimezone(settings.zone).strftime("%d.%m.%Y %H:%M")


async def list_posts(message: Message, posts: ChannelPostService, settings: Settings) -> None:
    upcoming = await posts.upcoming()
    if not upcoming:
        await message.answer(tr("posts-empty"))
        return
    builder = InlineKeyboardBuilder()
    lines = [tr("posts-header")]
    buttons = []
    for post in upcoming:
        preview = (post.text or "📷")[:40]
        lines.append(tr("posts-line", id=post.id, when=_local(post, settings), preview=preview))
        buttons.append(
            InlineKeyboardButton(
                text=tr("posts-cancel", id=post.id),
                callback_data=PostCancel(post_id=post.id).pack(),
            )
        )
    # One `add` for all: each `button()` call copies the whole keyboard (slow for hundreds).
    builder.add(*buttons)
    builder.adjust(2)
    await answer_long(message, "\n".join(lines), reply_markup=builder.as_markup())


async def cancel_post(
    query: CallbackQuery, callback_data: PostCancel, posts: ChannelPostService
) -> None:
    post = await posts.cancel(callback_data.post_id)
    await query.answer(tr("post-cancelled", id=post.id), show_alert=True)
