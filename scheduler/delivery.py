"""The delivery worker: drains the outbox into Telegram, paced by the rate limiter.

A row's life: `pending` → claimed as `sending` (one short transaction) → rendered in the
reader's language → sent → marked in its own short transaction as `sent`, `blocked` (403:
never retried, the customer becomes unreachable), `pending` again with a later `not_before`
(429: Telegram's retry_after) or `failed` (a definite refusal: a 400 and the like, or a row
whose payload does not fit its kind — services/outbox_payloads.py — or that no renderer knows).

An outage delays, never loses: anything that is not a refusal of the message — 5xx, an HTML or
empty body, a timeout, a dropped connection — puts the row back to `pending` with exponential
backoff capped at `max_backoff` (5 minutes), so it goes out minutes after Telegram is back. It
is given up (`failed`) only when still not delivered `give_up_after` (48 hours) after its
first attempt (kept in `first_attempt_at`): a message that late is no longer worth sending.
No such error leaves a row in `sending`.

Sends share the bot's one limiter with replies (ui/telegram_requests.py): the worker takes a
bulk grant itself, so a person waiting for a reply is served first, and runs the request in
`bulk_send_granted()` so the request middleware neither acquires again nor retries.

Crash safety: a row is marked `sent` only after Telegram accepted it, so a `sent` row is never
sent again. Rows are claimed only as fast as they can be sent (at most `concurrency` at a
time, and only while the limiter has room), so a crash leaves at most `concurrency` rows in
`sending`; they are marked `uncertain` and logged instead of re-sent (we cannot know whether
Telegram delivered them).

Several instances (PostgreSQL): each claim names its holder (`instance`: host-pid-random, new
at every start) and holds a lease (`lease`, a minute) that the holder renews while the send is
in flight. `recover()` — at start and then every half lease, in every instance — marks
`uncertain` only rows whose lease ran out, so a starting instance leaves a live one's rows
alone and a dead one's rows are reported a lease after it died. SQLite has one process: rows
any other holder left in `sending` are its crash's leftovers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import Message, MessageId
from aiogram.utils.i18n import I18n

from bot.config import Settings
from services.owner_notices import owner_languages
from services.ratelimit import RateLimiter
from services.reachability import mark_unreachable
from services.shop import ShopService
from storage.database import Database
from storage.outbox import OutboxStatus
from storage.reachability import Recipient
from storage.repositories import Repositories
from ui.i18n import pick_language
from ui.messages.base import RenderContext, Rendered
from ui.render import render_row
from ui.telegram_requests import bulk_send_granted, is_transient

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEFAULT_CONCURRENCY = 8  # sends in flight; also the most rows a crash can leave uncertain
IDLE_POLL = 1.0  # seconds: the longest nap, so rows queued by another process are seen soon
_ERROR_TEXT_LIMIT = 500
DEFAULT_MAX_BACKOFF = timedelta(minutes=5)  # the longest a row waits once Telegram is back
DEFAULT_GIVE_UP_AFTER = timedelta(hours=48)  # counted from the row's first attempt
# How long a claim stays ours without renewal: a dead instance's rows wait this long before
# they are reported; far longer than a send plus a database hiccup, so live rows never expire.
DEFAULT_LEASE = timedelta(seconds=60)
_MAX_DOUBLINGS = 20  # 2**20 × any sane base is far past the cap; keeps the number small


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_instance_id() -> str:
    """Who holds a claim: the host and process for people reading the table, and a random
    tail so a restarted process with a reused pid is a different holder."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    blocked: int = 0  # 403, or the customer was already unreachable
    retried: int = 0  # back to pending: 429, network or server error
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Job:
    """What one send needs, copied out of the claiming transaction."""

    id: int
    kind: str
    payload: str
    chat_id: int
    customer_id: int | None
    attempts: int
    language: str
    first_attempt_at: datetime  # when this row was first claimed (now, for a first attempt)


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        bot: Bot | None,
        settings: Settings,
        i18n: I18n,
        *,
        clock: Clock = _utc_now,
        limiter: RateLimiter | None = None,
        batch: int = 50,
        concurrency: int = DEFAULT_CONCURRENCY,
        backoff: timedelta = timedelta(seconds=10),
        max_backoff: timedelta = DEFAULT_MAX_BACKOFF,
        give_up_after: timedelta = DEFAULT_GIVE_UP_AFTER,
        instance: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        renew_every: float | None = None,
    ) -> None:
        self._db = db
        self._bot = bot
        self._settings = settings
        self._i18n = i18n
        self._clock = clock
        self.limiter = limiter or RateLimiter()
        self._batch = max(1, batch)
        self.concurrency = max(1, concurrency)
        self._refill_at = max(1, self.concurrency // 2)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._give_up_after = give_up_after
        self.instance = instance or new_instance_id()
        self._lease = lease
        # Real seconds between renewals: three chances before a lease runs out.
        self._renew_every = renew_every or lease.total_seconds() / 3
        self._held: set[int] = set()  # ids of rows this instance is sending now
        self._next_sweep: datetime | None = None
        self._shop = ShopService(db)
        self._wake = asyncio.Event()
        # Set while the worker naps with nothing due: tests wait on it instead of guessing.
        self.drained = asyncio.Event()
        # SQLite has one writer; our own tasks queue here instead of in its busy handler,
        # which backs off by sleeping (up to 100 ms a try) and throttled us to ~80 rows/s.
        self._write_lock = asyncio.Lock() if db.is_sqlite else None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[Repositories]:
        if self._write_lock is None:
            async with self._db.transaction() as repos:
                yield repos
            return
        async with self._write_lock, self._db.transaction() as repos:
            yield repos

    def attach(self, bot: Bot) -> None:
        """The dispatcher gets its Bot only when polling starts; the start-up hook hands it here."""
        self._bot = bot

    def start(self) -> None:
        """Run `run_forever` in a background task (the dispatcher's start-up hook calls this)."""
        if self._task is None or self._task.done():
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self.run_forever(self._stop), name="delivery")

    async def stop(self, grace: float = 10) -> None:
        """Stop the background task; the sends in flight finish and are marked first."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            log.warning("delivery did not stop within %s s; cancelling", grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        """The background task is alive (what /readyz asks)."""
        return self._task is not None and not self._task.done()

    def notify(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()
        self.drained.clear()

    async def recover(self, now: datetime) -> int:
        """Rows a dead instance left in `sending` (lease run out) become `uncertain`:
        reported, never re-sent. Rows a live instance holds are left alone."""
        self._next_sweep = now + self._lease / 2
        alive = self.instance if self._db.is_sqlite else None
        async with self._writing() as repos:
            rows = await repos.outbox.orphaned(now, alive=alive)
            found = [(row.id, row.claimed_by) for row in rows]
            for outbox_id, holder in found:
                await repos.outbox.mark(
                    outbox_id,
                    OutboxStatus.UNCERTAIN,
                    last_error=(
                        f"in flight when {holder or 'the bot'} stopped; found at {now.isoformat()}"
                    ),
                )
        if found:
            log.warning(
                "%d outbox rows were being sent when the bot stopped (holders: %s) and may or "
                "may not have reached Telegram; marked uncertain, not re-sent: ids %s",
                len(found),
                ",".join(sorted({holder or "?" for _, holder in found})),
                ",".join(str(outbox_id) for outbox_id, _ in found),
            )
        return len(found)

    async def renew_leases(self) -> int:
        """Keep the claims on rows still in flight ours for another lease; how many."""
        held = set(self._held)
        if not held:
            return 0
        async with self._writing() as repos:
            return await repos.outbox.renew_leases(self.instance, held, self._clock() + self._lease)

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            try:
                await self.renew_leases()
            except Exception:  # the next try may work; the lease has room for two misses
                log.exception("could not renew the outbox leases of %s", self.instance)

    async def run_once(self, now: datetime) -> DeliveryReport:
        """Deliver every row due at `now` (rows put back for a retry wait for their time)."""
        return await self._deliver_due(now, limit=None, stop=asyncio.Event())

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; naps until the next due row, a notify(), or IDLE_POLL."""
        failures = 0
        while not stop.is_set():
            delay = IDLE_POLL
            try:
                now = self._clock()
                if self._next_sweep is None or now >= self._next_sweep:
                    await self.recover(now)  # another instance may have died meanwhile
                async with self._db.reading() as repos:
                    due = await repos.outbox.next_due_at()
                if due is not None and due <= now:
                    # A round of at most `batch` rows, so rows that fall due meanwhile (a
                    # booking confirmation during a bulk promo) wait seconds, not minutes.
                    report = await self._deliver_due(now, limit=self._batch, stop=stop)
                    # Nothing claimed although due: another worker has them; do not spin.
                    delay = 0.0 if report.claimed else 0.1
                else:
                    if due is not None:
                        delay = min(IDLE_POLL, (due - now).total_seconds())
                    if not self._wake.is_set():
                        self.drained.set()
                failures = 0
            except Exception:
                failures += 1
                delay = min(30.0, IDLE_POLL * 2**failures)
                log.exception("delivery round failed; next try in %.0f s", delay)
            if delay > 0:
                await self._nap(stop, delay)
            self.drained.clear()

    async def _nap(self, stop: asyncio.Event, seconds: float) -> None:
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopped, woken}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in (stopped, woken):
                waiter.cancel()
            await asyncio.gather(stopped, woken, return_exceptions=True)
        self._wake.clear()

    async def _deliver_due(
        self, now: datetime, *, limit: int | None, stop: asyncio.Event
    ) -> DeliveryReport:
        tally: Counter[str] = Counter()
        currency = (await self._shop.profile()).currency
        active: set[asyncio.Task[None]] = set()
        exhausted = False
        renewer = asyncio.create_task(self._keep_leases(), name="outbox-leases")
        try:
            while True:
                room = self.concurrency - len(active)
                if limit is not None:
                    room = min(room, limit - tally["claimed"])
                # Refill when half the slots are free: fewer, larger claiming transactions.
                refill = room > 0 and (room >= self._refill_at or not active)
                if refill and not exhausted:
                    # Claim only when the limiter could let a message out now, so claimed
                    # rows do not sit in `sending` through a 429 pause (a crash would make
                    # them uncertain for nothing).
                    paused = self.limiter.global_delay() > self.limiter.window
                    if paused and not await self._anything_due(now):
                        exhausted = True  # do not sit out a pause with nothing to send
                    elif await self.limiter.wait_ready(stop):
                        jobs, claimed = await self._claim(now, room, tally)
                        exhausted = claimed == 0
                        for job in jobs:
                            active.add(asyncio.create_task(self._deliver(job, currency, tally)))
                    else:
                        exhausted = True  # asked to stop
                if not active:
                    if exhausted or room <= 0:
                        break
                    continue  # everything claimed was settled without a send
                done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
                active -= done
        finally:
            if active:
                # Cancelled from outside: let the sends in flight finish and be marked.
                await asyncio.gather(*active, return_exceptions=True)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        return DeliveryReport(
            claimed=tally["claimed"],
            sent=tally["sent"],
            blocked=tally["blocked"],
            retried=tally["retried"],
            failed=tally["failed"],
        )

    async def _anything_due(self, now: datetime) -> bool:
        async with self._db.reading() as repos:
            due = await repos.outbox.next_due_at()
        return due is not None and due <= now

    async def _claim(
        self, now: datetime, limit: int, tally: Counter[str]
    ) -> tuple[list[_Job], int]:
        """Claim due rows; rows for unreachable customers are settled here without a send."""
        jobs: list[_Job] = []
        async with self._writing() as repos:
            rows = await repos.outbox.claim_due(
                now, limit, holder=self.instance, lease_until=self._clock() + self._lease
            )
            if not rows:
                return jobs, 0
            recipients = await repos.reachability.recipients(
                {row.customer_id for row in rows if row.customer_id is not None},
                {row.chat_id for row in rows if row.customer_id is None},
            )
            by_id = {r.customer_id: r for r in recipients}
            by_chat = {r.telegram_id: r for r in recipients if r.telegram_id is not None}
            # Owners' notices and inbox copies: the language the owner last wrote to us in.
            owners = await owner_languages(
                repos,
                {
                    row.chat_id
                    for row in rows
                    if row.customer_id is None and row.chat_id in self._settings.owner_ids
                },
            )
            for row in rows:
                recipient: Recipient | None = (
                    by_id.get(row.customer_id)
                    if row.customer_id is not None
                    else by_chat.get(row.chat_id)
                )
                if recipient is not None and recipient.blocked:
                    await repos.outbox.mark(
                        row.id, OutboxStatus.BLOCKED, last_error="customer unreachable"
                    )
                    tally["blocked"] += 1
                    continue
                language = owners.get(row.chat_id) if row.customer_id is None else None
                language = language or pick_language(
                    recipient.language if recipient else None, self._settings.default_language
                )
                self._held.add(row.id)
                jobs.append(
                    _Job(
                        row.id,
                        row.kind,
                        row.payload,
                        row.chat_id,
                        row.customer_id,
                        row.attempts,
                        language,
                        row.first_attempt_at or now,
                    )
                )
        tally["claimed"] += len(rows)
        return jobs, len(rows)

    async def _deliver(self, job: _Job, currency: str, tally: Counter[str]) -> None:
        try:
            outcome = await self._send(job, currency)
        except Exception:
            # A bug or the database, not Telegram: the row stays `sending`, its lease is no
            # longer renewed, and it becomes `uncertain` when the lease runs out — the honest
            # state if the send went out.
            log.exception("outbox row %s: could not finish its delivery", job.id)
            return
        finally:
            self._held.discard(job.id)
        tally[outcome] += 1

    async def _send(self, job: _Job, currency: str) -> str:
        try:
            rendered = render_row(job.kind, job.payload, self._context(job, currency))
        except Exception as exc:
            log.exception("outbox row %s (%s) cannot be rendered", job.id, job.kind)
            await self._mark(job.id, OutboxStatus.FAILED, last_error=_describe(exc))
            return "failed"
        await self.limiter.acquire(job.chat_id, bulk=True)
        try:
            with bulk_send_granted():
                message = await self._post(job.chat_id, rendered)
        except Exception as exc:
            # Whatever happened on the way to Telegram, the row leaves `sending` here.
            return await self._settle_error(job, exc)
        await self._mark(
            job.id, OutboxStatus.SENT, sent_at=self._clock(), telegram_message_id=message.message_id
        )
        return "sent"

    async def _settle_error(self, job: _Job, exc: Exception) -> str:
        """Record what the failed send means for the row; the outcome for the report."""
        error = _describe(exc)
        if isinstance(exc, TelegramRetryAfter):
            self.limiter.pause(exc.retry_after)  # also done by the request middleware, if any
            log.warning("429 for outbox row %s: all sends wait %s s", job.id, exc.retry_after)
            # Telegram's pacing, not the message's fault: the attempt is given back.
            retry_at = self._clock() + timedelta(seconds=exc.retry_after)
            await self._mark(
                job.id,
                OutboxStatus.PENDING,
                not_before=retry_at,
                attempts=job.attempts - 1,
                last_error=error,
            )
            return "retried"
        if isinstance(exc, TelegramForbiddenError):
            async with self._writing() as repos:
                await repos.outbox.mark(job.id, OutboxStatus.BLOCKED, last_error=error)
                await mark_unreachable(
                    repos,
                    self._clock(),
                    customer_id=job.customer_id,
                    telegram_id=job.chat_id if job.customer_id is None else None,
                )
            log.info("outbox row %s: chat %s blocked the bot", job.id, job.chat_id)
            return "blocked"
        if not is_transient(exc) and not _unexpected(exc):
            # Telegram refused this message (400 and the like): no retry will change that.
            log.warning("outbox row %s failed (attempt %s): %s", job.id, job.attempts, exc)
            await self._mark(job.id, OutboxStatus.FAILED, last_error=error)
            return "failed"
        now = self._clock()
        if now - job.first_attempt_at >= self._give_up_after:
            log.warning(
                "outbox row %s: still failing after %s; given up",
                job.id,
                now - job.first_attempt_at,
            )
            await self._mark(job.id, OutboxStatus.FAILED, last_error=error)
            return "failed"
        if _unexpected(exc):
            log.error("outbox row %s: unexpected error while sending", job.id, exc_info=exc)
        # An outage: again later, waiting longer each time, but never longer than the cap.
        doublings = min(_MAX_DOUBLINGS, max(0, job.attempts - 1))
        delay = min(self._max_backoff, self._backoff * 2**doublings)
        log.info("outbox row %s: %s; retry in %s", job.id, exc, delay)
        await self._mark(
            job.id,
            OutboxStatus.PENDING,
            not_before=now + delay,
            first_attempt_at=job.first_attempt_at,
            last_error=error,
        )
        return "retried"

    def _context(self, job: _Job, currency: str) -> RenderContext:
        return RenderContext(
            i18n=self._i18n,
            language=job.language,
            outbox_id=job.id,
            currency=currency,
            zone=self._settings.zone,
        )

    async def _post(self, chat_id: int, rendered: Rendered) -> Message | MessageId:
        if self._bot is None:
            msg = "DeliveryWorker has no Bot: call attach(bot) first"
            raise RuntimeError(msg)
        if rendered.copy_from is not None:
            # A photo or voice message passed on as it is (the inbox); copies keep no sender.
            from_chat_id, message_id = rendered.copy_from
            return await self._bot.copy_message(
                chat_id, from_chat_id, message_id, reply_markup=rendered.markup
            )
        if rendered.photo is not None:
            return await self._bot.send_photo(
                chat_id, rendered.photo, caption=rendered.text, reply_markup=rendered.markup
            )
        if rendered.business_connection_id is not None:  # issue 11: as the owner, in their chat
            return await self._bot.send_message(
                chat_id,
                rendered.text,
                reply_markup=rendered.markup,
                business_connection_id=rendered.business_connection_id,
            )
        return await self._bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)

    async def _mark(self, outbox_id: int, status: OutboxStatus, **values: Any) -> None:
        async with self._writing() as repos:
            await repos.outbox.mark(outbox_id, status, **values)


def _unexpected(exc: Exception) -> bool:
    """Not from Telegram nor the network (a bug on our side): we cannot tell whether the
    message went out, so it is not failed as if Telegram had refused it; retried instead."""
    return not isinstance(exc, TelegramAPIError) and not is_transient(exc)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_LIMIT]
