"""Putting messages in the outbox: what to say to whom, and not before when.

A message is data: a `kind` and a JSON payload. The bot renders it in the reader's language at
send time, so services never format text. The dedup key names the logical message
(`rebook:<customer>:<service>:<due date>`, `birthday:<customer>:<year>` …): enqueuing the same
key twice is a no-op, which makes every scan safe to repeat after a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.outbox import PENDING
from storage.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: str
    kind: str
    chat_id: int
    customer_id: int | None
    not_before: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    campaign_id: int | None = None


async def enqueue(repos: Repositories, message: Outgoing, now: datetime) -> int | None:
    """Queue a message inside the caller's transaction; None when that key was queued before."""
    return await repos.outbox.insert_once(
        dedup_key=message.key,
        kind=message.kind,
        customer_id=message.customer_id,
        chat_id=message.chat_id,
        payload=json.dumps(message.payload, ensure_ascii=False, sort_keys=True),
        status=PENDING,
        attempts=0,
        not_before=message.not_before,
        created_at=now,
        campaign_id=message.campaign_id,
    )
