"""Acquisition costs: what a customer cost to win, overall and per source (`/cac`, `/spend`).

One idea, two ways to type it (issue 14): a source has either a total spend ("spend:", from
/spend) or a cost per customer ("cac:", from /cac); setting one removes the other, and each is
derived from the other with the source's buying customers. CAC = the overall acquisition cost,
or per customer the cost of their source when the owner set one, averaged over buying customers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from services.errors import InputError
from services.parsing import parse_money
from services.shop import ShopProfile, profile_from
from storage.analytics import AnalyticsQueries
from storage.database import Database

CAC_PREFIX = "cac:"
SPEND_PREFIX = "spend:"
# "All purchases so far" for the settings screen, which has no as-of date.
_ALL_TIME = datetime(9999, 1, 1, tzinfo=UTC)
_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,60}")


@dataclass(frozen=True, slots=True)
class Settings:
    """The knobs the numbers used."""

    currency: str
    margin_percent: int
    acquisition_cost: int
    cac_by_source: dict[str, int]
    cac_effective: float  # averaged over buying customers, per-source costs applied


class AcquisitionCosts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def settings(self) -> Settings:
        async with self._db.reading() as repos:
            profile = profile_from(await repos.settings.all())
            q = repos.analytics
            cac = await cac_by_source(q, await q.buyers_by_source(_ALL_TIME))
        return effective_settings(profile, cac, {}, 0)

    async def set_source_cac(self, source: str, amount_text: str) -> int | None:
        """Store the acquisition cost of one source; "-" or "0" removes it. The new value."""
        if not _SOURCE.fullmatch(source):
            raise InputError("cac-source-format")
        value = amount_text.strip()
        async with self._db.transaction() as repos:
            if value in {"-", "0"}:
                await repos.settings.delete(CAC_PREFIX + source)
                return None
            amount = parse_money(value)
            await repos.settings.put(CAC_PREFIX + source, str(amount))
            await repos.settings.delete(SPEND_PREFIX + source)  # the cost typed last wins
            return amount


def _decode_cac(values: dict[str, str]) -> dict[str, int]:
    out = {}
    for source, value in values.items():
        if value.isdigit():  # a hand-edited row is skipped, not a crash
            out[source] = int(value)
    return out


async def cac_by_source(
    q: AnalyticsQueries, buyers_by_source: dict[str | None, int]
) -> dict[str, int]:
    """Cost per customer of each source: typed with /cac, or a /spend total ÷ its buyers."""
    cac = _decode_cac(await q.prefixed_settings(CAC_PREFIX))
    for source, spend in _decode_cac(await q.prefixed_settings(SPEND_PREFIX)).items():
        buyers = buyers_by_source.get(source, 0)
        if source not in cac and buyers:
            cac[source] = round(spend / buyers)
    return cac


def effective_settings(
    profile: ShopProfile,
    cac_by_source: dict[str, int],
    buyers_by_source: dict[str | None, int],
    buyers: int,
) -> Settings:
    """The settings with the acquisition cost averaged over `buyers` by their sources."""
    if buyers:
        spent = sum(
            count * cac_by_source.get(source or "", profile.acquisition_cost)
            for source, count in buyers_by_source.items()
        )
        effective = spent / buyers
    else:
        effective = float(profile.acquisition_cost)
    return Settings(
        profile.currency,
        profile.margin_percent,
        profile.acquisition_cost,
        dict(sorted(cac_by_source.items())),
        effective,
    )
