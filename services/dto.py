"""Plain data that services hand to handlers and the CLI (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.parsing import Birthday
from storage.models import Customer, Service


@dataclass(frozen=True, slots=True)
class CustomerCard:
    id: int
    telegram_id: int | None
    name: str | None
    username: str | None
    phone: str | None
    birthday: Birthday | None
    language: str | None
    source: str | None
    consent: bool | None
    registered: bool

    @property
    def label(self) -> str:
        """How the owner recognises the customer in a list."""
        parts = [self.name or "—"]
        if self.username:
            parts.append("@" + self.username)
        if self.phone:
            parts.append(self.phone)
        return f"#{self.id} " + " · ".join(parts)

    @classmethod
    def of(cls, row: Customer) -> CustomerCard:
        birthday = None
        if row.birth_day and row.birth_month:
            birthday = Birthday(row.birth_day, row.birth_month, row.birth_year)
        return cls(
            id=row.id,
            telegram_id=row.telegram_id,
            name=row.name,
            username=row.username,
            phone=row.phone,
            birthday=birthday,
            language=row.language,
            source=row.source,
            consent=row.consent,
            registered=row.registered_at is not None,
        )


@dataclass(frozen=True, slots=True)
class ServiceItem:
    id: int
    name: str
    price: int
    cycle_days: int | None
    duration_minutes: int
    archived: bool

    @classmethod
    def of(cls, row: Service) -> ServiceItem:
        return cls(
            id=row.id,
            name=row.name,
            price=row.price,
            cycle_days=row.cycle_days,
            duration_minutes=row.duration_minutes,
            archived=row.archived,
        )


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    visits: int
    total: int
    first_visit: datetime | None
    last_visit: datetime | None


@dataclass(frozen=True, slots=True)
class SaleReceipt:
    purchase_id: int
    customer: CustomerCard
    service_name: str | None
    amount: int
    purchased_at: datetime
    is_repeat: bool
    totals: CustomerTotals
    currency: str  # the shop's, read in the sale's own transaction
    discount: int = 0
    code: str | None = None
    points_used: int = 0
    points_balance: int = 0


@dataclass(frozen=True, slots=True)
class SaleLine:
    purchase_id: int
    customer_id: int
    customer_name: str | None
    service_name: str | None
    amount: int
    purchased_at: datetime
