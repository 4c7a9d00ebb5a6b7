"""SQL about lost visits (issue 13): no-shows and late cancellations, counted in the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bookings import CANCELLED, DONE, NO_SHOW
from storage.models import Booking, OutboxMessage


@dataclass(frozen=True, slots=True)
class LostCounts:
    no_shows: int = 0
    late_cancels: int = 0

    @property
    def lost(self) -> int:
        return self.no_shows + self.late_cancels


@dataclass(frozen=True, slots=True)
class VisitCounts:
    """Booked visits that came due in a period: kept (done) and lost (no-show, late cancel)."""

    done: int
    no_shows: int
    late_cancels: int

    @property
    def booked(self) -> int:
        return self.done + self.no_shows + self.late_cancels

    @property
    def lost(self) -> int:
        return self.no_shows + self.late_cancels


_NO_SHOW = func.sum(case((Booking.status == NO_SHOW, 1), else_=0))
_LATE = func.sum(case(((Booking.status == CANCELLED) & Booking.late_cancel, 1), else_=0))
_DONE = func.sum(case((Booking.status == DONE, 1), else_=0))


class NoShowQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_customers(self, customer_ids: Collection[int]) -> dict[int, LostCounts]:
        """Each customer's no-shows and late cancellations (customers with none left out)."""
        if not customer_ids:
            return {}
        result = await self._session.execute(
            select(Booking.customer_id, _NO_SHOW, _LATE)
            .where(Booking.customer_id.in_(list(customer_ids)))
            .group_by(Booking.customer_id)
        )
        return {
            customer_id: LostCounts(int(no_shows or 0), int(late or 0))
            for customer_id, no_shows, late in result.all()
            if no_shows or late
        }

    async def visits_between(self, start: datetime, end: datetime) -> VisitCounts:
        """Bookings that started in [start, end), by how they ended."""
        row = (
            await self._session.execute(
                select(_DONE, _NO_SHOW, _LATE).where(
                    Booking.starts_at >= start, Booking.starts_at < end
                )
            )
        ).one()
        return VisitCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))

    # --- /forget ---------------------------------------------------------------------------

    async def booking_ids_of(self, customer_id: int) -> set[int]:
        query = select(Booking.id).where(Booking.customer_id == customer_id)
        return set(await self._session.scalars(query))

    async def owner_lists_naming(self, kind: str, text: str) -> Sequence[OutboxMessage]:
        """The owners' rows of `kind` whose payload contains `text` (queued or sent)."""
        rows = await self._session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == kind,
                OutboxMessage.customer_id.is_(None),
                OutboxMessage.payload.contains(text, autoescape=True),
            )
        )
        return rows.all()
