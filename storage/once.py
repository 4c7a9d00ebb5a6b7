"""SQL about button presses that act once: claim, release, prune."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OnceClaim


class OnceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, chat_id: int, message_id: int, data: str, now: datetime) -> bool:
        """True for the first claim of this press; False when it was claimed before.

        INSERT … ON CONFLICT DO NOTHING: a concurrent second insert waits for the first
        transaction and then does nothing, so no read-then-write race is possible.
        """
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(OnceClaim)
            .values(chat_id=chat_id, message_id=message_id, data=data, created_at=now)
            .on_conflict_do_nothing()
            .returning(OnceClaim.chat_id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def release(self, chat_id: int, message_id: int, data: str) -> None:
        """Forget a claim whose action failed, so the person can press again."""
        await self._session.execute(
            delete(OnceClaim).where(
                OnceClaim.chat_id == chat_id,
                OnceClaim.message_id == message_id,
                OnceClaim.data == data,
            )
        )

    async def prune(self, before: datetime) -> int:
        """Drop claims older than `before`; returns how many went."""
        result = await self._session.execute(delete(OnceClaim).where(OnceClaim.created_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
