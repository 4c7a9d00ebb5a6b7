"""/healthz, /readyz and /metrics: what a container runtime, a load balancer and Prometheus ask.

- /healthz: the process answers (200). Restart the bot when it stops answering.
- /readyz: the bot can do its work: the database answers, the delivery worker runs, and no
  due outbox row has waited longer than READY_OUTBOX_DELAY_MINUTES. 503 with a short JSON
  reason otherwise (no personal data in it: the reason names a component, not a row).
- /metrics: bot/metrics.py, in the Prometheus text format.

Served next to the webhook (bot/web.py), or in polling mode on WEB_HOST:WEB_PORT when
HEALTH_SERVER is on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Dispatcher
from aiohttp import web

from bot.metrics import CONTENT_TYPE, BotMetrics
from scheduler.delivery import DeliveryWorker
from storage.database import Database

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # seconds the database may take to answer a probe


@dataclass
class Readiness:
    db: Database
    delivery: DeliveryWorker
    clock: Callable[[], datetime]  # the dispatcher's (a test's fake clock moves it)
    max_delay: timedelta

    async def problem(self) -> str | None:
        """Why the bot is not ready, in a few words; None when it is."""
        if not self.delivery.running:
            return "delivery worker is not running"
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                async with self.db.reading() as repos:
                    due = await repos.outbox.next_due_at()
        except Exception as exc:
            log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
            return f"database does not answer ({type(exc).__name__})"
        now = self.clock()
        if due is not None and now - due > self.max_delay:
            minutes = int((now - due).total_seconds() // 60)
            return f"outbox is behind: a message due {minutes} min ago is not sent"
        return None


def add_health_routes(app: web.Application, dp: Dispatcher) -> None:
    """GET /healthz, /readyz and /metrics for the dispatcher's database, worker and metrics."""
    settings = dp["settings"]
    readiness = Readiness(
        dp["db"],
        dp["delivery"],
        dp["clock"],
        timedelta(minutes=settings.ready_outbox_delay_minutes),
    )
    metrics: BotMetrics = dp["metrics"]

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        problem = await readiness.problem()
        if problem is not None:
            return web.json_response({"status": "unavailable", "reason": problem}, status=503)
        return web.json_response({"status": "ok"})

    async def scrape(_request: web.Request) -> web.Response:
        body = await metrics.render(readiness.db)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)


def create_health_app(dp: Dispatcher) -> web.Application:
    """Polling mode's small web app: the three paths and nothing else."""
    app = web.Application()
    add_health_routes(app, dp)
    return app
