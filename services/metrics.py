"""What the process counts about its requests to Telegram, for /metrics.

Plain integers, free of any metrics library: the session middleware (ui/telegram_requests.py)
and the start-up hook add to them, and bot/metrics.py reads them when Prometheus scrapes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RequestCounts:
    """Totals since the process started (Prometheus counters: they only grow)."""

    messages_sent: int = 0  # messages Telegram accepted: replies, notices and outbox rows
    too_many_requests: int = 0  # 429 answers (Telegram's flood limits)
    uncertain_rows: int = 0  # outbox rows a crash left half-sent, found at start-up
