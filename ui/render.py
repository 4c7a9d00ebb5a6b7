"""Turning an outbox row (a kind and a JSON payload) into the Telegram message to send.

Each feature keeps its renderers in `ui/messages/<feature>.py` as a `RENDERERS` dict; this
module only merges them. Rendering happens at send time, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from ui.messages import analytics, basic, bookings, growth, inbox, owner_notices, retention
from ui.messages.base import RenderContext, Rendered, Renderer

RENDERERS: dict[str, Renderer] = {
    **basic.RENDERERS,
    **retention.RENDERERS,
    **growth.RENDERERS,
    **bookings.RENDERERS,
    **analytics.RENDERERS,
    **inbox.RENDERERS,
    **owner_notices.RENDERERS,
}


class UnknownKind(LookupError):
    pass


def render(kind: str, payload: dict[str, Any], context: RenderContext) -> Rendered:
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise UnknownKind(kind) from None
    return renderer(payload, context)
