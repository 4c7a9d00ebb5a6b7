"""Who the customers are: registration, the owner's offline records, finding someone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.birthdays import SET_BY_CUSTOMER, SET_BY_OWNER
from services.dto import CustomerCard, CustomerTotals
from services.errors import InputError
from services.loyalty import REFERRAL_PREFIX, LedgerLine, ensure_referral_code, ledger
from services.parsing import (
    MAX_TEXT,
    Birthday,
    clean_text,
    looks_like_phone,
    parse_phone,
    strip_controls,
)
from storage.database import Database
from storage.models import Customer
from storage.repositories import Repositories

SEARCH_LIMIT = 10
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def fold(name: str) -> str:
    return " ".join(name.casefold().split())


@dataclass(frozen=True, slots=True)
class TelegramPerson:
    """What Telegram tells us about the person who wrote."""

    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language: str | None = None

    @property
    def full_name(self) -> str:
        """First and last name as one line, without control characters (a NUL breaks SQL)."""
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return " ".join(strip_controls(joined).split())[:MAX_TEXT]

    @property
    def language_code(self) -> str | None:
        """The base language of Telegram's tag ("sr" for "sr-Latn-RS"), as Customer.language
        holds it (8 characters) and as the bot picks its texts by."""
        base = re.split(r"[-_]", (self.language or "").strip(), maxsplit=1)[0].lower()
        return base if re.fullmatch(r"[a-z]{2,8}", base) else None


@dataclass(frozen=True, slots=True)
class LoyaltyCard:
    balance: int
    lines: list[LedgerLine]
    referral_code: str  # the deep-link payload: t.me/<bot>?start=<referral_code>


@dataclass(frozen=True, slots=True)
class StartResult:
    customer: CustomerCard
    created: bool


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    customer: CustomerCard
    completed_now: bool  # False when the person had already finished registration before


class CustomerService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self, person: TelegramPerson, payload: str | None, now: datetime
    ) -> StartResult:
        """Find or create the customer behind a /start; the deep-link payload is the source."""
        source = payload if payload and _PAYLOAD.match(payload) else None
        async with self._db.transaction() as repos:
            row = await repos.customers.by_telegram_id(person.telegram_id)
            created = row is None
            if row is None:
                referrer = None
                if source and source.startswith(REFERRAL_PREFIX):
                    # Only a brand-new customer counts as brought by a friend.
                    referrer = await repos.customers.by_referral_code(
                        source.removeprefix(REFERRAL_PREFIX)
                    )
                    source = "referral" if referrer else None
                elif source:
                    # Imported here: services.growth builds on this module.
                    from services.growth import source_of_payload

                    source = await source_of_payload(repos, source)
                row = await add_from_telegram(
                    repos,
                    person,
                    now,
                    source=source,
                    referred_by=referrer.id if referrer else None,
                )
            else:
                # First touch wins: a later deep link does not rewrite where they came from.
                row.username = person.username
            return StartResult(CustomerCard.of(row), created)

    async def set_phone(self, telegram_id: int, phone_text: str) -> CustomerCard:
        """Attach a phone; an offline record with that phone (added by the owner) is merged in."""
        phone = parse_phone(phone_text)
        async with self._db.transaction() as repos:
            me = await self._require(repos, telegram_id)
            holder = await repos.customers.by_phone(phone)
            if holder is None or holder.id == me.id:
                me.phone = phone
                return CustomerCard.of(me)
            if holder.telegram_id is not None:
                raise InputError("error-phone-other-account")
            return CustomerCard.of(await _merge_into_offline(repos, holder, me))

    async def set_birthday(self, telegram_id: int, birthday: Birthday, now: datetime) -> None:
        async with self._db.transaction() as repos:
            me = await self._require(repos, telegram_id)
            if me.birth_day is not None and me.registered_at is not None:
                raise InputError("error-birthday-ask-owner")
            me.birth_day, me.birth_month, me.birth_year = (
                birthday.day,
                birthday.month,
                birthday.year,
            )
            me.birthday_set_at = now
            me.birthday_set_by = SET_BY_CUSTOMER

    async def finish_registration(
        self, telegram_id: int, consent: bool, now: datetime
    ) -> RegistrationResult:
        async with self._db.transaction() as repos:
            me = await self._require(repos, telegram_id)
            me.consent = consent
            completed_now = me.registered_at is None
            if completed_now:
                me.registered_at = now
            return RegistrationResult(CustomerCard.of(me), completed_now)

    async def add_offline(
        self, name_text: str | None, phone_text: str | None, now: datetime
    ) -> CustomerCard:
        """A customer who is not on Telegram, added by the owner (a name, a phone, or both)."""
        async with self._db.transaction() as repos:
            return CustomerCard.of(await add_offline_customer(repos, name_text, phone_text, now))

    async def find(self, query: str) -> list[CustomerCard]:
        """Customers matching a phone, @username, #id, Telegram id or part of a name."""
        async with self._db.reading() as repos:
            return [CustomerCard.of(row) for row in await find_customers(repos, query)]

    async def set_birthday_by_owner(
        self, customer_id: int, birthday: Birthday, now: datetime
    ) -> CustomerCard:
        """Only the owner changes a birthday once it is set (customers could chase the gift)."""
        async with self._db.transaction() as repos:
            row = await repos.customers.get(customer_id)
            if row is None:
                raise InputError("error-customer-gone")
            row.birth_day, row.birth_month, row.birth_year = (
                birthday.day,
                birthday.month,
                birthday.year,
            )
            row.birthday_set_at = now
            row.birthday_set_by = SET_BY_OWNER
            return CustomerCard.of(row)

    async def find_or_describe(self, query: str) -> CustomerCard | NewCustomer:
        """The one customer the query names or, when nobody matches a phone or a name, the
        customer the owner may add from it (a one-line sale offers that)."""
        async with self._db.reading() as repos:
            found = await find_or_describe(repos, query)
            return found if isinstance(found, NewCustomer) else CustomerCard.of(found)

    async def find_one(self, query: str) -> CustomerCard:
        """Exactly one customer, or an error that says there are none or several."""
        async with self._db.reading() as repos:
            return CustomerCard.of(await find_one_customer(repos, query))

    async def card(self, customer_id: int) -> CustomerCard | None:
        async with self._db.reading() as repos:
            row = await repos.customers.get(customer_id)
            return CustomerCard.of(row) if row else None

    async def card_by_telegram(self, telegram_id: int) -> CustomerCard | None:
        async with self._db.reading() as repos:
            row = await repos.customers.by_telegram_id(telegram_id)
            return CustomerCard.of(row) if row else None

    async def loyalty(self, customer_id: int) -> LoyaltyCard:
        """Points balance, the latest ledger lines and the personal referral code."""
        async with self._db.transaction() as repos:
            row = await repos.customers.get(customer_id)
            if row is None:
                raise InputError("error-customer-gone")
            code = await ensure_referral_code(repos, row)
            return LoyaltyCard(
                balance=await repos.growth.balance(customer_id),
                lines=await ledger(repos, customer_id),
                referral_code=REFERRAL_PREFIX + code,
            )

    async def totals(self, customer_id: int) -> CustomerTotals:
        async with self._db.reading() as repos:
            return await customer_totals(repos, customer_id)

    async def _require(self, repos: Repositories, telegram_id: int) -> Customer:
        row = await repos.customers.by_telegram_id(telegram_id)
        if row is None:
            raise InputError("error-not-registered")
        return row


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """Who to add when a query found nobody: the name or the phone it was."""

    name: str | None
    phone: str | None

    @property
    def shown(self) -> str:
        return self.name or self.phone or ""


def describe_newcomer(query: str) -> NewCustomer | None:
    """A phone or a name becomes a new customer; an @username, #number or id cannot."""
    text = " ".join(query.split())
    try:
        if looks_like_phone(text):
            return NewCustomer(name=None, phone=parse_phone(text))
        if text[:1] in {"@", "#", "+"} or text[:1].isdigit():
            return None
        return NewCustomer(name=clean_text(text), phone=None)
    except InputError:
        return None


async def find_customers(repos: Repositories, query: str) -> list[Customer]:
    """Customers matching a phone, @username, #id, Telegram id or part of a name."""
    text = query.strip()
    if not text:
        raise InputError("error-customer-query-empty")
    if len(text) > MAX_TEXT:
        raise InputError("error-customer-query-long")
    return await _search(repos, text)


async def find_one_customer(repos: Repositories, query: str) -> Customer:
    """Exactly one customer, or an error that says there are none or several."""
    found = await find_customers(repos, query)
    if not found:
        raise InputError("error-customer-not-found")
    if len(found) > 1:
        labels = "\n".join(CustomerCard.of(row).label for row in found[:5])
        raise InputError("error-customer-ambiguous", matches=labels)
    return found[0]


async def find_or_describe(repos: Repositories, query: str) -> Customer | NewCustomer:
    """The one customer the query names or, when nobody matches a phone or a name, the
    customer the owner may add from it."""
    try:
        return await find_one_customer(repos, query)
    except InputError as error:
        newcomer = describe_newcomer(query) if error.code == "error-customer-not-found" else None
        if newcomer is None:
            raise
        return newcomer


async def add_offline_customer(
    repos: Repositories, name_text: str | None, phone_text: str | None, now: datetime
) -> Customer:
    """The owner's record of a customer (the /addcustomer path), checked and saved."""
    if name_text is None and phone_text is None:
        raise InputError("error-addcustomer-usage")
    name = clean_text(name_text) if name_text is not None else None
    phone = parse_phone(phone_text) if phone_text is not None else None
    if phone is not None:
        holder = await repos.customers.by_phone(phone)
        if holder is not None:
            raise InputError("error-phone-taken", who=CustomerCard.of(holder).label)
    return await repos.customers.add(
        name=name,
        search_name=fold(name) if name else None,
        phone=phone,
        source="offline",
        created_at=now,
    )


async def add_from_telegram(
    repos: Repositories, person: TelegramPerson, now: datetime, **extra: object
) -> Customer:
    """A new customer from what Telegram tells about them (a /start, a channel join)."""
    return await repos.customers.add(
        telegram_id=person.telegram_id,
        name=person.full_name or None,
        search_name=fold(person.full_name) or None,
        username=person.username,
        language=person.language_code,
        created_at=now,
        **extra,
    )


async def customer_totals(repos: Repositories, customer_id: int) -> CustomerTotals:
    totals = await repos.purchases.totals(customer_id)
    return CustomerTotals(totals.count, totals.amount, totals.first_at, totals.last_at)


async def _merge_into_offline(repos: Repositories, offline: Customer, online: Customer) -> Customer:
    """The owner's record survives (other rows may point at it); Telegram facts move onto it."""
    telegram_id = online.telegram_id
    await repos.customers.move_references(from_id=online.id, to_id=offline.id)
    keep = {
        "username": online.username,
        "language": online.language,
        "consent": online.consent,
        "registered_at": online.registered_at,
        "birthday_set_at": online.birthday_set_at,
        "birthday_set_by": online.birthday_set_by,
    }
    birthday = (online.birth_day, online.birth_month, online.birth_year)
    source = online.source
    await repos.customers.delete(online)
    offline.telegram_id = telegram_id
    for key, value in keep.items():
        if value is not None:
            setattr(offline, key, value)
    if birthday[0] is not None:
        offline.birth_day, offline.birth_month, offline.birth_year = birthday
    if source and offline.source in (None, "offline"):
        offline.source = source
    await repos.session.flush()
    return offline


async def _search(repos: Repositories, text: str) -> list[Customer]:
    if text.startswith("@"):
        row = await repos.customers.by_username(text[1:])
        return [row] if row else []
    if re.fullmatch(r"#\d{1,12}", text):
        row = await repos.customers.get(int(text[1:]))
        return [row] if row else []
    found: dict[int, Customer] = {}
    if looks_like_phone(text):
        try:
            row = await repos.customers.by_phone(parse_phone(text))
        except InputError:
            row = None
        if row:
            found[row.id] = row
    if text.isdigit() and len(text) <= 15:
        for row in (
            await repos.customers.get(int(text)) if len(text) <= 9 else None,
            await repos.customers.by_telegram_id(int(text)),
        ):
            if row:
                found[row.id] = row
    if found or re.fullmatch(r"[+\d\s\-()]+", text):
        return list(found.values())
    return list(await repos.customers.with_name_like(fold(text), SEARCH_LIMIT))
