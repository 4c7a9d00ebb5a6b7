"""What a renderer receives and returns (see ui/render.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from services.outbox_payloads import Payload
from ui.i18n import tr_in


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | None = None  # a file_id or URL; then `text` is the caption
    # (chat id, message id) of a message to copy as it is; then `text` is not sent
    copy_from: tuple[int, int] | None = None
    # issue 11: sent on the owner's behalf in the owner's own chat with the client
    business_connection_id: str | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    i18n: I18n
    language: str
    outbox_id: int
    currency: str
    zone: ZoneInfo

    def t(self, key: str, /, **params: Any) -> str:
        return tr_in(self.i18n, self.language, key, **params)


P = TypeVar("P", bound=Payload)
# As the registry holds them; `renderer()` checks that each takes its own payload class.
Renderer = Callable[[Any, RenderContext], Rendered]
Renderers = dict[type[Payload], Renderer]


def renderer(
    payload: type[P], render: Callable[[P, RenderContext], Rendered]
) -> tuple[type[Payload], Renderer]:
    """One registry entry: the payload class and the function that renders it."""
    return payload, render
