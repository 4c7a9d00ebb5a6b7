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
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_PER_SECOND = 30.0
DEFAULT_PER_CHAT_PER_SECOND = 1.0
DEFAULT_MARGIN = 0.04
_PRUNE_EVERY = 1024  # grants between sweeps of the per-chat table


class RateLimiter:
    """`await acquire(chat_id)` returns when a message to that chat may be sent."""

    def __init__(
        self,
        per_second: float = DEFAULT_PER_SECOND,
        per_chat_per_second: float = DEFAULT_PER_CHAT_PER_SECOND,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or per_chat_per_second <= 0 or margin < 0:
            msg = "rates must be positive and the margin not negative"
            raise ValueError(msg)
        # 30/s becomes "30 per 1.04 s"; 0.5/s becomes "1 per 2.08 s".
        self.burst = max(1, math.floor(per_second))
        self.window = self.burst / per_second * (1 + margin)
        self.chat_interval = 1 / per_chat_per_second * (1 + margin)
        self._clock = clock
        self._sleep = sleep
        self._granted: deque[float] = deque(maxlen=self.burst)
        self._last_in_chat: dict[int, float] = {}
        self._paused_until = float("-inf")
        self._grants = 0

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (after a 429: Telegram's retry_after)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def global_delay(self) -> float:
        """Seconds until the next grant is possible for a chat with nothing pending."""
        now = self._clock()
        delay = self._paused_until - now
        if len(self._granted) == self.burst:
            delay = max(delay, self._granted[0] + self.window - now)
        return max(0.0, delay)

    def chat_delay(self, chat_id: int) -> float:
        last = self._last_in_chat.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.chat_interval - self._clock())

    async def acquire(self, chat_id: int) -> None:
        # Check and record with no await in between: asyncio runs one task at a time, so
        # no other waiter can slip in; losers simply wait again.
        while True:
            delay = max(self.global_delay(), self.chat_delay(chat_id))
            if delay <= 0:
                self._grant(chat_id)
                return
            await self._sleep(delay)

    def _grant(self, chat_id: int) -> None:
        now = self._clock()
        self._granted.append(now)
        self._last_in_chat[chat_id] = now
        self._grants += 1
        if self._grants % _PRUNE_EVERY == 0:
            # Chats quiet for longer than the interval no longer constrain anything.
            horizon = now - self.chat_interval
            self._last_in_chat = {c: t for c, t in self._last_in_chat.items() if t > horizon}

    async def wait_ready(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until a grant is possible (not paused, window not full); False if stopped."""
        while True:
            if stop is not None and stop.is_set():
                return False
            delay = self.global_delay()
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
