"""SQL about the shop's services catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Service


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
