"""Pacing outgoing messages under Telegram's flood limits, in one process.

Telegram allows about 30 messages a second overall and one a second per private chat; beyond
that it answers 429 with `retry_after`. The limiter is a sliding-window log: it remembers the
times of the last `burst` grants and lets a new one through only when the oldest of them is at
least `window` old. So no interval shorter than `window` ever holds more than `burst` grants,
which also keeps a server-side token bucket of `burst` tokens refilled at `burst / window` per
second from ever running dry. A token bucket on the client would not: its refill and the
server's drift apart by network jitter and both allow full bursts at the edges. `margin`
stretches the window (4 % by default) so requests that reach the server closer together than
they left us — up to `margin × window` of jitter — still fit.

Groups and channels (negative ids, or "@name") also get Telegram's 20 messages a minute, kept
the same way. Two priorities share the budgets: a person waiting for a reply is granted before
any bulk send (the outbox) that waits at the same time; bulk sends take what replies leave.

Several instances of the bot spend one budget: Telegram counts per bot, not per process. Given
a `SharedBudget` (storage/redis_budget.py keeps one in Redis), a grant that passes the local
checks is also taken from the shared budget, atomically for all instances; the local checks
still order replies before bulk sends inside each process. While the shared budget cannot be
reached, each process paces itself alone (logged): a 429 is waited out, a lost message is not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

ChatId = int | str

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_WARN_EVERY = 60.0  # seconds between warnings that the shared budget is unreachable

DEFAULT_PER_SECOND = 30.0
DEFAULT_PER_CHAT_PER_SECOND = 1.0
DEFAULT_PER_GROUP_PER_MINUTE = 20
DEFAULT_MARGIN = 0.04
_PRUNE_EVERY = 1024  # grants between sweeps of the per-chat table


@dataclass(frozen=True, slots=True)
class Pacing:
    """The budgets as sliding windows: `burst` grants per `window` seconds overall, one per
    `chat_interval` per private chat, `group_burst` per `group_window` per group or channel."""

    burst: int
    window: float
    chat_interval: float
    group_burst: int
    group_window: float

    @classmethod
    def of(
        cls,
        per_second: float = DEFAULT_PER_SECOND,
        per_chat_per_second: float = DEFAULT_PER_CHAT_PER_SECOND,
        *,
        per_group_per_minute: int = DEFAULT_PER_GROUP_PER_MINUTE,
        margin: float = DEFAULT_MARGIN,
    ) -> Pacing:
        if per_second <= 0 or per_chat_per_second <= 0 or per_group_per_minute <= 0 or margin < 0:
            msg = "rates must be positive and the margin not negative"
            raise ValueError(msg)
        # 30/s becomes "30 per 1.04 s"; 0.5/s becomes "1 per 2.08 s".
        burst = max(1, math.floor(per_second))
        return cls(
            burst=burst,
            window=burst / per_second * (1 + margin),
            chat_interval=1 / per_chat_per_second * (1 + margin),
            group_burst=per_group_per_minute,
            group_window=60 * (1 + margin),
        )


class SharedBudget(Protocol):
    """The budget all instances of the bot spend together (one per bot token)."""

    async def take(self, chat_id: ChatId) -> float:
        """Record a grant for `chat_id` and return 0, or return the seconds to wait first."""

    async def delay(self) -> float:
        """Seconds until the overall budget has room (a look, nothing recorded)."""

    async def pause(self, seconds: float) -> None:
        """Hold every instance's sends for `seconds` (after a 429)."""

    async def close(self) -> None: ...


class RateLimiter:
    """`await acquire(chat_id)` returns when a message to that chat may be sent."""

    def __init__(
        self,
        per_second: float = DEFAULT_PER_SECOND,
        per_chat_per_second: float = DEFAULT_PER_CHAT_PER_SECOND,
        *,
        per_group_per_minute: int = DEFAULT_PER_GROUP_PER_MINUTE,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: SharedBudget | None = None,
    ) -> None:
        pacing = Pacing.of(
            per_second,
            per_chat_per_second,
            per_group_per_minute=per_group_per_minute,
            margin=margin,
        )
        self.pacing = pacing
        self.burst = pacing.burst
        self.window = pacing.window
        self.chat_interval = pacing.chat_interval
        self.group_burst = pacing.group_burst
        self.group_window = pacing.group_window
        self.shared = shared
        self._pausing: set[asyncio.Task[None]] = set()
        self._warned_at = float("-inf")
        self._clock = clock
        self._sleep = sleep
        self._granted: deque[float] = deque(maxlen=self.burst)
        self._last_in_chat: dict[ChatId, float] = {}
        self._in_group: dict[ChatId, deque[float]] = {}
        self._paused_until = float("-inf")
        self._grants = 0
        # Chats with a person-facing request waiting: bulk sends step aside for them.
        self._replies_waiting: Counter[ChatId] = Counter()

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (after a 429: Telegram's retry_after); with a shared
        budget, every instance's sends (told in the background: the caller does not wait)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        if self.shared is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(
                self._ask_shared(self.shared.pause(seconds))
            )
        except RuntimeError:  # no loop: nothing can be sending in this process either
            return
        self._pausing.add(task)
        task.add_done_callback(self._pausing.discard)

    async def close(self) -> None:
        if self._pausing:
            await asyncio.gather(*self._pausing, return_exceptions=True)
        if self.shared is not None:
            await self.shared.close()

    def global_delay(self) -> float:
        """Seconds until the next grant is possible for a chat with nothing pending."""
        now = self._clock()
        delay = self._paused_until - now
        if len(self._granted) == self.burst:
            delay = max(delay, self._granted[0] + self.window - now)
        return max(0.0, delay)

    def chat_delay(self, chat_id: ChatId) -> float:
        now = self._clock()
        last = self._last_in_chat.get(chat_id)
        delay = 0.0 if last is None else last + self.chat_interval - now
        group = self._in_group.get(chat_id)
        if group is not None and len(group) == self.group_burst:
            delay = max(delay, group[0] + self.group_window - now)
        return max(0.0, delay)

    async def acquire(self, chat_id: ChatId, *, bulk: bool = False) -> None:
        """Wait for a grant; `bulk` ones are given only when no reply is ready to go."""
        # Check and record with no await in between: asyncio runs one task at a time, so
        # no other waiter can slip in; losers simply wait again.
        if bulk:
            await self._acquire_bulk(chat_id)
            return
        self._replies_waiting[chat_id] += 1
        try:
            while True:
                delay = max(self.global_delay(), self.chat_delay(chat_id))
                if delay <= 0:
                    delay = await self._take_shared(chat_id)
                    if delay <= 0:
                        self._grant(chat_id)
                        return
                await self._sleep(delay)
        finally:
            self._replies_waiting[chat_id] -= 1
            if self._replies_waiting[chat_id] <= 0:
                del self._replies_waiting[chat_id]

    async def _acquire_bulk(self, chat_id: ChatId) -> None:
        # One slot of the global window: long enough for a waiting reply to take its turn.
        step = self.window / self.burst
        while True:
            delay = max(self.global_delay(), self.chat_delay(chat_id))
            if delay <= 0 and not self._reply_ready():
                delay = await self._take_shared(chat_id)
                if delay <= 0:
                    self._grant(chat_id)
                    return
            await self._sleep(max(delay, step))

    async def _take_shared(self, chat_id: ChatId) -> float:
        """0 when the shared budget granted (or there is none); else the seconds to wait.
        A reply waiting here still counts as ready, so local bulk sends keep stepping aside."""
        if self.shared is None:
            return 0.0
        return await self._ask_shared(self.shared.take(chat_id)) or 0.0

    async def _ask_shared(self, request: Awaitable[_T]) -> _T | None:
        """The shared budget's answer, or None when it cannot be reached (then the local
        budget alone decides: better a 429, which is waited out, than no message at all)."""
        try:
            return await request
        except Exception:
            now = self._clock()
            if now - self._warned_at >= _WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "shared send budget unreachable; pacing this process alone", exc_info=True
                )
            return None

    def _reply_ready(self) -> bool:
        """A reply waits only for the global budget (its own chat is free): it goes first."""
        return any(self.chat_delay(chat) <= 0 for chat in self._replies_waiting)

    def _grant(self, chat_id: ChatId) -> None:
        now = self._clock()
        self._granted.append(now)
        self._last_in_chat[chat_id] = now
        if _is_group_like(chat_id):
            group = self._in_group.get(chat_id)
            if group is None:
                group = self._in_group[chat_id] = deque(maxlen=self.group_burst)
            group.append(now)
        self._grants += 1
        if self._grants % _PRUNE_EVERY == 0:
            # Chats quiet for longer than the interval no longer constrain anything.
            horizon = now - self.chat_interval
            self._last_in_chat = {c: t for c, t in self._last_in_chat.items() if t > horizon}
            group_horizon = now - self.group_window
            self._in_group = {c: q for c, q in self._in_group.items() if q[-1] > group_horizon}

    async def wait_ready(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until a grant is possible (not paused, window not full); False if stopped."""
        while True:
            if stop is not None and stop.is_set():
                return False
            delay = self.global_delay()
            if delay <= 0 and self.shared is not None:
                delay = await self._ask_shared(self.shared.delay()) or 0.0
            if delay <= 0:
                return True
            if stop is None:
                await self._sleep(delay)
                continue
            nap = asyncio.ensure_future(self._sleep(delay))
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({nap, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (nap, stopped):
                    waiter.cancel()
                await asyncio.gather(nap, stopped, return_exceptions=True)


def _is_group_like(chat_id: ChatId) -> bool:
    """Groups and channels have negative ids; a public one may be addressed as "@name"."""
    return isinstance(chat_id, str) or chat_id < 0
