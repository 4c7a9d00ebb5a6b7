"""The one encoding of a slot's start where space is short: whole minutes since the epoch, UTC.

Reminders keep the slots they offer this way (services/outbox_payloads.py) and booking buttons
carry it in their callback data (ui/callbacks.py), which Telegram caps at 64 bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Callback data can be forged: a number past this (the year 2160) names no slot.
MAX_SLOT_MINUTES = 10**8


def slot_minutes(moment: datetime) -> int:
    """A slot's start (an aware datetime) as minutes since the epoch."""
    return int(moment.timestamp()) // 60


def slot_start(minutes: int) -> datetime:
    """The UTC start of the slot that `slot_minutes` encoded; ValueError for no such slot."""
    if not 0 < minutes < MAX_SLOT_MINUTES:
        raise ValueError(f"{minutes} minutes since the epoch is not a slot")
    return datetime.fromtimestamp(minutes * 60, tz=UTC)
