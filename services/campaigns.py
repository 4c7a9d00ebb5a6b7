"""Promos to a segment the owner picks, delivered through the outbox with live progress.

Only customers who agreed to offers (and did not block the bot or ask to be forgotten) are
ever in an audience, whatever the segment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.analytics import AnalyticsService
from services.errors import InputError
from services.growth import clean_source
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Promo
from services.parsing import parse_whole
from services.shop import profile_from
from storage.database import Database
from storage.outbox import OutboxStatus

SEGMENTS = ("all", "abc", "at_risk", "idle", "birthday_month", "source", "service")
MAX_TEXT = 1024  # a photo caption's limit, so text and photo promos behave alike
_ALL_CUSTOMERS = 10_000_000


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    value: str | None = None

    def as_json(self) -> str:
        return json.dumps({"kind": self.kind, "value": self.value})


@dataclass(frozen=True, slots=True)
class Progress:
    campaign_id: int
    total: int
    sent: int
    blocked: int
    failed: int
    waiting: int
    chat_id: int | None
    message_id: int | None
    language: str | None = None

    @property
    def done(self) -> bool:
        return self.waiting == 0


def segment_of(kind: str, value_text: str | None = None) -> Segment:
    """A segment from the owner's choice, its value checked (InputError names what's wrong)."""
    if kind not in SEGMENTS:
        raise InputError("error-segment")
    text = (value_text or "").strip()
    if kind == "abc":
        if text.upper() not in {"A", "B", "C"}:
            raise InputError("error-segment-abc")
        return Segment(kind, text.upper())
    if kind == "idle":
        return Segment(kind, str(parse_whole(text, low=1, high=3650, error="error-segment-days")))
    if kind == "source":
        return Segment(kind, clean_source(text))
    if kind == "service":
        if not text.isdigit():
            raise InputError("error-service-unknown")
        return Segment(kind, text)
    return Segment(kind)


def check_text(text: str | None, has_photo: bool) -> str:
    value = (text or "").strip()
    if not value and not has_photo:
        raise InputError("error-promo-empty")
    if len(value) > MAX_TEXT:
        raise InputError("error-promo-long", limit=MAX_TEXT)
    return value


class CampaignService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    async def audience(self, segment: Segment, now: datetime) -> list[tuple[int, int]]:
        among: list[int] | None = None
        if segment.kind == "abc":
            async with self._db.reading() as repos:
                ranked = await repos.analytics.abc_top(now, str(segment.value), _ALL_CUSTOMERS)
            among = [row.customer_id for row in ranked]
        elif segment.kind == "at_risk":
            risky = await AnalyticsService(self._db, self._zone).at_risk(now)
            among = [row.customer_id for row in risky]
        async with self._db.reading() as repos:
            return await repos.growth.audience(
                idle_since=now - timedelta(days=int(segment.value or 0))
                if segment.kind == "idle"
                else None,
                birth_month=now.astimezone(self._zone).month
                if segment.kind == "birthday_month"
                else None,
                source=segment.value if segment.kind == "source" else None,
                service_id=int(segment.value or 0) if segment.kind == "service" else None,
                among=among,
            )

    async def launch(
        self,
        *,
        text: str,
        photo: str | None,
        segment: Segment,
        now: datetime,
        progress_chat_id: int,
        language: str | None = None,
    ) -> Progress:
        """Queue the promo for everyone in the segment now; messages wait for the window."""
        recipients = await self.audience(segment, now)
        if not recipients:
            raise InputError("error-segment-empty")
        async with self._db.transaction() as repos:
            profile = profile_from(await repos.settings.all())
            not_before = profile.next_send_time(now, self._zone)
            campaign = await repos.growth.add_campaign(
                text=text,
                photo=photo,
                segment=segment.as_json(),
                total=len(recipients),
                progress_chat_id=progress_chat_id,
                progress_language=language,
                created_at=now,
            )
            payload = Promo(text=text or "", photo=photo)
            for customer_id, chat_id in recipients:
                await enqueue(
                    repos,
                    Outgoing(
                        f"campaign:{campaign.id}:{customer_id}",
                        chat_id,
                        customer_id,
                        not_before,
                        payload,
                        campaign_id=campaign.id,
                    ),
                    now,
                )
            campaign_id = campaign.id
        return await self.progress(campaign_id)

    async def progress(self, campaign_id: int) -> Progress:
        async with self._db.reading() as repos:
            campaign = await repos.growth.campaign(campaign_id)
            if campaign is None:
                raise InputError("error-campaign-unknown")
            counts = await repos.growth.campaign_counts(campaign_id)
        return Progress(
            campaign_id=campaign_id,
            total=campaign.total,
            sent=counts.get(OutboxStatus.SENT, 0),
            blocked=counts.get(OutboxStatus.BLOCKED, 0),
            failed=counts.get(OutboxStatus.FAILED, 0) + counts.get(OutboxStatus.UNCERTAIN, 0),
            waiting=counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0),
            chat_id=campaign.progress_chat_id,
            message_id=campaign.progress_message_id,
            language=campaign.progress_language,
        )

    async def attach_progress_message(self, campaign_id: int, message_id: int) -> None:
        async with self._db.transaction() as repos:
            campaign = await repos.growth.campaign(campaign_id)
            if campaign is not None:
                campaign.progress_message_id = message_id

    async def running(self) -> list[int]:
        async with self._db.reading() as repos:
            return [c.id for c in await repos.growth.unfinished_campaigns()]

    async def finish(self, campaign_id: int, now: datetime) -> None:
        async with self._db.transaction() as repos:
            campaign = await repos.growth.campaign(campaign_id)
            if campaign is not None and campaign.finished_at is None:
                campaign.finished_at = now
