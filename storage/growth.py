"""SQL for growth: invite links, the points ledger, campaigns, channel posts, sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Campaign,
    ChannelPost,
    Customer,
    InviteLink,
    OutboxMessage,
    PointsEntry,
    Purchase,
    Rating,
)
from storage.outbox import OutboxStatus


@dataclass(frozen=True, slots=True)
class SourceRow:
    source: str
    subscribers: int
    registered: int
    buyers: int
    revenue: int


class GrowthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- invite links ---------------------------------------------------------------------

    async def add_link(self, **values: Any) -> InviteLink:
        link = InviteLink(**values)
        self._session.add(link)
        await self._session.flush()
        return link

    async def link_by_name(self, name: str) -> InviteLink | None:
        rows = await self._session.scalars(select(InviteLink).where(InviteLink.name == name))
        return rows.first()

    async def link_by_url(self, url: str) -> InviteLink | None:
        rows = await self._session.scalars(select(InviteLink).where(InviteLink.url == url))
        return rows.first()

    async def links(self) -> Sequence[InviteLink]:
        return (await self._session.scalars(select(InviteLink).order_by(InviteLink.id))).all()

    # --- points -----------------------------------------------------------------------------

    async def add_points(self, **values: Any) -> bool:
        """Add a ledger entry; False when its referral key was already paid."""
        if values.get("referral_key") is None:
            self._session.add(PointsEntry(**values))
            await self._session.flush()
            return True
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await self._session.execute(
            insert(PointsEntry)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["referral_key"])
            .returning(PointsEntry.id)
        )
        return result.scalar_one_or_none() is not None

    async def balance(self, customer_id: int) -> int:
        total = await self._session.scalar(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.customer_id == customer_id
            )
        )
        return int(total or 0)

    async def purchase_points(self, purchase_id: int, reason: str) -> int:
        """The points one purchase brought so far for `reason` (all its ledger lines)."""
        total = await self._session.scalar(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.purchase_id == purchase_id, PointsEntry.reason == reason
            )
        )
        return int(total or 0)

    async def ledger(self, customer_id: int, limit: int) -> Sequence[PointsEntry]:
        rows = await self._session.scalars(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id)
            .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
            .limit(limit)
        )
        return rows.all()

    async def purchase_count(self, customer_id: int) -> int:
        return int(
            await self._session.scalar(
                select(func.count(Purchase.id)).where(Purchase.customer_id == customer_id)
            )
            or 0
        )

    async def scrub_messages(self, customer_id: int) -> None:
        """For /forget: cancel what is queued, blank what was said, drop rating comments."""
        await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.customer_id == customer_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.CANCELLED)
        )
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id)
            .values(payload="{}", chat_id=0)
        )
        await self._session.execute(
            update(Rating).where(Rating.customer_id == customer_id).values(comment=None)
        )

    # --- sources ----------------------------------------------------------------------------

    async def source_in_use(self, source: str) -> bool:
        """Whether some customer already has this source (one the shop gave, e.g. an import)."""
        found = await self._session.scalar(
            select(Customer.id).where(Customer.source == source).limit(1)
        )
        return found is not None

    async def sources(self) -> Sequence[SourceRow]:
        """Per source: channel subscribers, registered customers, buyers and their revenue."""
        source = func.coalesce(Customer.source, "direct")
        revenue = (
            select(Purchase.customer_id, func.sum(Purchase.amount).label("revenue"))
            .group_by(Purchase.customer_id)
            .subquery()
        )
        result = await self._session.execute(
            select(
                source,
                func.count(Customer.joined_channel_at),
                func.count(Customer.registered_at),
                func.count(revenue.c.customer_id),
                func.coalesce(func.sum(revenue.c.revenue), 0),
            )
            .outerjoin(revenue, revenue.c.customer_id == Customer.id)
            .group_by(source)
            .order_by(func.coalesce(func.sum(revenue.c.revenue), 0).desc(), source)
        )
        return [SourceRow(str(s), int(a), int(b), int(c), int(d)) for s, a, b, c, d in result.all()]

    # --- segments ---------------------------------------------------------------------------

    async def audience(
        self,
        *,
        idle_since: datetime | None = None,
        birth_month: int | None = None,
        source: str | None = None,
        service_id: int | None = None,
        among: Sequence[int] | None = None,
    ) -> list[tuple[int, int]]:
        """(customer id, chat id) of reachable customers who agreed to offers, narrowed down."""
        query = select(Customer.id, Customer.telegram_id).where(
            Customer.telegram_id.is_not(None),
            Customer.blocked_at.is_(None),
            Customer.consent.is_(True),
            Customer.forgotten_at.is_(None),
        )
        if idle_since is not None:
            last = (
                select(Purchase.customer_id, func.max(Purchase.purchased_at).label("last"))
                .group_by(Purchase.customer_id)
                .subquery()
            )
            query = query.join(last, last.c.customer_id == Customer.id).where(
                last.c.last < idle_since
            )
        if birth_month is not None:
            query = query.where(Customer.birth_month == birth_month)
        if source is not None:
            query = query.where(Customer.source == source)
        if service_id is not None:
            bought = select(Purchase.customer_id).where(Purchase.service_id == service_id)
            query = query.where(Customer.id.in_(bought))
        if among is not None:
            query = query.where(Customer.id.in_(list(among)))
        result = await self._session.execute(query.order_by(Customer.id))
        return [(int(cid), int(chat or 0)) for cid, chat in result.all()]

    # --- campaigns --------------------------------------------------------------------------

    async def add_campaign(self, **values: Any) -> Campaign:
        campaign = Campaign(**values)
        self._session.add(campaign)
        await self._session.flush()
        return campaign

    async def campaign(self, campaign_id: int) -> Campaign | None:
        return await self._session.get(Campaign, campaign_id)

    async def unfinished_campaigns(self) -> Sequence[Campaign]:
        rows = await self._session.scalars(
            select(Campaign).where(Campaign.finished_at.is_(None)).order_by(Campaign.id)
        )
        return rows.all()

    async def campaign_counts(self, campaign_id: int) -> dict[str, int]:
        result = await self._session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.campaign_id == campaign_id)
            .group_by(OutboxMessage.status)
        )
        return {status: int(n) for status, n in result.all()}

    # --- channel posts ----------------------------------------------------------------------

    async def add_post(self, **values: Any) -> ChannelPost:
        post = ChannelPost(**values)
        self._session.add(post)
        await self._session.flush()
        return post

    async def post(self, post_id: int) -> ChannelPost | None:
        return await self._session.get(ChannelPost, post_id)

    async def scheduled_posts(self) -> Sequence[ChannelPost]:
        rows = await self._session.scalars(
            select(ChannelPost)
            .where(ChannelPost.status == "scheduled")
            .order_by(ChannelPost.publish_at, ChannelPost.id)
        )
        return rows.all()
