"""SQL about the shop's services catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CrossSell, Service


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, service_id: int) -> Service | None:
        return await self._session.get(Service, service_id)

    async def active(self) -> Sequence[Service]:
        rows = await self._session.scalars(
            select(Service).where(Service.archived.is_(False)).order_by(Service.name, Service.id)
        )
        return rows.all()

    async def all(self) -> Sequence[Service]:
        return (await self._session.scalars(select(Service).order_by(Service.id))).all()

    async def add(self, **fields: Any) -> Service:
        service = Service(**fields)
        self._session.add(service)
        await self._session.flush()
        return service

    async def set_cross_sell(self, service_id: int, suggested_id: int | None) -> None:
        row = await self._session.get(CrossSell, service_id)
        if suggested_id is None:
            if row is not None:
                await self._session.delete(row)
        elif row is None:
            self._session.add(CrossSell(service_id=service_id, suggested_id=suggested_id))
        else:
            row.suggested_id = suggested_id
        await self._session.flush()
