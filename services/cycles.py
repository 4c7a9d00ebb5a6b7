"""When a customer needs a service again: their personal cycle, or the service's."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from statistics import median
from zoneinfo import ZoneInfo

MIN_PURCHASES_FOR_PERSONAL = 3  # two gaps are the least that says something about a person


def personal_cycle(purchase_days: list[date], service_cycle: int) -> int:
    """The median gap between purchases, kept within 0.5–2× the service cycle.

    With fewer than three purchases (or all on one day) the service's own cycle applies.
    """
    days = sorted(set(purchase_days))
    if len(days) < MIN_PURCHASES_FOR_PERSONAL:
        return service_cycle
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    typical = median(gaps)
    low, high = service_cycle / 2, service_cycle * 2
    return round(min(max(typical, low), high))


def local_days(moments: list[datetime], zone: ZoneInfo) -> list[date]:
    return [moment.astimezone(zone).date() for moment in moments]
