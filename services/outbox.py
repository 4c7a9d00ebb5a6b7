"""Putting messages in the outbox: what to say to whom, and not before when.

A message is data: a payload (services/outbox_payloads.py, one class per kind) stored as JSON.
The bot renders it in the reader's language at send time, so services never format text. The
dedup key names the logical message (`rebook:<customer>:<service>:<due date>`,
`birthday:<customer>:<year>` …): enqueuing the same key twice is a no-op, which makes every
scan safe to repeat after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.outbox_payloads import Payload, to_json
from storage.outbox import OutboxStatus
from storage.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: str
    chat_id: int
    customer_id: int | None
    not_before: datetime
    payload: Payload
    campaign_id: int | None = None

    @property
    def kind(self) -> str:
        """The row's kind is the payload's: they cannot disagree."""
        return self.payload.kind


async def enqueue(repos: Repositories, message: Outgoing, now: datetime) -> int | None:
    """Queue a message inside the caller's transaction; None when that key was queued before."""
    return await repos.outbox.insert_once(
        dedup_key=message.key,
        kind=message.kind,
        customer_id=message.customer_id,
        chat_id=message.chat_id,
        payload=to_json(message.payload),
        status=OutboxStatus.PENDING,
        attempts=0,
        not_before=message.not_before,
        created_at=now,
        campaign_id=message.campaign_id,
    )
