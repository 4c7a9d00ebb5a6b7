"""Kinds every feature may use: a ready text (tests, the owner's own words), a captioned photo."""

from __future__ import annotations

from services.outbox_payloads import Photo, Text
from ui.messages.base import RenderContext, Rendered, Renderers, renderer


def plain_text(payload: Text, context: RenderContext) -> Rendered:
    return Rendered(text=payload.text)


def photo(payload: Photo, context: RenderContext) -> Rendered:
    """A promo picture from the owner: a file_id or URL, and its caption."""
    return Rendered(text=payload.text, photo=payload.photo)


RENDERERS: Renderers = dict([renderer(Text, plain_text), renderer(Photo, photo)])
