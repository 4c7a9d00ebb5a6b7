"""Renderers of the inbox: a customer's message copied to the owner, and the owner's answer."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from ui.callbacks import InboxAnswer
from ui.i18n import pick_language
from ui.messages.base import RenderContext, Rendered, Renderer

_TEXT_LIMIT = 3000  # of the customer's words; the header and the quote fit in the rest of 4096
_QUOTE_LIMIT = 300


def answer_button(customer_id: int, context: RenderContext) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=context.t("inbox-button-answer"), callback_data=InboxAnswer(customer_id=customer_id)
    )
    return builder.as_markup()


def content_label(content: str, context: RenderContext) -> str:
    known = {"photo", "voice", "video", "video_note", "document", "sticker", "audio"}
    return context.t(f"inbox-content-{content}" if content in known else "inbox-content-other")


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote_of(about: dict[str, Any], language: str | None, context: RenderContext) -> str:
    """The bot's message the customer answered, as they saw it (in their language)."""
    # Imported here: ui.render merges every renderer module, this one included.
    from ui.render import render

    their = dataclasses.replace(
        context,
        language=pick_language(language, context.language),
        outbox_id=int(about.get("outbox_id") or 0),
    )
    try:
        text = render(str(about["kind"]), dict(about.get("payload") or {}), their).text
    except Exception:  # a renderer that cannot cope with an old payload: the kind will do
        text = ""
    return _shorten(text, _QUOTE_LIMIT)


def _about_lines(payload: dict[str, Any], context: RenderContext) -> list[str]:
    about = payload.get("about")
    if isinstance(about, dict):
        quote = _quote_of(about, payload.get("language"), context)
        sent = about.get("sent_at")
        if sent:
            when = datetime.fromisoformat(str(sent)).astimezone(context.zone)
            lines = [context.t("inbox-owner-about", when=f"{when:%d.%m %H:%M}")]
        else:
            lines = [context.t("inbox-owner-about-undated")]
        return [*lines, f"«{quote}»"] if quote else lines
    if payload.get("quote"):
        return [
            context.t("inbox-owner-about-undated"),
            f"«{_shorten(str(payload['quote']), _QUOTE_LIMIT)}»",
        ]
    return [context.t("inbox-owner-about-nothing")]


def owner_copy(payload: dict[str, Any], context: RenderContext) -> Rendered:
    """To an owner: who wrote, what it answers, the words (or what kind of file follows)."""
    lines = [
        context.t("inbox-owner-title"),
        context.t("inbox-owner-customer", customer=payload.get("customer") or "—"),
        *_about_lines(payload, context),
        "",
    ]
    content = str(payload.get("content") or "text")
    words = _shorten(str(payload.get("text") or ""), _TEXT_LIMIT)
    if content == "text":
        lines.append(words)
    else:
        lines.append(context.t("inbox-owner-media", what=content_label(content, context)))
        if words:
            lines.append(words)
    lines += ["", context.t("inbox-owner-how")]
    return Rendered(
        text="\n".join(lines), markup=answer_button(int(payload["customer_id"]), context)
    )


def owner_media(payload: dict[str, Any], context: RenderContext) -> Rendered:
    """To an owner: the customer's photo or voice message itself."""
    return Rendered(
        text="",
        copy_from=(int(payload["from_chat_id"]), int(payload["message_id"])),
        markup=answer_button(int(payload["customer_id"]), context),
    )


def answer(payload: dict[str, Any], context: RenderContext) -> Rendered:
    """To the customer: the owner's words, or the owner's photo copied."""
    if payload.get("from_chat_id"):
        return Rendered(
            text="", copy_from=(int(payload["from_chat_id"]), int(payload["message_id"]))
        )
    return Rendered(text=context.t("inbox-answer", text=str(payload.get("text") or "")))


RENDERERS: dict[str, Renderer] = {
    "inbox_owner": owner_copy,
    "inbox_media": owner_media,
    "inbox_answer": answer,
}
