"""SQL for the owner's customer list in the Mini App: one summary row per customer, searched,
sorted and paged in the database, and one customer's purchase history (issue 12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Purchase, Service

# Sort keys the database can order by itself; "predicted" and "risk" come from the model.
SQL_SORTS = ("last_visit", "total")


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    id: int
    name: str | None
    phone: str | None
    telegram_id: int | None
    blocked: bool
    last_visit: datetime | None
    visits: int
    total: int


@dataclass(frozen=True, slots=True)
class HistoryLine:
    purchased_at: datetime
    service: str | None
    amount: int


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class CustomerListQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _totals(self) -> Any:
        return (
            select(
                Purchase.customer_id.label("customer_id"),
                func.count(Purchase.id).label("visits"),
                func.coalesce(func.sum(Purchase.amount), 0).label("total"),
                func.max(Purchase.purchased_at).label("last_visit"),
            )
            .group_by(Purchase.customer_id)
            .subquery()
        )

    def _matching(
        self, folded: str | None, digits: str | None, customer_id: int | None = None
    ) -> list[Any]:
        """Forgotten customers stay out of the list (they are numbers only now)."""
        conditions: list[Any] = [Customer.forgotten_at.is_(None)]
        found: list[Any] = []
        if customer_id is not None:
            found.append(Customer.id == customer_id)
        if folded:
            found.append(Customer.search_name.like(_like(folded), escape="\\"))
            found.append(func.lower(Customer.username).like(_like(folded), escape="\\"))
        if digits:
            found.append(Customer.phone.like(_like(digits), escape="\\"))
        if found:
            conditions.append(or_(*found))
        return conditions

    async def page(
        self,
        *,
        folded: str | None,
        digits: str | None,
        sort: str,
        offset: int,
        limit: int,
        customer_id: int | None = None,
    ) -> tuple[int, list[CustomerSummary]]:
        """(how many match, one page of them) ordered by `sort` (SQL_SORTS), best first."""
        totals = self._totals()
        where = self._matching(folded, digits, customer_id)
        count = await self._session.scalar(select(func.count(Customer.id)).where(*where))
        key = totals.c.last_visit if sort == "last_visit" else totals.c.total
        # Customers without purchases last; ties by id so pages never overlap.
        order = [key.is_(None), key.desc(), Customer.id]
        rows = await self._session.execute(
            self._select(totals).where(*where).order_by(*order).offset(offset).limit(limit)
        )
        return int(count or 0), [_summary(row) for row in rows.all()]

    async def matching_ids(
        self, *, folded: str | None, digits: str | None, customer_id: int | None = None
    ) -> list[int]:
        where = self._matching(folded, digits, customer_id)
        rows = await self._session.scalars(select(Customer.id).where(*where).order_by(Customer.id))
        return list(rows.all())

    async def summaries(self, customer_ids: Sequence[int]) -> dict[int, CustomerSummary]:
        if not customer_ids:
            return {}
        totals = self._totals()
        rows = await self._session.execute(
            self._select(totals).where(Customer.id.in_(list(customer_ids)))
        )
        return {summary.id: summary for summary in map(_summary, rows.all())}

    def _select(self, totals: Any) -> Any:
        return select(
            Customer.id,
            Customer.name,
            Customer.phone,
            Customer.telegram_id,
            Customer.blocked_at,
            totals.c.last_visit,
            totals.c.visits,
            totals.c.total,
        ).outerjoin(totals, and_(totals.c.customer_id == Customer.id))

    async def history(self, customer_id: int, limit: int) -> list[HistoryLine]:
        """The customer's purchases, newest first."""
        rows = await self._session.execute(
            select(Purchase.purchased_at, Service.name, Purchase.amount)
            .outerjoin(Service, Service.id == Purchase.service_id)
            .where(Purchase.customer_id == customer_id)
            .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
            .limit(limit)
        )
        return [HistoryLine(at, name, int(amount)) for at, name, amount in rows.all()]


def _summary(row: Any) -> CustomerSummary:
    return CustomerSummary(
        id=row.id,
        name=row.name,
        phone=row.phone,
        telegram_id=row.telegram_id,
        blocked=row.blocked_at is not None,
        last_visit=row.last_visit,
        visits=int(row.visits or 0),
        total=int(row.total or 0),
    )
