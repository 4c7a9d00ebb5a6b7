"""Win-back: a personal message to a customer who is drifting away, pressed by the owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Winback as WinbackMessage
from services.shop import profile_from
from storage.database import Database


@dataclass(frozen=True, slots=True)
class WinbackQueued:
    customer_id: int
    name: str | None
    queued: bool  # False: already queued today
    not_before: datetime


class Winback:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    async def queue_winback(self, customer_id: int, now: datetime) -> WinbackQueued:
        """A personal win-back message through the outbox; once per customer per local day."""
        async with self._db.transaction() as repos:
            customer = await repos.customers.get(customer_id)
            if customer is None:
                raise InputError("error-customer-gone")
            if customer.telegram_id is None:
                raise InputError("winback-not-on-telegram")
            if customer.blocked_at is not None:
                raise InputError("winback-blocked")
            if customer.consent is False:
                raise InputError("winback-no-consent")
            profile = profile_from(await repos.settings.all())
            day = now.astimezone(self._zone).date()
            not_before = profile.next_send_time(now, self._zone).astimezone(UTC)
            new_id = await enqueue(
                repos,
                Outgoing(
                    key=f"winback:{customer_id}:{day.isoformat()}",
                    chat_id=customer.telegram_id,
                    customer_id=customer_id,
                    not_before=not_before,
                    payload=WinbackMessage(name=customer.name or ""),
                ),
                now,
            )
            return WinbackQueued(customer_id, customer.name, new_id is not None, not_before)
