"""The owner's numbers, one entry point over the modules that compute them.

Each job lives in its own module: the /stats report, ABC and cohorts (services/stats_report.py),
the predictive model and its cache (services/model_cache.py), win-back messages
(services/winback.py), acquisition costs (services/acquisition.py) and what the messages did
(services/campaign_results.py). Handlers and the command line keep one service to talk to.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.acquisition import CAC_PREFIX, SPEND_PREFIX, AcquisitionCosts, Settings
from services.campaign_results import (
    CAMPAIGN_GROUPS,
    CAMPAIGN_SHARE_DAYS,
    CAMPAIGN_WINDOW_DAYS,
    CampaignResult,
    CampaignResults,
)
from services.model_cache import (
    AT_RISK_LIST,
    MODEL_WAIT_SECONDS,
    TOP_PREDICTED,
    AtRiskCustomer,
    ModelCache,
    PredictedCustomer,
    PredictionReport,
)
from services.prediction import ModelOutcome
from services.stats_calendar import (
    MONTHS_SHOWN,
    PERIOD_DAYS,
    StatsCalendar,
    add_months,
    month_start,
    share,
)
from services.stats_report import (
    ABC_LIST,
    AbcClass,
    AbcCustomer,
    AbcReport,
    CohortReport,
    MonthRevenue,
    PeriodSplit,
    StatsReport,
    StatsReports,
)
from services.winback import Winback, WinbackQueued
from storage.database import Database


class AnalyticsService:
    """A thin facade: every method is one of the modules' own."""

    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self.calendar = StatsCalendar(zone)
        self.models = ModelCache(db, self.calendar)
        self.reports = StatsReports(db, self.calendar, self.models)
        self.costs = AcquisitionCosts(db)
        self.winback = Winback(db, zone)
        self.results = CampaignResults(db)

    def cutoff_for(self, as_of: date | None, now: datetime) -> datetime:
        return self.calendar.cutoff_for(as_of, now)

    def local_day(self, cutoff: datetime) -> date:
        return self.calendar.local_day(cutoff)

    async def report(self, cutoff: datetime) -> StatsReport:
        return await self.reports.report(cutoff)

    async def abc(self, cutoff: datetime) -> AbcReport:
        return await self.reports.abc(cutoff)

    async def cohorts(self, cutoff: datetime, count: int = MONTHS_SHOWN) -> CohortReport:
        return await self.reports.cohorts(cutoff, count)

    async def predicted(self, cutoff: datetime) -> PredictionReport:
        return await self.models.predicted(cutoff)

    async def at_risk(self, cutoff: datetime) -> list[AtRiskCustomer]:
        return await self.models.at_risk(cutoff)

    async def fit_model(self, cutoff: datetime, margin_percent: int) -> ModelOutcome:
        return await self.models.fit_model(cutoff, margin_percent)

    async def queue_winback(self, customer_id: int, now: datetime) -> WinbackQueued:
        return await self.winback.queue_winback(customer_id, now)

    async def campaigns(self, cutoff: datetime) -> list[CampaignResult]:
        return await self.results.campaigns(cutoff)

    async def settings(self) -> Settings:
        return await self.costs.settings()

    async def set_source_cac(self, source: str, amount_text: str) -> int | None:
        return await self.costs.set_source_cac(source, amount_text)


__all__ = [
    "ABC_LIST",
    "AT_RISK_LIST",
    "CAC_PREFIX",
    "CAMPAIGN_GROUPS",
    "CAMPAIGN_SHARE_DAYS",
    "CAMPAIGN_WINDOW_DAYS",
    "MODEL_WAIT_SECONDS",
    "MONTHS_SHOWN",
    "PERIOD_DAYS",
    "SPEND_PREFIX",
    "TOP_PREDICTED",
    "AbcClass",
    "AbcCustomer",
    "AbcReport",
    "AnalyticsService",
    "AtRiskCustomer",
    "CampaignResult",
    "CohortReport",
    "MonthRevenue",
    "PeriodSplit",
    "PredictedCustomer",
    "PredictionReport",
    "Settings",
    "StatsReport",
    "WinbackQueued",
    "add_months",
    "month_start",
    "share",
]
