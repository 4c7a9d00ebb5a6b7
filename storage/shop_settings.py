"""SQL about the owner's business knobs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ShopSetting


class ShopSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> dict[str, str]:
        rows = await self._session.scalars(select(ShopSetting))
        return {row.key: row.value for row in rows}

    async def values(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored values of these keys (missing keys are left out)."""
        wanted = list(keys)
        if not wanted:
            return {}
        rows = await self._session.scalars(select(ShopSetting).where(ShopSetting.key.in_(wanted)))
        return {row.key: row.value for row in rows}

    async def put(self, key: str, value: str) -> None:
        row = await self._session.get(ShopSetting, key)
        if row is None:
            self._session.add(ShopSetting(key=key, value=value))
        else:
            row.value = value
        await self._session.flush()

    async def delete(self, key: str) -> bool:
        """Forget a knob; whether it was set."""
        row = await self._session.get(ShopSetting, key)
        if row is None:
            return False
        await self._session.delete(row)
        await self._session.flush()
        return True
