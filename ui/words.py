"""Internal names (sources, model parameters) shown as words in the reader's language."""

from __future__ import annotations

from collections.abc import Callable

# Sources the bot itself writes into `customers.source`; any other source is a link or spend
# name the owner typed, shown as typed.
BUILT_IN_SOURCES = ("direct", "offline", "referral", "channel", "other", "business")  # issue 11


def source_name(t: Callable[..., str], source: str) -> str:
    """«Канал без ссылки» for "channel"; an owner's link name («insta_ads») stays as it is."""
    return t(f"words-source-{source}") if source in BUILT_IN_SOURCES else source
