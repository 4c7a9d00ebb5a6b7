"""Posts for the shop's channel, now or at a chosen time.

A post is an outbox row for the channel with `not_before` set to its time, so the delivery
worker publishes it and a restart loses nothing; cancelling cancels the row while it waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.campaigns import check_text
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import ChannelPost
from services.parsing import parse_local_moment
from storage.database import Database
from storage.outbox import OutboxStatus


@dataclass(frozen=True, slots=True)
class PostInfo:
    id: int
    text: str
    has_photo: bool
    publish_at: datetime
    status: str  # scheduled | published | cancelled | failed


def parse_publish_time(text: str, *, zone: ZoneInfo, now: datetime) -> datetime:
    """ "2026-12-01 18:30" or "01.12.2026 18:30" in the shop's zone, in the future."""
    moment = parse_local_moment(text, zone=zone, error="error-post-time")
    if moment <= now:
        raise InputError("error-post-past")
    return moment


class ChannelPostService:
    def __init__(self, db: Database, channel_id: int | None) -> None:
        self._db = db
        self._channel_id = channel_id

    async def schedule(
        self,
        *,
        text: str | None,
        photo: str | None,
        button_url: str | None,
        publish_at: datetime | None,
        now: datetime,
    ) -> PostInfo:
        if self._channel_id is None:
            raise InputError("error-no-channel")
        body = check_text(text, has_photo=photo is not None)
        when = publish_at or now
        async with self._db.transaction() as repos:
            post = await repos.growth.add_post(
                text=body,
                photo=photo,
                with_button=button_url is not None,
                publish_at=when,
                status="scheduled",
                created_at=now,
            )
            payload = ChannelPost(text=body, photo=photo, button_url=button_url)
            await enqueue(
                repos,
                Outgoing(f"post:{post.id}", self._channel_id, None, when, payload),
                now,
            )
            return PostInfo(post.id, body, photo is not None, when, "scheduled")

    async def upcoming(self) -> list[PostInfo]:
        async with self._db.reading() as repos:
            posts = await repos.growth.scheduled_posts()
            result = []
            for post in posts:
                row = await repos.outbox.by_key(f"post:{post.id}")
                if row is None or row.status != "pending":
                    continue  # already published (or failed): no longer upcoming
                result.append(
                    PostInfo(
                        post.id, post.text, post.photo is not None, post.publish_at, "scheduled"
                    )
                )
            return result

    async def cancel(self, post_id: int) -> PostInfo:
        async with self._db.transaction() as repos:
            post = await repos.growth.post(post_id)
            row = await repos.outbox.by_key(f"post:{post_id}")
            if post is None or row is None:
                raise InputError("error-post-unknown")
            if row.status != "pending":
                raise InputError("error-post-already-out")
            row.status = OutboxStatus.CANCELLED
            post.status = OutboxStatus.CANCELLED
            return PostInfo(
                post.id, post.text, post.photo is not None, post.publish_at, OutboxStatus.CANCELLED
            )
