"""SQL about bookings, the master's time cells and blocked time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import CellsTaken
from storage.models import Booking, BookingCell, Customer, Service, TimeBlock

BOOKED, DONE, NO_SHOW, CANCELLED = "booked", "done", "no_show", "cancelled"


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking with the customer and service it is about (ORM rows, for services only)."""

    booking: Booking
    customer: Customer
    service: Service


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- bookings ------------------------------------------------------------------------

    async def add(self, **fields: Any) -> Booking:
        booking = Booking(**fields)
        self._session.add(booking)
        await self._session.flush()
        return booking

    async def get(self, booking_id: int) -> Booking | None:
        return await self._session.get(Booking, booking_id)

    async def record(self, booking_id: int) -> BookingRecord | None:
        rows = await self._records(Booking.id == booking_id)
        return rows[0] if rows else None

    async def between(self, start: datetime, end: datetime) -> list[BookingRecord]:
        """Bookings starting in [start, end), every status, in time order."""
        return await self._records(Booking.starts_at >= start, Booking.starts_at < end)

    async def booked_between(self, start: datetime, end: datetime) -> list[BookingRecord]:
        return await self._records(
            Booking.starts_at >= start, Booking.starts_at < end, Booking.status == BOOKED
        )

    async def unconfirmed_between(self, start: datetime, end: datetime) -> list[BookingRecord]:
        """Still booked, nobody pressed "I'll come" (issue 13: the owner hears of them)."""
        return await self._records(
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.status == BOOKED,
            Booking.confirmed_at.is_(None),
        )

    async def upcoming_of(self, customer_id: int, now: datetime) -> list[BookingRecord]:
        return await self._records(
            Booking.customer_id == customer_id, Booking.starts_at > now, Booking.status == BOOKED
        )

    async def upcoming_of_service(
        self, customer_id: int, service_id: int, now: datetime
    ) -> Booking | None:
        rows = await self._session.scalars(
            select(Booking)
            .where(
                Booking.customer_id == customer_id,
                Booking.service_id == service_id,
                Booking.starts_at > now,
                Booking.status == BOOKED,
            )
            .order_by(Booking.starts_at)
            .limit(1)
        )
        return rows.first()

    async def change_status(
        self, booking_id: int, *, expected: str, status: str, **values: Any
    ) -> bool:
        """Move a booking from `expected` to `status`; False when it was not in `expected`.

        A conditional UPDATE, so two presses of the same button cannot both succeed.
        """
        result = await self._session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.status == expected)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_values(self, booking_id: int, **values: Any) -> None:
        await self._session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def lock_customer(self, customer_id: int) -> None:
        """Serialise one customer's bookings (PostgreSQL row lock; SQLite writers queue anyway)."""
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                select(Customer.id).where(Customer.id == customer_id).with_for_update()
            )

    async def _records(self, *conditions: Any) -> list[BookingRecord]:
        result = await self._session.execute(
            select(Booking, Customer, Service)
            .join(Customer, Customer.id == Booking.customer_id)
            .join(Service, Service.id == Booking.service_id)
            .where(*conditions)
            .order_by(Booking.starts_at, Booking.id)
            # Conditional UPDATEs bypass the identity map: always read rows as they are now.
            .execution_options(populate_existing=True)
        )
        return [BookingRecord(b, c, s) for b, c, s in result.all()]

    # --- cells ---------------------------------------------------------------------------

    async def take_cells(self, booking_id: int, starts: Iterable[datetime]) -> None:
        """Claim the cells; CellsTaken when another booking holds one (the cells' primary key
        lets exactly one of two racing bookings through). The session is then unusable: the
        caller's transaction rolls back."""
        self._session.add_all(BookingCell(starts_at=s, booking_id=booking_id) for s in starts)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise CellsTaken from error

    async def free_cells(self, booking_id: int) -> None:
        await self._session.execute(delete(BookingCell).where(BookingCell.booking_id == booking_id))

    async def taken_cells(self, start: datetime, end: datetime) -> set[datetime]:
        rows = await self._session.scalars(
            select(BookingCell.starts_at).where(
                BookingCell.starts_at >= start, BookingCell.starts_at < end
            )
        )
        return set(rows.all())

    # --- blocked time --------------------------------------------------------------------

    async def add_block(
        self, *, starts_at: datetime, ends_at: datetime, note: str | None, created_at: datetime
    ) -> TimeBlock:
        block = TimeBlock(starts_at=starts_at, ends_at=ends_at, note=note, created_at=created_at)
        self._session.add(block)
        await self._session.flush()
        return block

    async def get_block(self, block_id: int) -> TimeBlock | None:
        return await self._session.get(TimeBlock, block_id)

    async def delete_block(self, block: TimeBlock) -> None:
        await self._session.delete(block)
        await self._session.flush()

    async def blocks_overlapping(self, start: datetime, end: datetime) -> Sequence[TimeBlock]:
        rows = await self._session.scalars(
            select(TimeBlock)
            .where(TimeBlock.starts_at < end, TimeBlock.ends_at > start)
            .order_by(TimeBlock.starts_at, TimeBlock.id)
        )
        return rows.all()
