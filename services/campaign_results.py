"""What the messages did: per group of outbox kinds, sent, delivered, booked, bought after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.stats_calendar import share
from storage.analytics import CampaignCounts
from storage.database import Database

CAMPAIGN_WINDOW_DAYS = 14  # a purchase this soon after a message is attributed to it
CAMPAIGN_SHARE_DAYS = 30  # repeat share this long before and after a kind's first send
# Outbox kinds, grouped the way the owner thinks of them.
CAMPAIGN_GROUPS: dict[str, tuple[str, ...]] = {
    # owner_rebook (issue 11): sent by the owner from the business digest's ready text
    "rebooking": ("rebook", "rebook_followup", "owner_rebook"),
    "birthday": ("birthday",),
    "winback": ("winback",),
    "promo": ("promo",),
}


@dataclass(frozen=True, slots=True)
class CampaignResult:
    group: str
    sent: int
    delivered: int
    blocked: int
    booked: int
    bought: int
    revenue: int
    first_sent_at: datetime | None
    repeat_share_before: float | None
    repeat_share_after: float | None


class CampaignResults:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def campaigns(self, cutoff: datetime) -> list[CampaignResult]:
        async with self._db.reading() as repos:
            q = repos.analytics
            counts = {
                c.group: c for c in await q.campaigns(CAMPAIGN_GROUPS, cutoff, CAMPAIGN_WINDOW_DAYS)
            }
            out = []
            for group in CAMPAIGN_GROUPS:
                c = counts.get(group) or CampaignCounts(group, 0, 0, 0, 0, 0, 0, None)
                before = after = None
                if c.first_sent_at is not None:
                    first = c.first_sent_at
                    span = timedelta(days=CAMPAIGN_SHARE_DAYS)
                    bounds = [(first - span, first), (first, min(first + span, cutoff))]
                    was, now = await q.windows(bounds)
                    before = share(was.purchases - was.first_purchases, was.purchases)
                    after = share(now.purchases - now.first_purchases, now.purchases)
                out.append(
                    CampaignResult(
                        group,
                        c.sent,
                        c.delivered,
                        c.blocked,
                        c.booked,
                        c.bought,
                        c.revenue,
                        c.first_sent_at,
                        before,
                        after,
                    )
                )
        return out
