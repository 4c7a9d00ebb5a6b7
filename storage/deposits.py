"""SQL about deposits (issue 13)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Deposit

HELD, PAID, USED, REFUND_ASKED, KEPT, RELEASED = (
    "held",
    "paid",
    "used",
    "refund_asked",
    "kept",
    "released",
)


class DepositRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, **fields: Any) -> Deposit:
        row = Deposit(**fields)
        self._session.add(row)
        await self._session.flush()
        return row

    async def get(self, deposit_id: int) -> Deposit | None:
        rows = await self._session.scalars(
            select(Deposit)
            .where(Deposit.id == deposit_id)
            .execution_options(populate_existing=True)
        )
        return rows.first()

    async def of_booking(self, booking_id: int) -> Deposit | None:
        rows = await self._session.scalars(
            select(Deposit)
            .where(Deposit.booking_id == booking_id)
            .execution_options(populate_existing=True)
        )
        return rows.first()

    async def change_status(
        self, deposit_id: int, *, expected: str, status: str, **values: Any
    ) -> bool:
        """Conditional: of a payment and the hold's release at one moment, one wins."""
        result = await self._session.execute(
            update(Deposit)
            .where(Deposit.id == deposit_id, Deposit.status == expected)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def held_until(self, moment: datetime) -> Sequence[Deposit]:
        rows = await self._session.scalars(
            select(Deposit).where(Deposit.status == HELD, Deposit.hold_until <= moment)
        )
        return rows.all()

    async def forget_customer(self, customer_id: int) -> None:
        """For /forget: the deposits stay as money records, like the purchases (amount,
        currency, status, times, tied to the anonymised customer); the payment ids, a way back
        to the payer in the provider's cabinet, go. The bot never shows them, so a refund is
        still found by amount and time."""
        await self._session.execute(
            update(Deposit)
            .where(Deposit.customer_id == customer_id)
            .values(telegram_charge_id=None, provider_charge_id=None)
            .execution_options(synchronize_session=False)
        )
