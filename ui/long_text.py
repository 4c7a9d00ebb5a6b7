"""Texts longer than Telegram allows, sent as several messages split at line boundaries.

Telegram refuses a message over 4,096 characters (a caption over 1,024) with a 400, and the
person gets nothing. Owner lists grow with the shop (sources, bookings of a busy day, names
people typed), so every list goes out through `answer_long`, never through `message.answer`
with a text built without a bound.

Splitting, not paging with buttons: a paged list needs state (which page, which query) that
goes stale when the data changes, and the owner cannot search or forward one page's worth;
several messages read like one long list and keep working after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from ui.i18n import tr

TEXT_LIMIT = 4096

# Telegram answers "reply markup is too long" above about a hundred inline buttons; the
# limit is not in the Bot API documentation, so stay below it with room to spare.
BUTTONS_PER_MESSAGE = 90

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut_line(line: str, limit: int) -> list[str]:
    """A single line longer than a message, cut at spaces where possible."""
    pieces: list[str] = []
    rest = line
    while telegram_length(rest) > limit:
        end = _fitting_prefix(rest, limit)
        space = rest.rfind(" ", 0, end)
        cut = space if space > 0 else end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as parts of at most `limit`, each ending at a line boundary where possible."""
    if telegram_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            added = telegram_length(piece) + (1 if current else 0)
            if current and size + added > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                added = telegram_length(piece)
            current.append(piece)
            size += added
    if current:
        parts.append("\n".join(current))
    # A part of blank lines only would be refused as an empty message.
    return [part for part in parts if part.strip()] or [text[:limit]]


def split_keyboard(
    markup: InlineKeyboardMarkup, limit: int = BUTTONS_PER_MESSAGE
) -> list[InlineKeyboardMarkup]:
    """The keyboard's rows in groups of at most `limit` buttons, rows kept whole."""
    groups: list[list[list[InlineKeyboardButton]]] = [[]]
    count = 0
    for row in markup.inline_keyboard:
        if groups[-1] and count + len(row) > limit:
            groups.append([])
            count = 0
        groups[-1].append(row)
        count += len(row)
    return [InlineKeyboardMarkup(inline_keyboard=rows) for rows in groups]


def plan(text: str, reply_markup: Markup | None = None) -> list[tuple[str, Markup | None]]:
    """The messages that carry `text` and `reply_markup`, in sending order.

    The keyboard goes with the last part of the text; a keyboard too big for one message
    continues in messages of its own under a short "continued" line.
    """
    texts = split_text(text)
    if not isinstance(reply_markup, InlineKeyboardMarkup):
        return [(part, None) for part in texts[:-1]] + [(texts[-1], reply_markup)]
    keyboards = split_keyboard(reply_markup)
    messages: list[tuple[str, Markup | None]] = [(part, None) for part in texts[:-1]]
    messages.append((texts[-1], keyboards[0]))
    messages += [(tr("long-list-continued"), keyboard) for keyboard in keyboards[1:]]
    return messages


async def answer_long(
    message: Message, text: str, reply_markup: Markup | None = None
) -> Sequence[Message]:
    """Answer in the message's chat with as many messages as `text` needs."""
    return [
        await message.answer(part, reply_markup=markup) for part, markup in plan(text, reply_markup)
    ]
