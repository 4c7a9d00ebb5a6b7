"""Kinds every feature may use: a ready text (tests, the owner's own words)."""

from __future__ import annotations

from typing import Any

from bot.messages.base import RenderContext, Rendered, Renderer


def plain_text(payload: dict[str, Any], context: RenderContext) -> Rendered:
    return Rendered(text=str(payload["text"]))


RENDERERS: dict[str, Renderer] = {"text": plain_text}
