"""Channel growth: tracked invite links, join requests turned into leads, the sources report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.analytics import CAC_PREFIX, SPEND_PREFIX
from services.customers import TelegramPerson, add_from_telegram
from services.errors import InputError
from services.parsing import parse_money
from services.shop import profile_from
from storage.database import Database
from storage.repositories import Repositories

CHANNEL_SOURCE = "channel"  # a join through the channel's own link, or no link at all
OTHER_SOURCE = "other"  # deep links nobody in the shop made, counted as one source
# issue 11: "business", the booking link the bot sends in the owner's own chats
_BUILT_IN_SOURCES = frozenset({CHANNEL_SOURCE, OTHER_SOURCE, "business"})
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # a source is also a deep-link payload


@dataclass(frozen=True, slots=True)
class Lead:
    customer_id: int
    source: str
    new: bool


@dataclass(frozen=True, slots=True)
class SourceReport:
    source: str
    subscribers: int
    registered: int
    buyers: int
    revenue: int
    spend: int  # typed with /spend, or /cac's cost per customer × buyers
    ltv_to_cac: float | None  # margin-adjusted revenue per unit spent; None without spend
    per_customer: float | None = None  # spend ÷ buyers, or as typed with /cac


def clean_source(text: str) -> str:
    name = text.strip()
    if not _NAME.match(name) or name.startswith("r_"):
        raise InputError("error-source-name")
    return name


async def source_of_payload(repos: Repositories, payload: str) -> str:
    """The source a /start deep link (not a referral code) is counted under.

    Anyone can open t.me/<bot>?start=<anything>, so if every payload became a source,
    strangers could fill /sources with junk. A payload keeps its name only when the shop made
    it: a tracked link (/link), a source with a spend (/spend), a built-in one, or a source
    some customer already has (the owner's import). Everything else counts as "other". By
    induction no stranger's payload is ever stored, so "already has" cannot be gamed.
    """
    if payload in _BUILT_IN_SOURCES:
        return payload
    if await repos.growth.link_by_name(payload) is not None:
        return payload
    values = await repos.settings.all()
    if SPEND_PREFIX + payload in values or CAC_PREFIX + payload in values:
        return payload
    if await repos.growth.source_in_use(payload):
        return payload
    return OTHER_SOURCE


class GrowthService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def check_new_link(self, name_text: str) -> str:
        name = clean_source(name_text)
        async with self._db.reading() as repos:
            if await repos.growth.link_by_name(name):
                raise InputError("error-link-exists", name=name)
        return name

    async def save_link(self, name: str, url: str, now: datetime) -> None:
        async with self._db.transaction() as repos:
            await repos.growth.add_link(name=name, url=url, created_at=now)

    async def links(self) -> list[tuple[str, str]]:
        async with self._db.reading() as repos:
            return [(link.name, link.url) for link in await repos.growth.links()]

    async def join_request(
        self, person: TelegramPerson, invite_url: str | None, now: datetime
    ) -> Lead:
        """Someone asked to join the channel: remember them as a lead with the link's source."""
        async with self._db.transaction() as repos:
            link = await repos.growth.link_by_url(invite_url) if invite_url else None
            source = link.name if link else CHANNEL_SOURCE
            row = await repos.customers.by_telegram_id(person.telegram_id)
            if row is not None:
                # First touch wins: an existing customer keeps their source.
                if row.joined_channel_at is None:
                    row.joined_channel_at = now
                return Lead(row.id, row.source or source, new=False)
            row = await add_from_telegram(repos, person, now, source=source, joined_channel_at=now)
            return Lead(row.id, source, new=True)

    async def set_spend(self, source_text: str, amount_text: str) -> int:
        source = clean_source(source_text)
        amount = 0 if amount_text.strip() in {"0", "-"} else parse_money(amount_text)
        async with self._db.transaction() as repos:
            await repos.settings.put(SPEND_PREFIX + source, str(amount))
            # The cost typed last wins: a source has one acquisition figure, not two.
            await repos.settings.delete(CAC_PREFIX + source)
        return amount

    async def sources(self) -> list[SourceReport]:
        async with self._db.reading() as repos:
            values = await repos.settings.all()
            rows = await repos.growth.sources()
        profile = profile_from(values)
        margin = profile.margin_percent / 100
        reports = []
        for row in rows:
            spend, per_customer = _acquisition(values, row.source, row.buyers)
            ratio = round(row.revenue * margin / spend, 2) if spend else None
            reports.append(
                SourceReport(
                    row.source,
                    row.subscribers,
                    row.registered,
                    row.buyers,
                    row.revenue,
                    spend,
                    ratio,
                    per_customer,
                )
            )
        return reports


def _acquisition(values: dict[str, str], source: str, buyers: int) -> tuple[int, float | None]:
    """(total spend, cost per customer) of a source from whichever of the two was typed."""
    spend, cac = values.get(SPEND_PREFIX + source, ""), values.get(CAC_PREFIX + source, "")
    if spend.isdigit():  # a hand-edited row counts as nothing, not a crash
        total = int(spend)
        return total, (total / buyers if buyers and total else None)
    if cac.isdigit():
        return int(cac) * buyers, float(cac)
    return 0, None
