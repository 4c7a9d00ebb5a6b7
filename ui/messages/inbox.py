"""Renderers of the inbox: a customer's message copied to the owner, and the owner's answer."""

from __future__ import annotations

import dataclasses

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.outbox_payloads import About, InboxAnswer, InboxMedia, InboxOwnerCopy, decode
from ui.callbacks import InboxAnswer as AnswerButton
from ui.i18n import pick_language
from ui.messages.base import RenderContext, Rendered, Renderers, renderer

_TEXT_LIMIT = 3000  # of the customer's words; the header and the quote fit in the rest of 4096
_QUOTE_LIMIT = 300


def answer_button(customer_id: int, context: RenderContext) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=context.t("inbox-button-answer"), callback_data=AnswerButton(customer_id=customer_id)
    )
    return builder.as_markup()


def content_label(content: str, context: RenderContext) -> str:
    known = {"photo", "voice", "video", "video_note", "document", "sticker", "audio"}
    return context.t(f"inbox-content-{content}" if content in known else "inbox-content-other")


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote_of(about: About, language: str | None, context: RenderContext) -> str:
    """The bot's message the customer answered, as they saw it (in their language)."""
    # Imported here: ui.render merges every renderer module, this one included.
    from ui.render import render

    their = dataclasses.replace(
        context, language=pick_language(language, context.language), outbox_id=about.outbox_id
    )
    try:
        text = render(decode(about.kind, about.payload), their).text
    except Exception:  # a renderer that cannot cope with an old payload: the kind will do
        text = ""
    return _shorten(text, _QUOTE_LIMIT)


def _about_lines(payload: InboxOwnerCopy, context: RenderContext) -> list[str]:
    about = payload.about
    if about is not None:
        quote = _quote_of(about, payload.language, context)
        if about.sent_at:
            when = about.sent_at.astimezone(context.zone)
            lines = [context.t("inbox-owner-about", when=f"{when:%d.%m %H:%M}")]
        else:
            lines = [context.t("inbox-owner-about-undated")]
        return [*lines, f"«{quote}»"] if quote else lines
    if payload.quote:
        return [
            context.t("inbox-owner-about-undated"),
            f"«{_shorten(payload.quote, _QUOTE_LIMIT)}»",
        ]
    return [context.t("inbox-owner-about-nothing")]


def owner_copy(payload: InboxOwnerCopy, context: RenderContext) -> Rendered:
    """To an owner: who wrote, what it answers, the words (or what kind of file follows)."""
    lines = [
        context.t("inbox-owner-title"),
        context.t("inbox-owner-customer", customer=payload.customer or "—"),
        *_about_lines(payload, context),
        "",
    ]
    content = payload.content or "text"
    words = _shorten(payload.text or "", _TEXT_LIMIT)
    if content == "text":
        lines.append(words)
    else:
        lines.append(context.t("inbox-owner-media", what=content_label(content, context)))
        if words:
            lines.append(words)
    lines += ["", context.t("inbox-owner-how")]
    return Rendered(text="\n".join(lines), markup=answer_button(payload.customer_id, context))


def owner_media(payload: InboxMedia, context: RenderContext) -> Rendered:
    """To an owner: the customer's photo or voice message itself."""
    return Rendered(
        text="",
        copy_from=(payload.from_chat_id, payload.message_id),
        markup=answer_button(payload.customer_id, context),
    )


def answer(payload: InboxAnswer, context: RenderContext) -> Rendered:
    """To the customer: the owner's words, or the owner's photo copied."""
    if payload.from_chat_id and payload.message_id is not None:
        return Rendered(text="", copy_from=(payload.from_chat_id, payload.message_id))
    return Rendered(text=context.t("inbox-answer", text=payload.text or ""))


RENDERERS: Renderers = dict(
    [
        renderer(InboxOwnerCopy, owner_copy),
        renderer(InboxMedia, owner_media),
        renderer(InboxAnswer, answer),
    ]
)
