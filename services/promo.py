"""Promo codes at the counter: a valid, unused code of this customer gives its discount once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.errors import InputError
from storage.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Discount:
    code: str
    percent: int
    amount: int  # minor units taken off


def normalise_code(text: str) -> str:
    return text.strip().upper()


async def redeem(
    repos: Repositories, code_text: str, *, customer_id: int, amount: int, now: datetime
) -> Discount:
    """Check the code and mark it used (inside the sale's transaction).

    The customer's row is locked first (the same order as a points spend, so the two cannot
    deadlock), then the code's: a second sale with the same code waits and sees it used.
    """
    await repos.customers.lock(customer_id)
    code = await repos.retention.promo_code(normalise_code(code_text), lock=True)
    if code is None:
        raise InputError("error-promo-unknown")
    if code.customer_id != customer_id:
        raise InputError("error-promo-other-customer")
    if code.used_at is not None:
        raise InputError("error-promo-used")
    if not code.valid_from <= now <= code.valid_until:
        raise InputError("error-promo-expired")
    code.used_at = now
    off = amount * code.percent // 100
    return Discount(code=code.code, percent=code.percent, amount=off)
