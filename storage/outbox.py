"""SQL about the outbox: idempotent inserts, claiming due rows, recording what happened."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


class OutboxStatus(StrEnum):
    """A row's state; the values are what the `status` column holds."""

    PENDING = "pending"  # waiting for its `not_before`
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    BLOCKED = "blocked"  # 403, or the customer was already unreachable: never retried
    FAILED = "failed"  # refused by Telegram, unrenderable, or given up after an outage
    UNCERTAIN = "uncertain"  # its holder stopped while sending (lease ran out): never re-sent
    CANCELLED = "cancelled"  # withdrawn before sending: a cancelled post, a forgotten customer


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert_once(self, **values: Any) -> int | None:
        """Insert unless the dedup key exists; the new id, or None for a duplicate."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(OutboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(OutboxMessage.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def get(self, outbox_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, outbox_id)

    async def by_key(self, dedup_key: str) -> OutboxMessage | None:
        rows = await self._session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key)
        )
        return rows.first()

    async def replace_pending_payload(self, dedup_key: str, payload: str) -> bool:
        """New text data for a message not yet claimed; False once a worker took it.

        The status check is in the UPDATE itself, so a worker claiming the row at the same
        moment either sees the new payload or makes this a no-op, never half of each.
        """
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedup_key == dedup_key, OutboxMessage.status == OutboxStatus.PENDING
            )
            .values(payload=payload)
        )
        return bool(getattr(result, "rowcount", 0))

    async def exists(self, dedup_key: str) -> bool:
        return await self.by_key(dedup_key) is not None

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        holder: str | None = None,
        lease_until: datetime | None = None,
    ) -> Sequence[OutboxMessage]:
        """Mark up to `limit` due rows as being sent by `holder` until `lease_until`; return them.

        On PostgreSQL, SKIP LOCKED lets several workers drain one outbox without sharing a row;
        on SQLite the writing transaction (BEGIN IMMEDIATE) already excludes other writers.
        A claim without a lease counts as expired at once (nobody vouches for it).
        """
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = (await self._session.scalars(query)).all()
        for row in rows:
            row.status = OutboxStatus.SENDING
            row.claimed_at = now
            row.claimed_by = holder
            row.lease_until = lease_until
            row.attempts += 1
        await self._session.flush()
        return rows

    async def renew_leases(self, holder: str, ids: Collection[int], until: datetime) -> int:
        """Extend `holder`'s leases on rows it is still sending; how many it still holds."""
        if not ids:
            return 0
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(ids)),
                OutboxMessage.claimed_by == holder,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(lease_until=until)
        )
        return int(getattr(result, "rowcount", 0))

    async def next_due_at(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )

    async def mark(self, outbox_id: int, status: OutboxStatus, **values: Any) -> None:
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(status=status, **values)
        )

    async def in_flight(self) -> Sequence[OutboxMessage]:
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING)
            .order_by(OutboxMessage.id)
        )
        return rows.all()

    async def orphaned(self, now: datetime, *, alive: str | None = None) -> Sequence[OutboxMessage]:
        """Rows in `sending` whose holder is gone: the lease ran out (or there never was one).

        `alive` names the only instance that can be running (SQLite: one process): rows any
        other holder claimed are orphaned whatever their lease says. The rows are locked, so
        two instances sweeping at once do not both report them.
        """
        gone = [OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now]
        if alive is not None:
            gone += [OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != alive]
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING, or_(*gone))
            .order_by(OutboxMessage.id)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return (await self._session.scalars(query)).all()

    async def count_by_status(self) -> dict[str, int]:
        result = await self._session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: int(count) for status, count in result.all()}

    async def react(self, outbox_id: int, reaction: str, now: datetime) -> None:
        """Remember the first thing the person did with the message."""
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.reaction.is_(None))
            .values(reaction=reaction, reacted_at=now)
        )
