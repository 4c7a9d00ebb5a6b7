"""Turning an outbox row (a kind and a JSON payload) into the Telegram message to send.

The row's JSON becomes its payload object (services/outbox_payloads.py); each feature keeps its
renderers in `ui/messages/<feature>.py` as a `RENDERERS` dict keyed by payload class, and this
module only merges them. Rendering happens at send time, in the reader's language.
"""

from __future__ import annotations

from services.outbox_payloads import Payload, UnknownKind, from_json
from ui.messages import (
    analytics,
    basic,
    bookings,
    growth,
    inbox,
    owner_notices,
    retention,
    webapp,
)
from ui.messages.base import RenderContext, Rendered, Renderers

RENDERERS: Renderers = {
    **basic.RENDERERS,
    **retention.RENDERERS,
    **growth.RENDERERS,
    **bookings.RENDERERS,
    **analytics.RENDERERS,
    **inbox.RENDERERS,
    **owner_notices.RENDERERS,
    **webapp.RENDERERS,  # issue 12
}


def render(payload: Payload, context: RenderContext) -> Rendered:
    try:
        renderer = RENDERERS[type(payload)]
    except KeyError:
        raise UnknownKind(payload.kind) from None
    return renderer(payload, context)


def render_row(kind: str, payload: str, context: RenderContext) -> Rendered:
    """An outbox row as stored; PayloadError when its JSON does not fit its kind."""
    return render(from_json(kind, payload), context)
