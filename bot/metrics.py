"""/metrics in the Prometheus text format: updates, handler latency, the outbox, Telegram's answers.

One `BotMetrics` per dispatcher, with a registry of its own (not prometheus-client's global
one): two bots in one test process, or one test after another, never share a counter.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from time import perf_counter
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from services.metrics import RequestCounts
from storage.database import Database
from storage.outbox import OutboxStatus

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a reply takes tens of milliseconds, a chart or a campaign's start seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _CountsCollector(Collector):
    """The middleware's plain integers, read at scrape time."""

    def __init__(self, counts: RequestCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "bot_messages_sent",
            "Messages Telegram accepted (replies, notices, outbox rows)",
            value=self.counts.messages_sent,
        )
        yield CounterMetricFamily(
            "bot_telegram_429",
            "429 Too Many Requests answers from Telegram",
            value=self.counts.too_many_requests,
        )
        yield CounterMetricFamily(
            "bot_outbox_uncertain_found",
            "Outbox rows a crash left half-sent, marked uncertain at start-up",
            value=self.counts.uncertain_rows,
        )


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.counts = RequestCounts()
        self.updates = Counter(
            "bot_updates", "Updates handled, by type", ["type"], registry=self.registry
        )
        self.latency = Histogram(
            "bot_update_seconds",
            "Time from an update's arrival to the end of its handling, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox = Gauge(
            "bot_outbox_rows", "Outbox rows by status", ["status"], registry=self.registry
        )
        self.registry.register(_CountsCollector(self.counts))
        self.middleware = UpdateMetrics(self)

    async def render(self, db: Database) -> bytes:
        """The text Prometheus scrapes; the outbox is counted now, in one read."""
        try:
            async with db.reading() as repos:
                by_status = await repos.outbox.count_by_status()
        except Exception as exc:  # the rest is still worth a scrape; /readyz reports the database
            log.warning("metrics: outbox not counted (%s)", type(exc).__name__)
        else:
            for status in OutboxStatus:
                self.outbox.labels(status.value).set(by_status.get(status.value, 0))
        return generate_latest(self.registry)


def update_type(event: TelegramObject) -> str:
    if isinstance(event, Update):
        try:
            return event.event_type
        except Exception:  # an update type this aiogram does not know
            return "unknown"
    return type(event).__name__


class UpdateMetrics(BaseMiddleware):
    """An outer middleware on dp.update: counts each update and times its whole handling."""

    def __init__(self, metrics: BotMetrics) -> None:
        self._metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = update_type(event)
        started = perf_counter()
        try:
            return await handler(event, data)
        finally:
            self._metrics.updates.labels(kind).inc()
            self._metrics.latency.labels(kind).observe(perf_counter() - started)
