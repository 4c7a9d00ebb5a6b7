"""Telegram's send budget shared by every instance of the bot, kept in Redis.

The same sliding-window log as services/ratelimit.py, but the log lives in Redis and one Lua
script checks and records a grant atomically, so three instances together stay under ~30
messages a second and one a second per chat. Redis's own clock (TIME) times every grant,
so the instances' clocks need not agree. All keys of a bot share one hash tag, as a script
on Redis Cluster requires.

Why not the `limits` package: it keeps one limit per call, so the overall and the per-chat
budget would be two round trips that a crash or a race can leave half-taken; and it has no
"how long until" answer to sleep on. The script is thirty lines.
"""

from __future__ import annotations

import itertools
import math
import secrets
from typing import Any, Protocol

from redis.asyncio import Redis

ChatId = int | str


class Windows(Protocol):
    """The budgets as sliding windows (services/ratelimit.py's Pacing): storage does not
    import services, so it names only what it reads."""

    @property
    def burst(self) -> int: ...
    @property
    def window(self) -> float: ...
    @property
    def chat_interval(self) -> float: ...
    @property
    def group_burst(self) -> int: ...
    @property
    def group_window(self) -> float: ...


_US = 1_000_000  # the script counts microseconds

# KEYS: overall log (zset), the chat's key (last grant, or a zset for groups), pause mark.
# ARGV: mode (take|peek), burst, window, chat interval, is group, group burst, group window
# (times in µs), and a member name unique to this grant. Returns the µs to wait; 0 = granted.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then wait = paused - now end
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + window - now)
end
if ARGV[1] == 'peek' then return math.ceil(wait) end
local group = ARGV[5] == '1'
local group_window = tonumber(ARGV[7])
local interval = tonumber(ARGV[4])
if group then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - group_window)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + group_window - now)
  end
else
  local last = redis.call('GET', KEYS[2])
  if last then wait = math.max(wait, tonumber(last) + interval - now) end
end
if wait > 0 then return math.ceil(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[8])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
if group then
  redis.call('ZADD', KEYS[2], now, ARGV[8])
  redis.call('PEXPIRE', KEYS[2], math.ceil(group_window / 1000) + 1000)
else
  redis.call('SET', KEYS[2], string.format('%.0f', now), 'PX', math.ceil(interval / 1000) + 1000)
end
return 0
"""

# KEYS: pause mark. ARGV: µs to pause. Only ever extends a pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  local keep = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', keep)
end
return 0
"""


class RedisBudget:
    """A `SharedBudget` for services/ratelimit.py's RateLimiter, one per bot token."""

    def __init__(self, redis: Redis, bot_key: str, pacing: Windows) -> None:
        self._redis = redis
        self.pacing = pacing
        self._prefix = f"tg-budget:{{{bot_key}}}"
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        # Grants are members of a sorted set: each needs a name no other grant has.
        self._me = secrets.token_hex(6)
        self._grants = itertools.count()

    @classmethod
    def from_url(cls, url: str, bot_key: str, pacing: Windows) -> RedisBudget:
        return cls(Redis.from_url(url), bot_key, pacing)

    def _keys(self, chat_id: ChatId | None) -> list[str]:
        chat = f"{self._prefix}:chat:{chat_id}" if chat_id is not None else f"{self._prefix}:-"
        return [f"{self._prefix}:all", chat, f"{self._prefix}:pause"]

    async def _run(self, mode: str, chat_id: ChatId | None) -> float:
        p = self.pacing
        args: list[Any] = [
            mode,
            p.burst,
            round(p.window * _US),
            round(p.chat_interval * _US),
            "1" if chat_id is not None and _is_group_like(chat_id) else "0",
            p.group_burst,
            round(p.group_window * _US),
            f"{self._me}:{next(self._grants)}",
        ]
        waited = await self._take(keys=self._keys(chat_id), args=args)
        return int(waited) / _US

    async def take(self, chat_id: ChatId) -> float:
        return await self._run("take", chat_id)

    async def delay(self) -> float:
        return await self._run("peek", None)

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=[f"{self._prefix}:pause"], args=[math.ceil(seconds * _US)])

    async def close(self) -> None:
        await self._redis.aclose()


def _is_group_like(chat_id: ChatId) -> bool:
    """Groups and channels (negative ids, or "@name") have the per-minute budget."""
    return isinstance(chat_id, str) or chat_id < 0
