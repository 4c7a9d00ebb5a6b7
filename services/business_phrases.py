"""Which client messages ask the owner for a time ("есть окошко?", "when are you free?").

A phrase matches anywhere in the message, ignoring case and ё/е; the owner edits the list in
/settings (comma-separated). The defaults are word stems, so «записаться», «запишите»,
«запись» all match «запис».
"""

from __future__ import annotations

import re

from services.errors import InputError

DEFAULT_PHRASES = (
    "окошк, окошеч, окно, свободн, запис, запиш, есть время, когда можно, на завтра, на сегодня, "
    "when are you free, free slot, free time, available, appointment, book, can i come"
)
MAX_STORED = 255  # the settings table keeps a value in 255 characters


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").split())


def split_phrases(text: str) -> tuple[str, ...]:
    return tuple(p for p in (_fold(part) for part in text.split(",")) if p)


def parse_phrases(text: str) -> str:
    """The owner's list as stored ("a, b, c"); InputError when it is empty or too long."""
    phrases = split_phrases(text)
    stored = ", ".join(dict.fromkeys(phrases))
    if not phrases or any(len(p) < 2 for p in phrases) or len(stored) > MAX_STORED:
        raise InputError("biz-error-phrases", most=MAX_STORED)
    return stored


def asks_for_time(text: str | None, phrases: str) -> bool:
    """Whether a client's message asks for a time, by the owner's phrases."""
    if not text:
        return False
    folded = _fold(text)
    for phrase in split_phrases(phrases):
        # A short stem must start a word: «book» in «facebook» is no request.
        if re.search(r"(?<!\w)" + re.escape(phrase), folded):
            return True
    return False
