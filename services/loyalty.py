"""Loyalty points and referral bonuses, kept as a ledger: every change has a line and a reason.

A point is one unit of the shop's currency (one rouble, one dollar), whole numbers only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import ReferralBonus, ReferralFriend
from services.shop import ShopProfile
from storage.models import Customer, Purchase
from storage.repositories import Repositories

CASHBACK, REDEEM, REFERRAL = "cashback", "redeem", "referral"
REFERRAL_PREFIX = "r_"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    delta: int
    reason: str
    at: datetime


def new_referral_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def points_of(amount_minor: int, percent: int) -> int:
    """Cashback on what was paid, in whole points (rounded down)."""
    return amount_minor * percent // 100 // 100


async def check_points(repos: Repositories, customer_id: int, points: int, price_minor: int) -> int:
    """How much `points` take off a sale (minor units); never below a zero balance or price."""
    if points <= 0:
        raise InputError("error-points-positive")
    # The balance is read under the customer's row lock and the spend is written in the same
    # transaction, so two sales paying at once cannot both pass a check made before either.
    await repos.customers.lock(customer_id)
    balance = await repos.growth.balance(customer_id)
    if points > balance:
        raise InputError("error-points-balance", balance=balance)
    if points * 100 > price_minor:
        raise InputError("error-points-price")
    return points * 100


async def spend_points(
    repos: Repositories, customer_id: int, points: int, purchase_id: int, now: datetime
) -> None:
    await repos.growth.add_points(
        customer_id=customer_id,
        delta=-points,
        reason=REDEEM,
        purchase_id=purchase_id,
        created_at=now,
    )


async def after_sale(
    repos: Repositories,
    customer: Customer,
    purchase: Purchase,
    profile: ShopProfile,
    now: datetime,
) -> int:
    """Cashback for the buyer and, on a referred friend's first purchase, the referrer's bonus.

    Returns the buyer's new balance.
    """
    earned = points_of(purchase.amount, profile.cashback_percent)
    if earned:
        await repos.growth.add_points(
            customer_id=customer.id,
            delta=earned,
            reason=CASHBACK,
            purchase_id=purchase.id,
            created_at=now,
        )
    if customer.referred_by is not None and profile.referral_bonus > 0:
        await _referral_bonus(repos, customer, purchase, profile, now)
    return await repos.growth.balance(customer.id)


async def recompute_cashback(
    repos: Repositories, purchase: Purchase, profile: ShopProfile, now: datetime
) -> int:
    """After a sale's amount changed: one ledger line that brings its cashback to what the
    new amount earns. Returns the customer's new balance."""
    earned = points_of(purchase.amount, profile.cashback_percent)
    so_far = await repos.growth.purchase_points(purchase.id, CASHBACK)
    if earned != so_far:
        await repos.growth.add_points(
            customer_id=purchase.customer_id,
            delta=earned - so_far,
            reason=CASHBACK,
            purchase_id=purchase.id,
            created_at=now,
        )
    return await repos.growth.balance(purchase.customer_id)


async def _referral_bonus(
    repos: Repositories, friend: Customer, purchase: Purchase, profile: ShopProfile, now: datetime
) -> None:
    if await repos.growth.purchase_count(friend.id) != 1:
        return  # only the friend's first purchase counts
    referrer = await repos.customers.get(friend.referred_by or 0)
    if referrer is None or referrer.id == friend.id:
        return
    # One bonus per friend, ever: the ledger's unique referral key refuses a second one.
    paid = await repos.growth.add_points(
        customer_id=referrer.id,
        delta=profile.referral_bonus,
        reason=REFERRAL,
        purchase_id=purchase.id,
        referral_key=f"friend:{friend.id}",
        created_at=now,
    )
    if not paid:
        return
    for person, kind in ((referrer, ReferralBonus), (friend, ReferralFriend)):
        if person.telegram_id is None or person.blocked_at is not None:
            continue
        payload = kind(
            points=profile.referral_bonus,
            friend=friend.name or "",
            referrer=referrer.name or "",
            balance=await repos.growth.balance(person.id),
        )
        key = f"{kind.kind}:{friend.id}"
        await enqueue(repos, Outgoing(key, person.telegram_id, person.id, now, payload), now)


async def ensure_referral_code(repos: Repositories, customer: Customer) -> str:
    if customer.referral_code is None:
        customer.referral_code = new_referral_code()
        await repos.session.flush()
    return customer.referral_code


async def ledger(repos: Repositories, customer_id: int, limit: int = 10) -> list[LedgerLine]:
    rows = await repos.growth.ledger(customer_id, limit)
    return [LedgerLine(row.delta, row.reason, row.created_at) for row in rows]
