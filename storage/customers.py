"""SQL about customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, customer_id: int) -> Customer | None:
        return await self._session.get(Customer, customer_id)

    async def lock(self, customer_id: int) -> Customer | None:
        """The customer's row, locked until the transaction ends, for a check-then-write.

        PostgreSQL takes a row lock (FOR UPDATE), so a second spend waits and then reads the
        first one's result; SQLite ignores FOR UPDATE but its BEGIN IMMEDIATE already lets
        one writer at a time in.
        """
        rows = await self._session.scalars(
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return rows.first()

    async def by_telegram_id(self, telegram_id: int) -> Customer | None:
        return await self._one(Customer.telegram_id == telegram_id)

    async def by_phone(self, phone: str) -> Customer | None:
        return await self._one(Customer.phone == phone)

    async def by_referral_code(self, code: str) -> Customer | None:
        return await self._one(Customer.referral_code == code)

    async def by_username(self, username: str) -> Customer | None:
        return await self._one(func.lower(Customer.username) == username.lower())

    async def with_name_like(self, folded: str, limit: int) -> Sequence[Customer]:
        pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._session.scalars(
            select(Customer)
            .where(Customer.search_name.like(pattern, escape="\\"))
            .order_by(Customer.id)
            .limit(limit)
        )
        return rows.all()

    async def add(self, **fields: Any) -> Customer:
        customer = Customer(**fields)
        self._session.add(customer)
        await self._session.flush()
        return customer

    async def delete(self, customer: Customer) -> None:
        await self._session.delete(customer)
        await self._session.flush()

    async def move_references(self, *, from_id: int, to_id: int) -> None:
        """Point every row that refers to one customer at another (before merging them)."""
        customers = Customer.__table__
        for table in Customer.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table is customers and fk.parent.table is not None:
                    column = fk.parent
                    await self._session.execute(
                        update(table).where(column == from_id).values({column.name: to_id})
                    )

    async def all(self) -> Sequence[Customer]:
        return (await self._session.scalars(select(Customer).order_by(Customer.id))).all()

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count(Customer.id))) or 0)

    async def _one(self, condition: Any) -> Customer | None:
        rows = await self._session.scalars(select(Customer).where(condition).limit(1))
        return rows.first()
