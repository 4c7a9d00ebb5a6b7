"""The owner's /stats report: repeat-sale share, LTV, CLV, ABC and cohorts, as of a cutoff.

Definitions (also in the README, "Analytics"):
* a purchase is a *repeat* purchase when the customer had an earlier one (ties by time, then
  id); the first purchase of every customer is a *first* purchase;
* the report is "as of" a cutoff: later purchases do not exist for it; the two periods are the
  90 days before the cutoff and the 90 days before those;
* AOV = revenue / purchases; purchases per customer = purchases / buying customers; lifespan
  = mean of (last purchase - first purchase) over buying customers, in days;
* historical LTV = revenue per buying customer x margin - CAC;
* CLV by the classic formula = (AOV x purchases per customer - CAC) x margin;
* CAC: see services/acquisition.py;
* ABC: customers ranked by revenue (ties by id); one is class A while the revenue of those
  ranked above is below 75 % of all, B below 95 %, C the rest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from services import prediction
from services.acquisition import Settings, cac_by_source, effective_settings
from services.model_cache import MODEL_WAIT_SECONDS, ModelCache, load_profile
from services.prediction import ModelOutcome
from services.stats_calendar import MONTHS_SHOWN, PERIOD_DAYS, StatsCalendar, share
from storage.analytics import AnalyticsQueries, CustomerTotals, utc_window
from storage.database import Database

ABC_LIST = 10


@dataclass(frozen=True, slots=True)
class PeriodSplit:
    """Purchases of one period split into first and repeat ones, by count and by money."""

    start: datetime
    stop: datetime
    purchases: int
    first: int
    revenue: int
    first_revenue: int

    @property
    def repeat(self) -> int:
        return self.purchases - self.first

    @property
    def repeat_revenue(self) -> int:
        return self.revenue - self.first_revenue

    @property
    def repeat_share(self) -> float | None:
        return share(self.repeat, self.purchases)

    @property
    def repeat_revenue_share(self) -> float | None:
        return share(self.repeat_revenue, self.revenue)


@dataclass(frozen=True, slots=True)
class MonthRevenue:
    month: date  # the first day of the local month
    purchases: int
    revenue: int
    first_revenue: int

    @property
    def repeat_revenue(self) -> int:
        return self.revenue - self.first_revenue


@dataclass(frozen=True, slots=True)
class AbcClass:
    name: str
    customers: int
    revenue: int
    revenue_share: float
    customer_share: float


@dataclass(frozen=True, slots=True)
class AbcCustomer:
    customer_id: int
    name: str | None
    revenue: int
    purchases: int


@dataclass(frozen=True, slots=True)
class AbcReport:
    classes: tuple[AbcClass, ...]  # always A, B, C
    top_a: tuple[AbcCustomer, ...]
    revenue: int


@dataclass(frozen=True, slots=True)
class StatsReport:
    as_of: date
    cutoff: datetime
    settings: Settings
    customers: int
    buyers: int
    new_customers: int
    current: PeriodSplit
    previous: PeriodSplit
    purchases: int
    revenue: int
    aov: float | None
    purchases_per_customer: float | None
    lifespan_days: float | None
    ltv_historical: float | None
    clv_formula: float | None
    model: ModelOutcome | None
    months: tuple[MonthRevenue, ...]
    abc: AbcReport

    @property
    def empty(self) -> bool:
        return self.purchases == 0

    @property
    def clv_predicted(self) -> float | None:
        return self.model.mean_clv if isinstance(self.model, prediction.ModelFit) else None


@dataclass(frozen=True, slots=True)
class CohortReport:
    months: tuple[date, ...]  # cohort months, oldest first
    sizes: tuple[int, ...]
    # shares[c][k]: of cohort c, the share that bought k months after their first month;
    # None where that month lies after the cutoff
    shares: tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True, slots=True)
class _Lifetime:
    buyers: int
    purchases: int
    revenue: int
    lifespan_days: float  # summed over buyers


@dataclass(frozen=True, slots=True)
class _Figures:
    """The /stats figures read in one transaction."""

    customers: int
    new_customers: int
    windows: list[tuple[int, int, int, int]]  # purchases, revenue, first ones, their revenue
    life: _Lifetime
    by_source: dict[str | None, int]
    cac_by_source: dict[str, int]
    abc: AbcReport


class StatsReports:
    def __init__(self, db: Database, calendar: StatsCalendar, models: ModelCache) -> None:
        self._db = db
        self._calendar = calendar
        self._models = models

    async def report(self, cutoff: datetime) -> StatsReport:
        current_bounds = utc_window(cutoff, PERIOD_DAYS)
        previous_bounds = utc_window(cutoff, PERIOD_DAYS, back=1)
        month_bounds = self._calendar.month_bounds(cutoff, MONTHS_SHOWN)
        profile = await load_profile(self._db)
        # The model's fit (or its cache) runs alongside the figures' queries.
        model_task = asyncio.create_task(
            self._models.model(cutoff, profile, wait=MODEL_WAIT_SECONDS)
        )
        try:
            figures = await self._figures(cutoff, [current_bounds, previous_bounds, *month_bounds])
        except BaseException:
            model_task.cancel()
            raise
        fitted = await model_task
        life = figures.life
        settings = effective_settings(
            profile, figures.cac_by_source, figures.by_source, life.buyers
        )
        margin = profile.margin_percent / 100
        aov = life.revenue / life.purchases if life.purchases else None
        per_customer = life.purchases / life.buyers if life.buyers else None
        ltv = clv_formula = None
        if life.buyers and aov is not None and per_customer is not None:
            ltv = life.revenue / life.buyers * margin - settings.cac_effective
            clv_formula = (aov * per_customer - settings.cac_effective) * margin
        model = fitted[0] if life.buyers and fitted is not None else None
        current, previous, *months = figures.windows
        return StatsReport(
            as_of=self._calendar.local_day(cutoff),
            cutoff=cutoff,
            settings=settings,
            customers=figures.customers,
            buyers=life.buyers,
            new_customers=figures.new_customers,
            current=_period(current_bounds, current),
            previous=_period(previous_bounds, previous),
            purchases=life.purchases,
            revenue=life.revenue,
            aov=aov,
            purchases_per_customer=per_customer,
            lifespan_days=life.lifespan_days / life.buyers if life.buyers else None,
            ltv_historical=ltv,
            clv_formula=clv_formula,
            model=model,
            months=tuple(
                MonthRevenue(day, n, revenue, first_revenue)
                for day, (n, revenue, _, first_revenue) in zip(
                    self._calendar.month_days(cutoff, MONTHS_SHOWN), months, strict=True
                )
            ),
            abc=figures.abc,
        )

    async def _figures(self, cutoff: datetime, bounds: list[tuple[datetime, datetime]]) -> _Figures:
        async with self._db.reading() as repos:
            q = repos.analytics
            customers, new_customers = await q.customer_counts(bounds[0][0], cutoff)
            totals = await q.purchase_totals(bounds)
            firsts = await q.first_purchase_totals(cutoff, bounds)
            per_customer = await q.customer_totals(cutoff)
            by_source = await q.buyers_by_source(cutoff)
            return _Figures(
                customers,
                new_customers,
                [(*t, *f) for t, f in zip(totals, firsts, strict=True)],
                _lifetime(per_customer),
                by_source,
                await cac_by_source(q, by_source),
                await _abc(q, per_customer),
            )

    async def abc(self, cutoff: datetime) -> AbcReport:
        async with self._db.reading() as repos:
            q = repos.analytics
            return await _abc(q, await q.customer_totals(cutoff))

    async def cohorts(self, cutoff: datetime, count: int = MONTHS_SHOWN) -> CohortReport:
        bounds = self._calendar.month_bounds(cutoff, count)
        async with self._db.reading() as repos:
            sizes, cells = await repos.analytics.cohorts(bounds)
        active = {(c.cohort, c.month): c.customers for c in cells}
        shares = tuple(
            tuple(
                (active.get((c, c + k), 0) / sizes[c] if sizes.get(c) else None)
                if c + k < count
                else None
                for k in range(count)
            )
            for c in range(count)
        )
        return CohortReport(
            tuple(self._calendar.month_days(cutoff, count)),
            tuple(sizes.get(c, 0) for c in range(count)),
            shares,
        )


def _period(bounds: tuple[datetime, datetime], counts: tuple[int, int, int, int]) -> PeriodSplit:
    purchases, revenue, first, first_revenue = counts
    return PeriodSplit(bounds[0], bounds[1], purchases, first, revenue, first_revenue)


def _lifetime(totals: CustomerTotals) -> _Lifetime:
    return _Lifetime(
        len(totals.customer_ids),
        sum(totals.purchases),
        sum(totals.revenue),
        float(np.sum(np.frombuffer(totals.span_days, dtype=np.float64))),
    )


def abc_grades(totals: CustomerTotals) -> tuple[np.ndarray, np.ndarray]:
    """(ranking, grade of each ranked customer): by revenue, best first, ties by id.

    Grades 0, 1, 2 are A, B, C. Integer comparisons (above x 100 < total x 75) decide the
    edges without floating point.
    """
    ids = np.frombuffer(totals.customer_ids, dtype=np.int64)
    revenue = np.frombuffer(totals.revenue, dtype=np.int64)
    order = np.lexsort((ids, -revenue))
    ranked = revenue[order]
    above = np.cumsum(ranked) - ranked
    total = int(ranked.sum())
    grade = np.where(above * 100 < total * 75, 0, np.where(above * 100 < total * 95, 1, 2))
    return order, grade


async def _abc(q: AnalyticsQueries, totals: CustomerTotals) -> AbcReport:
    order, grade = abc_grades(totals)
    revenue = np.frombuffer(totals.revenue, dtype=np.int64)[order]
    customers = len(order)
    whole = int(revenue.sum())
    classes = []
    for index, name in enumerate("ABC"):
        members = grade == index
        count, money = int(members.sum()), int(revenue[members].sum())
        classes.append(
            AbcClass(
                name,
                count,
                money,
                money / whole if whole else 0.0,
                count / customers if customers else 0.0,
            )
        )
    # the A class is the head of the ranking, so its list is the leaders it covers
    top = [int(i) for i in order[: min(ABC_LIST, classes[0].customers)]]
    names = await q.contacts([totals.customer_ids[i] for i in top])
    return AbcReport(
        tuple(classes),
        tuple(
            AbcCustomer(
                totals.customer_ids[i],
                contact.name if (contact := names.get(totals.customer_ids[i])) else None,
                totals.revenue[i],
                totals.purchases[i],
            )
            for i in top
        ),
        whole,
    )
