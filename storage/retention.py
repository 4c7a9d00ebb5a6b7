"""SQL for the retention scans: who is due for a reminder, a birthday gift, a rating question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Booking,
    CrossSell,
    Customer,
    OutboxMessage,
    PromoCode,
    Purchase,
    Rating,
    Service,
)
from storage.outbox import OutboxStatus


@dataclass(frozen=True, slots=True)
class CycleRow:
    customer_id: int
    chat_id: int
    name: str | None
    service_id: int
    service_name: str
    cycle_days: int
    last_at: datetime
    purchases: int


@dataclass(frozen=True, slots=True)
class BirthdayRow:
    customer_id: int
    chat_id: int
    name: str | None
    day: int
    month: int
    set_at: datetime | None
    set_by: str | None  # "customer" | "owner"; None: entered before this was recorded


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    purchase_id: int
    customer_id: int
    chat_id: int
    purchased_at: datetime
    service_name: str | None


def _reachable_with_consent() -> list[object]:
    return [
        Customer.telegram_id.is_not(None),
        Customer.blocked_at.is_(None),
        Customer.consent.is_(True),
    ]


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def cycle_rows(self) -> Sequence[CycleRow]:
        """Per customer who agreed to offers and service with a cycle: last purchase and count."""
        result = await self._session.execute(
            select(
                Customer.id,
                Customer.telegram_id,
                Customer.name,
                Service.id,
                Service.name,
                Service.cycle_days,
                func.max(Purchase.purchased_at),
                func.count(Purchase.id),
            )
            .join(Purchase, Purchase.customer_id == Customer.id)
            .join(Service, Service.id == Purchase.service_id)
            .where(
                *_reachable_with_consent(),  # type: ignore[arg-type]
                Service.cycle_days.is_not(None),
                Service.archived.is_(False),
            )
            .group_by(Customer.id, Customer.telegram_id, Customer.name, Service.id)
        )
        return [CycleRow(*row) for row in result.all()]  # type: ignore[arg-type]

    async def purchase_times(self, customer_id: int, service_id: int) -> list[datetime]:
        rows = await self._session.scalars(
            select(Purchase.purchased_at)
            .where(Purchase.customer_id == customer_id, Purchase.service_id == service_id)
            .order_by(Purchase.purchased_at)
        )
        return list(rows.all())

    async def has_future_booking(self, customer_id: int, now: datetime) -> bool:
        found = await self._session.scalar(
            select(Booking.id)
            .where(
                Booking.customer_id == customer_id,
                Booking.status == "booked",
                Booking.starts_at > now,
            )
            .limit(1)
        )
        return found is not None

    async def acted_since(self, customer_id: int, since: datetime) -> bool:
        """A purchase or a booking made after `since`."""
        bought = await self._session.scalar(
            select(Purchase.id)
            .where(Purchase.customer_id == customer_id, Purchase.purchased_at > since)
            .limit(1)
        )
        if bought is not None:
            return True
        booked = await self._session.scalar(
            select(Booking.id)
            .where(Booking.customer_id == customer_id, Booking.created_at > since)
            .limit(1)
        )
        return booked is not None

    async def unanswered_reminders(
        self, kind: str, sent_before: datetime
    ) -> Sequence[OutboxMessage]:
        rows = await self._session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == kind,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.reaction.is_(None),
                OutboxMessage.sent_at <= sent_before,
            )
        )
        return rows.all()

    async def birthday_rows(self) -> Sequence[BirthdayRow]:
        result = await self._session.execute(
            select(
                Customer.id,
                Customer.telegram_id,
                Customer.name,
                Customer.birth_day,
                Customer.birth_month,
                Customer.birthday_set_at,
                Customer.birthday_set_by,
            ).where(
                *_reachable_with_consent(),  # type: ignore[arg-type]
                Customer.birth_day.is_not(None),
                Customer.birth_month.is_not(None),
            )
        )
        return [BirthdayRow(*row) for row in result.all()]  # type: ignore[arg-type]

    async def add_promo_code(self, **values: object) -> PromoCode:
        code = PromoCode(**values)
        self._session.add(code)
        await self._session.flush()
        return code

    async def promo_code(self, code: str, *, lock: bool = False) -> PromoCode | None:
        """A code by its text; `lock` holds its row (FOR UPDATE) until the transaction ends."""
        query = select(PromoCode).where(PromoCode.code == code)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        rows = await self._session.scalars(query)
        return rows.first()

    async def active_promo_codes(self, customer_id: int, now: datetime) -> Sequence[PromoCode]:
        rows = await self._session.scalars(
            select(PromoCode)
            .where(
                PromoCode.customer_id == customer_id,
                PromoCode.used_at.is_(None),
                PromoCode.valid_from <= now,
                PromoCode.valid_until >= now,
            )
            .order_by(PromoCode.valid_until)
        )
        return rows.all()

    async def feedback_rows(
        self, created_from: datetime, created_to: datetime
    ) -> Sequence[FeedbackRow]:
        """Recent purchases of reachable customers that have no rating yet."""
        result = await self._session.execute(
            select(
                Purchase.id,
                Customer.id,
                Customer.telegram_id,
                Purchase.purchased_at,
                Service.name,
            )
            .join(Customer, Customer.id == Purchase.customer_id)
            .outerjoin(Service, Service.id == Purchase.service_id)
            .outerjoin(Rating, Rating.purchase_id == Purchase.id)
            .where(
                Customer.telegram_id.is_not(None),
                Customer.blocked_at.is_(None),
                Rating.id.is_(None),
                and_(Purchase.created_at >= created_from, Purchase.created_at <= created_to),
                Purchase.purchased_at >= created_from,
            )
            .order_by(Purchase.id)
        )
        return [FeedbackRow(*row) for row in result.all()]  # type: ignore[arg-type]

    async def add_rating(self, **values: object) -> Rating:
        rating = Rating(**values)
        self._session.add(rating)
        await self._session.flush()
        return rating

    async def rating_of(self, purchase_id: int) -> Rating | None:
        rows = await self._session.scalars(select(Rating).where(Rating.purchase_id == purchase_id))
        return rows.first()

    async def owner_cross_sell(self, service_id: int) -> str | None:
        return await self._session.scalar(
            select(Service.name)
            .join(CrossSell, CrossSell.suggested_id == Service.id)
            .where(CrossSell.service_id == service_id, Service.archived.is_(False))
        )

    async def co_bought(self, service_id: int) -> str | None:
        """The service most often bought by customers who bought `service_id`."""
        buyers = select(Purchase.customer_id).where(Purchase.service_id == service_id)
        result = await self._session.execute(
            select(Service.name, func.count(Purchase.id).label("n"))
            .join(Purchase, Purchase.service_id == Service.id)
            .where(
                Purchase.customer_id.in_(buyers),
                Service.id != service_id,
                Service.archived.is_(False),
            )
            .group_by(Service.id, Service.name)
            .order_by(func.count(Purchase.id).desc(), Service.id)
            .limit(1)
        )
        row = result.first()
        return row[0] if row else None
