"""Who holds which identity (external_id, phone, telegram_id), for matching imported rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.transfer.cells import DIGITS, MAX_TELEGRAM_ID, maybe_phone
from storage.transfer import TransferRepository


@dataclass(slots=True)
class Identities:
    """All customers' identities (ids only, not whole rows)."""

    by_external: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    by_telegram: dict[int, int] = field(default_factory=dict)
    telegram_of: dict[int, int] = field(default_factory=dict)  # customer id -> telegram_id

    @classmethod
    async def load(cls, transfer: TransferRepository) -> Identities:
        found = cls()
        async for customer in transfer.customer_identities():
            if customer.external_id:
                found.by_external[customer.external_id] = customer.id
            if customer.phone:
                found.by_phone[customer.phone] = customer.id
            if customer.telegram_id is not None:
                found.by_telegram[customer.telegram_id] = customer.id
                found.telegram_of[customer.id] = customer.telegram_id
        return found

    def find(self, value: str) -> int | None:
        """The customer a purchase's `customer` cell names: external_id, phone, telegram_id."""
        if value in self.by_external:
            return self.by_external[value]
        phone = maybe_phone(value)
        if phone and phone in self.by_phone:
            return self.by_phone[phone]
        if DIGITS.match(value) and int(value) <= MAX_TELEGRAM_ID:
            return self.by_telegram.get(int(value))
        return None
