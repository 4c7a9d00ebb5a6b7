"""After a visit: a 1–5 rating question; a low rating goes to the owner with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.dto import CustomerCard
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Feedback
from services.shop import profile_from
from storage.database import Database

LOW = 3  # this many stars or fewer: ask what went wrong, tell the owner
# Asking about a visit from last week is noise; older sales are not asked about.
ASK_WITHIN = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class RatingResult:
    purchase_id: int
    stars: int
    customer: CustomerCard

    @property
    def low(self) -> bool:
        return self.stars <= LOW


async def queue_feedback(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """One rating question per customer and visit day, `feedback_hours` after the sale."""
    async with db.reading() as repos:
        profile = profile_from(await repos.settings.all())
        ready_before = now - timedelta(hours=profile.feedback_hours)
        rows = await repos.retention.feedback_rows(now - ASK_WITHIN, ready_before)
    queued = 0
    not_before = profile.next_send_time(now, zone)
    for row in rows:
        day = row.purchased_at.astimezone(zone).date().isoformat()
        key = f"feedback:{row.customer_id}:{day}"
        payload = Feedback(purchase_id=row.purchase_id, service=row.service_name)
        async with db.transaction() as repos:
            message = Outgoing(key, row.chat_id, row.customer_id, not_before, payload)
            if await enqueue(repos, message, now) is not None:
                queued += 1
    return queued


class FeedbackService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def rate(
        self, telegram_id: int, purchase_id: int, stars: int, now: datetime
    ) -> RatingResult:
        if not 1 <= stars <= 5:
            raise InputError("error-rating-range")
        async with self._db.transaction() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            purchase = await repos.purchases.get(purchase_id)
            if customer is None or purchase is None or purchase.customer_id != customer.id:
                raise InputError("error-rating-not-yours")
            if await repos.retention.rating_of(purchase_id) is not None:
                raise InputError("error-rating-twice")
            await repos.retention.add_rating(
                purchase_id=purchase_id, customer_id=customer.id, stars=stars, created_at=now
            )
            return RatingResult(purchase_id, stars, CustomerCard.of(customer))

    async def explain(self, telegram_id: int, purchase_id: int, comment: str) -> RatingResult:
        """The customer's words after a low rating, kept with the rating."""
        text = " ".join(comment.split())
        if not text:
            raise InputError("error-rating-comment")
        async with self._db.transaction() as repos:
            customer = await repos.customers.by_telegram_id(telegram_id)
            rating = await repos.retention.rating_of(purchase_id)
            if customer is None or rating is None or rating.customer_id != customer.id:
                raise InputError("error-rating-not-yours")
            rating.comment = text[:2000]
            return RatingResult(purchase_id, rating.stars, CustomerCard.of(customer))
