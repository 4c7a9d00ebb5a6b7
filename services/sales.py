"""Logging sales: the owner's most frequent job.

Each thing the owner does is one method of SalesService and one transaction; the rules it is
made of (find the repeat, record the sale, queue the thank-you) are functions taking the
repositories, so another use case (a booking marked done) runs them inside its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.catalogue import require_service_by_name
from services.customers import NewCustomer, add_offline_customer, customer_totals, find_or_describe
from services.dto import CustomerCard, CustomerTotals, SaleLine, SaleReceipt
from services.errors import InputError
from services.loyalty import after_sale, check_points, spend_points
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Thanks, load, to_json
from services.parsing import parse_date, split_sale_command
from services.promo import redeem
from services.shop import ShopProfile, profile_from
from storage.database import Database
from storage.models import Customer, Purchase
from storage.repositories import Repositories

# A past sale entered with a date only is placed at local noon: the day is right in any zone.
_PAST_SALE_TIME = time(12, 0)
MAX_BACKDATE_DAYS = 366 * 5
# An owner who saw no receipt (a slow network, a flood limit) types the sale again; the same
# customer, amount and service within this window is most likely that retry, so it is
# confirmed first. Longer, and a real second visit the same day would be questioned.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RepeatSale:
    """A sale just like the one being logged, logged a moment ago."""

    purchase_id: int
    minutes_ago: int


@dataclass(frozen=True, slots=True)
class SaleDraft:
    """A one-line sale read and checked, waiting for the owner's answer to a question."""

    customer_id: int | None  # None while the customer is a newcomer not yet added
    amount: int
    service_id: int | None
    day: date | None
    code: str | None
    points: int


@dataclass(frozen=True, slots=True)
class AskNewCustomer:
    """Nobody has this phone or name: offer to add them and log the sale."""

    draft: SaleDraft
    newcomer: NewCustomer
    currency: str


@dataclass(frozen=True, slots=True)
class AskFreeVisit:
    """An amount of 0: a free visit, or a typo?"""

    draft: SaleDraft
    customer: CustomerCard


@dataclass(frozen=True, slots=True)
class AskRepeat:
    """The same sale was logged minutes ago: most likely a retype."""

    draft: SaleDraft
    repeat: RepeatSale


# What a one-line /sale ends in: the receipt, or the one question to ask first.
OneLineSale = SaleReceipt | AskNewCustomer | AskFreeVisit | AskRepeat


class SalesService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()

    def earliest_date(self, now: datetime) -> date:
        return self.today(now) - timedelta(days=MAX_BACKDATE_DAYS)

    def moment_of(self, day: date | None, now: datetime) -> datetime:
        return sale_moment(day, now, self._zone)

    async def log_one_line(
        self, args: str, now: datetime, profile: ShopProfile | None = None
    ) -> OneLineSale:
        """`/sale <customer> <amount> [service] [day] [code] [points]`, in one transaction:
        the service by name, the customer (or the newcomer to offer), the free-visit and
        repeat questions, and the sale. `profile` is the one the update already read."""
        parsed = split_sale_command(args)
        async with self._db.transaction() as repos:
            # The rest of the line is checked first: adding a customer is offered for a sale
            # that fits.
            service = (
                await require_service_by_name(repos, parsed.service) if parsed.service else None
            )
            day = (
                parse_date(parsed.day, today=self.today(now), earliest=self.earliest_date(now))
                if parsed.day
                else None
            )
            if parsed.amount == 0 and (parsed.code or parsed.points):
                raise InputError("datafix-free-visit-extras")
            draft = SaleDraft(
                customer_id=None,
                amount=parsed.amount,
                service_id=service.id if service else None,
                day=day,
                code=parsed.code,
                points=parsed.points or 0,
            )
            found = await find_or_describe(repos, parsed.customer)
            profile = profile or profile_from(await repos.settings.all())
            if isinstance(found, NewCustomer):
                return AskNewCustomer(draft, found, profile.currency)
            draft = replace(draft, customer_id=found.id)
            if parsed.amount == 0:
                # 0 is a typo as often as a warranty fix: it is logged only once confirmed.
                return AskFreeVisit(draft, CustomerCard.of(found))
            repeat = await find_repeat(repos, self._zone, draft, now)
            if repeat is not None:
                return AskRepeat(draft, repeat)
            return await record_sale(
                repos,
                found,
                amount=draft.amount,
                service_id=draft.service_id,
                purchased_at=self.moment_of(day, now),
                now=now,
                code=draft.code,
                points=draft.points,
                profile=profile,
            )

    async def log_sale(
        self,
        *,
        customer_id: int,
        amount: int,
        service_id: int | None,
        day: date | None,
        now: datetime,
        code: str | None = None,
        points: int = 0,
        free_visit: bool = False,
        profile: ShopProfile | None = None,
    ) -> SaleReceipt:
        """Record a sale (with a promo code, points paid) and queue the customer's thank-you.

        An amount of 0 is taken only as a confirmed free visit (a warranty fix, a gift): it
        counts as a visit (cycles, visit counts), not as revenue, and takes no code or points.
        """
        _check_amount(amount, free_visit=free_visit, code=code, points=points)
        async with self._db.transaction() as repos:
            customer = await repos.customers.get(customer_id)
            if customer is None:
                raise InputError("error-customer-gone")
            return await record_sale(
                repos,
                customer,
                amount=amount,
                service_id=service_id,
                purchased_at=self.moment_of(day, now),
                now=now,
                code=code,
                points=points,
                free_visit=free_visit,
                profile=profile,
            )

    async def log_sale_for_new_customer(
        self,
        *,
        name: str | None,
        phone: str | None,
        amount: int,
        service_id: int | None,
        day: date | None,
        now: datetime,
        code: str | None = None,
        points: int = 0,
        profile: ShopProfile | None = None,
    ) -> SaleReceipt:
        """Add the customer the owner named (as /addcustomer does) and log their sale: one
        transaction, so a sale that fails leaves no customer behind."""
        _check_amount(amount, free_visit=False, code=code, points=points)
        async with self._db.transaction() as repos:
            customer = await add_offline_customer(repos, name, phone, now)
            return await record_sale(
                repos,
                customer,
                amount=amount,
                service_id=service_id,
                purchased_at=self.moment_of(day, now),
                now=now,
                code=code,
                points=points,
                profile=profile,
            )

    async def recent_repeat(
        self,
        *,
        customer_id: int,
        amount: int,
        service_id: int | None,
        day: date | None,
        now: datetime,
        points: int = 0,
        code: str | None = None,
    ) -> RepeatSale | None:
        """See find_repeat; its own read, for callers outside a use case."""
        draft = SaleDraft(customer_id, amount, service_id, day, code, points)
        async with self._db.reading() as repos:
            return await find_repeat(repos, self._zone, draft, now)

    async def active_code(self, customer_id: int, now: datetime) -> tuple[str, int] | None:
        """The customer's usable promo code and its percent, to offer at the counter."""
        async with self._db.reading() as repos:
            codes = await repos.retention.active_promo_codes(customer_id, now)
        return (codes[0].code, codes[0].percent) if codes else None

    async def points_balance(self, customer_id: int) -> int:
        async with self._db.reading() as repos:
            return await repos.growth.balance(customer_id)

    async def recent(self, limit: int = 10) -> list[SaleLine]:
        async with self._db.reading() as repos:
            rows = await repos.purchases.recent(limit)
        return [
            SaleLine(r.id, r.customer_id, r.customer_name, r.service_name, r.amount, r.purchased_at)
            for r in rows
        ]

    async def delete(self, purchase_id: int) -> SaleLine | None:
        """Delete a wrongly logged sale (one transaction); None when it is already gone."""
        async with self._db.transaction() as repos:
            purchase = await repos.purchases.get(purchase_id)
            if purchase is None:
                return None
            customer = await repos.customers.get(purchase.customer_id)
            service = (
                await repos.catalogue.get(purchase.service_id) if purchase.service_id else None
            )
            line = SaleLine(
                purchase.id,
                purchase.customer_id,
                customer.name if customer else None,
                service.name if service else None,
                purchase.amount,
                purchase.purchased_at,
            )
            await repos.purchases.detach(purchase.id)
            await repos.purchases.delete(purchase)
            return line


def sale_moment(day: date | None, now: datetime, zone: ZoneInfo) -> datetime:
    """When a sale happened: now for today, local noon of a past day."""
    if day is None or day == now.astimezone(zone).date():
        return now
    return datetime.combine(day, _PAST_SALE_TIME, tzinfo=zone)


async def find_repeat(
    repos: Repositories, zone: ZoneInfo, draft: SaleDraft, now: datetime
) -> RepeatSale | None:
    """The same sale (customer, amount as typed, service, day, points paid, with or without
    a code) logged within REPEAT_WINDOW.

    A different day is a different sale (a past visit entered now), not a retype; so is
    the same amount paid with other points: the owner is settling a new visit.
    """
    assert draft.customer_id is not None
    wanted_day = draft.day or now.astimezone(zone).date()
    rows = await repos.purchases.logged_since(
        customer_id=draft.customer_id, service_id=draft.service_id, since=now - REPEAT_WINDOW
    )
    for row in rows:
        # What was typed is the price before a promo code and points (a point is one
        # unit of the currency: 100 minor units) took their part.
        typed = row.amount + row.discount + row.points_used * 100
        same_extras = row.points_used == draft.points and (row.discount > 0) == bool(draft.code)
        local_day = row.purchased_at.astimezone(zone).date()
        if typed == draft.amount and same_extras and local_day == wanted_day:
            minutes = int((now - row.created_at).total_seconds() // 60)
            return RepeatSale(row.id, max(minutes, 1))
    return None


async def record_sale(
    repos: Repositories,
    customer: Customer,
    *,
    amount: int,
    service_id: int | None,
    purchased_at: datetime,
    now: datetime,
    code: str | None = None,
    points: int = 0,
    free_visit: bool = False,
    profile: ShopProfile | None = None,
) -> SaleReceipt:
    """The rule of logging a sale, inside the caller's transaction: the code redeemed, the
    points spent, the cashback earned, the thank-you queued; the receipt to show.

    `profile` is the shop profile the caller already holds; without one it is read here.
    """
    _check_amount(amount, free_visit=free_visit, code=code, points=points)
    customer_id = customer.id
    service_name = None
    if service_id is not None:
        service = await repos.catalogue.get(service_id)
        if service is None:
            raise InputError("error-service-unknown")
        service_name = service.name
    discount = None
    if code:
        discount = await redeem(repos, code, customer_id=customer_id, amount=amount, now=now)
    price = amount - (discount.amount if discount else 0)
    points_off = await check_points(repos, customer_id, points, price) if points else 0
    purchase = await repos.purchases.add(
        customer_id=customer_id,
        service_id=service_id,
        amount=price - points_off,
        discount=discount.amount if discount else 0,
        points_used=points,
        purchased_at=purchased_at,
        created_at=now,
    )
    if discount:
        used = await repos.retention.promo_code(discount.code)
        assert used is not None
        used.purchase_id = purchase.id
    if points:
        await spend_points(repos, customer_id, points, purchase.id, now)
    profile = profile or profile_from(await repos.settings.all())
    balance = await after_sale(repos, customer, purchase, profile, now)
    totals = await customer_totals(repos, customer_id)
    await queue_thanks(repos, customer, purchase, service_id, totals, now, balance)
    return SaleReceipt(
        purchase_id=purchase.id,
        customer=CustomerCard.of(customer),
        service_name=service_name,
        amount=purchase.amount,
        purchased_at=purchase.purchased_at,
        is_repeat=await repos.purchases.has_earlier(purchase),
        totals=totals,
        currency=profile.currency,
        discount=purchase.discount,
        code=discount.code if discount else None,
        points_used=points,
        points_balance=balance,
    )


def _check_amount(amount: int, *, free_visit: bool, code: str | None, points: int) -> None:
    if amount < 0 or (amount == 0 and not free_visit):
        raise InputError("error-money-zero")
    if amount == 0 and (code or points):
        raise InputError("datafix-free-visit-extras")


# A sale entered days later gets no thank-you: it would arrive out of the blue.
THANKS_WITHIN = timedelta(days=1)


async def refresh_thanks(
    repos: Repositories, purchase: Purchase, totals: CustomerTotals, balance: int
) -> bool:
    """A corrected sale: the queued thank-you, if not sent yet, tells the new figures."""
    row = await repos.outbox.by_key(f"thanks:{purchase.id}")
    if row is None:
        return False
    payload = dataclasses.replace(
        load(Thanks, row.payload),
        amount=purchase.amount,
        visits=totals.visits,
        total=totals.total,
        points=balance,
    )
    return await repos.outbox.replace_pending_payload(row.dedup_key, to_json(payload))


async def queue_thanks(
    repos: Repositories,
    customer: Customer,
    purchase: Purchase,
    service_id: int | None,
    totals: CustomerTotals,
    now: datetime,
    balance: int,
) -> None:
    """A thank-you with the customer's totals and, if they agreed to offers, one suggestion."""
    if customer.telegram_id is None or customer.blocked_at is not None:
        return
    if customer.registered_at is None and customer.source == "business":
        return  # issue 11: met in the owner's own chat, never started the bot: it cannot write
    if purchase.purchased_at < now - THANKS_WITHIN:
        return
    suggestion = None
    if service_id is not None and customer.consent:
        suggestion = await repos.retention.owner_cross_sell(service_id)
        if suggestion is None:
            suggestion = await repos.retention.co_bought(service_id)
    payload = Thanks(
        name=customer.name or "",
        amount=purchase.amount,
        visits=totals.visits,
        total=totals.total,
        suggestion=suggestion,
        points=balance,
    )
    message = Outgoing(f"thanks:{purchase.id}", customer.telegram_id, customer.id, now, payload)
    await enqueue(repos, message, now)
