"""Kinds every feature may use: a ready text (tests, the owner's own words), a captioned photo."""

from __future__ import annotations

from typing import Any

from ui.messages.base import RenderContext, Rendered, Renderer


def plain_text(payload: dict[str, Any], context: RenderContext) -> Rendered:
    return Rendered(text=str(payload["text"]))


def photo(payload: dict[str, Any], context: RenderContext) -> Rendered:
    """{"photo": a file_id or URL, "text": the caption}: a promo picture from the owner."""
    return Rendered(text=str(payload.get("text", "")), photo=str(payload["photo"]))


RENDERERS: dict[str, Renderer] = {"text": plain_text, "photo": photo}
