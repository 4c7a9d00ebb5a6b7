"""The customer's say over their data: stop offers, or be forgotten."""

from __future__ import annotations

from datetime import datetime

from services.business import forget_business
from services.dto import CustomerCard
from services.errors import InputError
from services.inbox import scrub_inbox
from services.no_shows import forget_unconfirmed
from services.owner_notices import scrub_owner_notices
from storage.database import Database


class PrivacyService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def stop_offers(self, telegram_id: int) -> None:
        """No more promos or reminders; service messages about bookings stay."""
        async with self._db.transaction() as repos:
            row = await repos.customers.by_telegram_id(telegram_id)
            if row is None:
                raise InputError("error-not-registered")
            row.consent = False

    async def resume_offers(self, telegram_id: int) -> None:
        """Offers and reminders again, after /stop."""
        async with self._db.transaction() as repos:
            row = await repos.customers.by_telegram_id(telegram_id)
            if row is None:
                raise InputError("error-not-registered")
            row.consent = True

    async def forget(self, telegram_id: int, now: datetime) -> int:
        """Erase who they are; purchases stay, anonymised, so the shop's numbers still add up.

        Returns the anonymised customer's id.
        """
        async with self._db.transaction() as repos:
            row = await repos.customers.by_telegram_id(telegram_id)
            if row is None:
                raise InputError("error-not-registered")
            for field in (
                "telegram_id",
                "name",
                "search_name",
                "username",
                "phone",
                "birth_day",
                "birth_month",
                "birth_year",
                "birthday_set_at",
                "referral_code",
            ):
                setattr(row, field, None)
            row.consent = False
            row.external_id = f"anon-{row.id}"  # an identity for exports that names nobody
            row.forgotten_at = now
            # Queued and past messages may carry their name: drop the words, keep the counts.
            await repos.growth.scrub_messages(row.id)
            await scrub_inbox(repos, row.id)
            anonymised = CustomerCard.of(row).label  # "#12 —"
            await scrub_owner_notices(repos, row.id, anonymised)
            await forget_business(repos, row.id)  # issue 11
            # issue 13: the eve's lists to the owners name them; whom they waited for goes;
            # deposits stay as money records (as purchases do) without the payment ids.
            await forget_unconfirmed(repos, row.id, anonymised)
            await repos.waitlist.forget_customer(row.id)
            await repos.deposits.forget_customer(row.id)
            customer_id = row.id
        # SQLite keeps the rows as they were in its write-ahead log until a checkpoint.
        await self._db.checkpoint()
        return customer_id
