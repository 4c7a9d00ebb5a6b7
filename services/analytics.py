"""The owner's numbers: repeat-sale share, LTV, CLV, ABC, cohorts, predicted value, campaigns.

Definitions (also in the README, "Analytics"):
* a purchase is a *repeat* purchase when the customer had an earlier one (ties by time, then
  id); the first purchase of every customer is a *first* purchase;
* the report is "as of" a cutoff: later purchases do not exist for it; the two periods are the
  90 days before the cutoff and the 90 days before those;
* AOV = revenue / purchases; purchases per customer = purchases / buying customers; lifespan
  = mean of (last purchase - first purchase) over buying customers, in days;
* historical LTV = revenue per buying customer x margin - CAC;
* CLV by the classic formula = (AOV x purchases per customer - CAC) x margin;
* CAC = the overall acquisition cost, or per customer the cost of their source when the owner
  set one (`/cac <source> <amount>`), averaged over buying customers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services import clv, prediction
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Winback
from services.parsing import parse_money
from services.prediction import ModelOutcome, RiskRow
from services.shop import ShopProfile, profile_from
from storage.analytics import (
    AbcClassRow,
    AnalyticsQueries,
    CampaignCounts,
    ModelRows,
    MonthCounts,
    RankedCustomer,
    WindowCounts,
    utc_window,
)
from storage.database import Database

log = logging.getLogger(__name__)

PERIOD_DAYS = 90
MONTHS_SHOWN = 12
ABC_LIST = 10
AT_RISK_LIST = 10
TOP_PREDICTED = 10
CAMPAIGN_WINDOW_DAYS = 14  # a purchase this soon after a message is attributed to it
CAMPAIGN_SHARE_DAYS = 30  # repeat share this long before and after a kind's first send
# One idea, two ways to type it (issue 14): a source has either a total spend ("spend:", from
# /spend) or a cost per customer ("cac:", from /cac); setting one removes the other, and each
# is derived from the other with the source's buying customers.
CAC_PREFIX = "cac:"
SPEND_PREFIX = "spend:"
# "All purchases so far" for the settings screen, which has no as-of date.
_ALL_TIME = datetime(9999, 1, 1, tzinfo=UTC)
# /stats waits this long for a fit of new data, then answers with the fit from before the
# latest sales (or without the prediction, the first time) while the fit goes on.
MODEL_WAIT_SECONDS = 1.0
_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,60}")
# Outbox kinds, grouped the way the owner thinks of them.
CAMPAIGN_GROUPS: dict[str, tuple[str, ...]] = {
    "rebooking": ("rebook", "rebook_followup"),
    "birthday": ("birthday",),
    "winback": ("winback",),
    "promo": ("promo",),
}


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


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

    @classmethod
    def of(cls, bounds: tuple[datetime, datetime], counts: WindowCounts) -> PeriodSplit:
        return cls(
            bounds[0],
            bounds[1],
            counts.purchases,
            counts.first_purchases,
            counts.revenue,
            counts.first_revenue,
        )


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
class Settings:
    """The knobs the numbers used."""

    currency: str
    margin_percent: int
    acquisition_cost: int
    cac_by_source: dict[str, int]
    cac_effective: float  # averaged over buying customers, per-source costs applied


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
class PredictedCustomer:
    customer_id: int
    name: str | None
    p_alive: float
    expected_purchases: float
    expected_value: float
    clv: float


@dataclass(frozen=True, slots=True)
class PredictionReport:
    as_of: date
    outcome: ModelOutcome
    currency: str
    margin_percent: int
    top: tuple[PredictedCustomer, ...] = ()
    expected_purchases_total: float = 0.0
    clv_total: float = 0.0


@dataclass(frozen=True, slots=True)
class AtRiskCustomer:
    customer_id: int
    name: str | None
    value: float
    value_is_predicted: bool
    p_alive: float | None
    days_since_last: int
    cycle_days: float | None
    reachable: bool  # on Telegram, not blocked, did not refuse offers
    # "model" (P(alive) of a model that tells customers apart) or "cycle" (own cycle × 2)
    rule: str = "model"


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


@dataclass(frozen=True, slots=True)
class WinbackQueued:
    customer_id: int
    name: str | None
    queued: bool  # False: already queued today
    not_before: datetime


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
    current: WindowCounts
    previous: WindowCounts
    grades: list[AbcClassRow]
    by_source: dict[str | None, int]
    cac_by_source: dict[str, int]
    months: list[MonthCounts]
    abc: AbcReport


@dataclass
class _ModelCache:
    key: tuple[object, ...] | None = None
    outcome: ModelOutcome | None = None
    rows: ModelRows | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fitting: dict[tuple[object, ...], asyncio.Task[tuple[ModelOutcome, ModelRows]]] = field(
        default_factory=dict
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class AnalyticsService:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone
        self._cache = _ModelCache()

    # --- time ---------------------------------------------------------------------------

    def cutoff_for(self, as_of: date | None, now: datetime) -> datetime:
        """The end of the local day `as_of` (UTC), or `now` for today and no date."""
        today = now.astimezone(self._zone).date()
        if as_of is None or as_of == today:
            return now
        if as_of > today:
            raise InputError("analytics-as-of-future", today=today.isoformat())
        return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=self._zone).astimezone(
            UTC
        )

    def local_day(self, cutoff: datetime) -> date:
        return (cutoff - timedelta(microseconds=1)).astimezone(self._zone).date()

    def _month_bounds(self, cutoff: datetime, count: int) -> list[tuple[datetime, datetime]]:
        """The last `count` local months up to `cutoff` (the last one cut at the cutoff)."""
        first = add_months(month_start(self.local_day(cutoff)), -(count - 1))
        starts = [add_months(first, i) for i in range(count + 1)]
        utc = [datetime.combine(d, time(), tzinfo=self._zone).astimezone(UTC) for d in starts]
        return [(utc[i], min(utc[i + 1], cutoff)) for i in range(count)]

    def _month_days(self, cutoff: datetime, count: int) -> list[date]:
        first = add_months(month_start(self.local_day(cutoff)), -(count - 1))
        return [add_months(first, i) for i in range(count)]

    # --- /stats -------------------------------------------------------------------------

    async def report(self, cutoff: datetime) -> StatsReport:
        current_bounds = utc_window(cutoff, PERIOD_DAYS)
        previous_bounds = utc_window(cutoff, PERIOD_DAYS, back=1)
        month_bounds = self._month_bounds(cutoff, MONTHS_SHOWN)
        profile = await self._profile()
        # The model's fit (or its cache) runs alongside the figures' queries.
        model_task = asyncio.create_task(self._model(cutoff, profile, wait=MODEL_WAIT_SECONDS))
        try:
            figures = await self._figures(cutoff, current_bounds, previous_bounds, month_bounds)
        except BaseException:
            model_task.cancel()
            raise
        fitted = await model_task
        grades = figures.grades
        life = _Lifetime(
            sum(g.customers for g in grades),
            sum(g.purchases for g in grades),
            sum(g.revenue for g in grades),
            sum(g.lifespan_days for g in grades),
        )
        settings = _settings(profile, figures.cac_by_source, figures.by_source, life.buyers)
        margin = profile.margin_percent / 100
        aov = life.revenue / life.purchases if life.purchases else None
        per_customer = life.purchases / life.buyers if life.buyers else None
        ltv = clv_formula = None
        if life.buyers and aov is not None and per_customer is not None:
            ltv = life.revenue / life.buyers * margin - settings.cac_effective
            clv_formula = (aov * per_customer - settings.cac_effective) * margin
        model = fitted[0] if life.buyers and fitted is not None else None
        return StatsReport(
            as_of=self.local_day(cutoff),
            cutoff=cutoff,
            settings=settings,
            customers=figures.customers,
            buyers=life.buyers,
            new_customers=figures.new_customers,
            current=PeriodSplit.of(current_bounds, figures.current),
            previous=PeriodSplit.of(previous_bounds, figures.previous),
            purchases=life.purchases,
            revenue=life.revenue,
            aov=aov,
            purchases_per_customer=per_customer,
            lifespan_days=life.lifespan_days / life.buyers if life.buyers else None,
            ltv_historical=ltv,
            clv_formula=clv_formula,
            model=model,
            months=_months(self._month_days(cutoff, MONTHS_SHOWN), figures.months),
            abc=figures.abc,
        )

    async def _figures(
        self,
        cutoff: datetime,
        current_bounds: tuple[datetime, datetime],
        previous_bounds: tuple[datetime, datetime],
        month_bounds: list[tuple[datetime, datetime]],
    ) -> _Figures:
        async with self._db.reading() as repos:
            q = AnalyticsQueries(repos.session)
            customers, new_customers = await q.customer_counts(current_bounds[0], cutoff)
            bounds = [current_bounds, previous_bounds, *month_bounds]
            totals = await q.purchase_totals(bounds)
            found = await q.customers_overview(cutoff, ABC_LIST, bounds)
            counts = [(*t, *f) for t, f in zip(totals, found.first_purchases, strict=True)]
            return _Figures(
                customers,
                new_customers,
                WindowCounts(*counts[0]),
                WindowCounts(*counts[1]),
                found.grades,
                found.by_source,
                await _cac_by_source(q, found.by_source),
                [MonthCounts(i, *c) for i, c in enumerate(counts[2:])],
                await self._abc(q, found.grades, found.leaders),
            )

    # --- ABC ----------------------------------------------------------------------------

    async def abc(self, cutoff: datetime) -> AbcReport:
        async with self._db.reading() as repos:
            q = AnalyticsQueries(repos.session)
            grades, leaders = await q.customers_ranked(cutoff, ABC_LIST)
            return await self._abc(q, grades, leaders)

    async def _abc(
        self, q: AnalyticsQueries, grades: list[AbcClassRow], leaders: list[RankedCustomer]
    ) -> AbcReport:
        rows = {row.name: row for row in grades}
        customers = sum(r.customers for r in grades)
        revenue = sum(r.revenue for r in grades)
        empty = AbcClassRow("", 0, 0, 0, 0.0)
        classes = tuple(
            AbcClass(
                name,
                rows.get(name, empty).customers,
                rows.get(name, empty).revenue,
                rows.get(name, empty).revenue / revenue if revenue else 0.0,
                rows.get(name, empty).customers / customers if customers else 0.0,
            )
            for name in ("A", "B", "C")
        )
        # the A class is the head of the ranking, so its list is the leaders it covers
        top = leaders[: classes[0].customers]
        names = await q.contacts([r.customer_id for r in top])
        return AbcReport(
            classes,
            tuple(
                AbcCustomer(
                    r.customer_id,
                    names[r.customer_id].name if r.customer_id in names else None,
                    r.revenue,
                    r.purchases,
                )
                for r in top
            ),
            revenue,
        )

    # --- cohorts ------------------------------------------------------------------------

    async def cohorts(self, cutoff: datetime, count: int = MONTHS_SHOWN) -> CohortReport:
        bounds = self._month_bounds(cutoff, count)
        async with self._db.reading() as repos:
            sizes, cells = await AnalyticsQueries(repos.session).cohorts(bounds)
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
            tuple(self._month_days(cutoff, count)),
            tuple(sizes.get(c, 0) for c in range(count)),
            shares,
        )

    # --- the model ----------------------------------------------------------------------

    async def _model(
        self, cutoff: datetime, profile: ShopProfile, *, wait: float | None = None
    ) -> tuple[ModelOutcome, ModelRows] | None:
        """Fit on one summary row per customer; cached until a sale is added or deleted.

        The fit runs as a task of its own (SQL summary, then the numerics in a thread), one
        per state of the data. With `wait` (seconds) the caller waits at most that long and
        otherwise gets the last fit with the same margin, as of the same or the previous day
        (so without the latest sales), or None when there is none; the task goes on in the
        background and fills the cache.
        """
        end = self.local_day(cutoff)
        async with self._db.reading() as repos:
            fingerprint = await AnalyticsQueries(repos.session).fingerprint(cutoff)
        key = (end, profile.margin_percent, *fingerprint)
        cache = self._cache
        if cache.key == key and cache.outcome is not None and cache.rows is not None:
            return cache.outcome, cache.rows
        task = cache.fitting.get(key)
        if task is None:
            task = asyncio.create_task(self._fit(key, cutoff, end, profile.margin_percent))
            cache.fitting[key] = task
            task.add_done_callback(lambda done: _forget(cache.fitting, key, done))
        if wait is None:
            return await asyncio.shield(task)
        done, _ = await asyncio.wait({task}, timeout=wait)
        if task in done:
            return task.result()
        if cache.outcome is not None and cache.rows is not None and cache.key is not None:
            day, margin = cache.key[0], cache.key[1]
            if (
                isinstance(day, date)
                and margin == profile.margin_percent
                and timedelta(0) <= end - day <= timedelta(days=1)
            ):
                # the same or the previous day: only the latest sales are missing from it
                return cache.outcome, cache.rows
        return None

    async def _fit(
        self, key: tuple[object, ...], cutoff: datetime, end: date, margin_percent: int
    ) -> tuple[ModelOutcome, ModelRows]:
        async with self._cache.lock:  # one fit at a time: memory and CPU stay bounded
            rows = await self._model_rows(cutoff)
            end_day = prediction.day_number(end)
            # The numerics take a second or two for 100,000 customers: keep the bot answering.
            outcome = await asyncio.to_thread(_fit_rows, rows, end_day, margin_percent / 100)
            self._cache.key, self._cache.outcome, self._cache.rows = key, outcome, rows
            return outcome, rows

    async def _model_rows(self, cutoff: datetime) -> ModelRows:
        """One summary row per customer, computed in SQL."""
        offset = self._zone.utcoffset(cutoff.replace(tzinfo=None))
        seconds = int(offset.total_seconds()) if offset is not None else 0
        async with self._db.reading() as repos:
            return await AnalyticsQueries(repos.session).model_rows(cutoff, self._zone.key, seconds)

    async def fit_model(self, cutoff: datetime, margin_percent: int) -> ModelOutcome:
        """A fresh fit as of `cutoff`, without the cache (for the command line)."""
        rows = await self._model_rows(cutoff)
        end_day = prediction.day_number(self.local_day(cutoff))
        return _fit_rows(rows, end_day, margin_percent / 100)

    async def _require_model(
        self, cutoff: datetime, profile: ShopProfile
    ) -> tuple[ModelOutcome, ModelRows]:
        fitted = await self._model(cutoff, profile)
        assert fitted is not None  # without a time limit there is always an answer
        return fitted

    async def predicted(self, cutoff: datetime) -> PredictionReport:
        profile = await self._profile()
        outcome, _ = await self._require_model(cutoff, profile)
        base = PredictionReport(
            self.local_day(cutoff), outcome, profile.currency, profile.margin_percent
        )
        if not isinstance(outcome, prediction.ModelFit):
            return base
        order = sorted(
            range(len(outcome.customer_ids)),
            key=lambda i: (-float(outcome.clv[i]), int(outcome.customer_ids[i])),
        )[:TOP_PREDICTED]
        names = await self._names([int(outcome.customer_ids[i]) for i in order])
        top = tuple(
            PredictedCustomer(
                int(outcome.customer_ids[i]),
                names.get(int(outcome.customer_ids[i])),
                float(outcome.p_alive[i]),
                float(outcome.expected_purchases[i]),
                float(outcome.expected_value[i]),
                float(outcome.clv[i]),
            )
            for i in order
        )
        return PredictionReport(
            base.as_of,
            outcome,
            profile.currency,
            profile.margin_percent,
            top,
            float(outcome.expected_purchases.sum()),
            float(outcome.clv.sum()),
        )

    async def at_risk(self, cutoff: datetime) -> list[AtRiskCustomer]:
        profile = await self._profile()
        outcome, rows = await self._require_model(cutoff, profile)
        end_day = prediction.day_number(self.local_day(cutoff))
        risky: list[RiskRow] = prediction.at_risk(rows, end_day, outcome, AT_RISK_LIST)
        async with self._db.reading() as repos:
            contacts = await AnalyticsQueries(repos.session).contacts(
                [r.customer_id for r in risky]
            )
        by_model = prediction.tells_apart(outcome)
        out = []
        for row in risky:
            contact = contacts.get(row.customer_id)
            reachable = bool(
                contact
                and contact.telegram_id is not None
                and not contact.blocked
                and contact.consent is not False
            )
            out.append(
                AtRiskCustomer(
                    row.customer_id,
                    contact.name if contact else None,
                    row.value,
                    by_model,
                    row.p_alive,
                    row.days_since_last,
                    row.cycle_days,
                    reachable,
                    "model" if by_model else "cycle",
                )
            )
        return out

    async def queue_winback(self, customer_id: int, now: datetime) -> WinbackQueued:
        """A personal win-back message through the outbox; once per customer per local day."""
        async with self._db.transaction() as repos:
            customer = await repos.customers.get(customer_id)
            if customer is None:
                raise InputError("error-customer-gone")
            if customer.telegram_id is None:
                raise InputError("winback-not-on-telegram")
            if customer.blocked_at is not None:
                raise InputError("winback-blocked")
            if customer.consent is False:
                raise InputError("winback-no-consent")
            profile = profile_from(await repos.settings.all())
            day = now.astimezone(self._zone).date()
            not_before = profile.next_send_time(now, self._zone).astimezone(UTC)
            new_id = await enqueue(
                repos,
                Outgoing(
                    key=f"winback:{customer_id}:{day.isoformat()}",
                    chat_id=customer.telegram_id,
                    customer_id=customer_id,
                    not_before=not_before,
                    payload=Winback(name=customer.name or ""),
                ),
                now,
            )
            return WinbackQueued(customer_id, customer.name, new_id is not None, not_before)

    # --- campaigns ----------------------------------------------------------------------

    async def campaigns(self, cutoff: datetime) -> list[CampaignResult]:
        async with self._db.reading() as repos:
            q = AnalyticsQueries(repos.session)
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

    # --- settings -----------------------------------------------------------------------

    async def settings(self) -> Settings:
        async with self._db.reading() as repos:
            profile = profile_from(await repos.settings.all())
            q = AnalyticsQueries(repos.session)
            cac = await _cac_by_source(q, await q.buyers_by_source(_ALL_TIME))
        return _settings(profile, cac, {}, 0)

    async def set_source_cac(self, source: str, amount_text: str) -> int | None:
        """Store the acquisition cost of one source; "-" or "0" removes it. The new value."""
        if not _SOURCE.fullmatch(source):
            raise InputError("cac-source-format")
        value = amount_text.strip()
        async with self._db.transaction() as repos:
            q = AnalyticsQueries(repos.session)
            if value in {"-", "0"}:
                await q.delete_setting(CAC_PREFIX + source)
                return None
            amount = parse_money(value)
            await repos.settings.put(CAC_PREFIX + source, str(amount))
            await q.delete_setting(SPEND_PREFIX + source)  # the cost typed last wins
            return amount

    async def _profile(self) -> ShopProfile:
        async with self._db.reading() as repos:
            return profile_from(await repos.settings.all())

    async def _names(self, ids: list[int]) -> dict[int, str | None]:
        async with self._db.reading() as repos:
            contacts = await AnalyticsQueries(repos.session).contacts(ids)
        return {cid: c.name for cid, c in contacts.items()}


def _forget(
    fitting: dict[tuple[object, ...], asyncio.Task[tuple[ModelOutcome, ModelRows]]],
    key: tuple[object, ...],
    task: asyncio.Task[tuple[ModelOutcome, ModelRows]],
) -> None:
    if fitting.get(key) is task:
        del fitting[key]
    if not task.cancelled() and task.exception() is not None:
        # Nobody may be waiting any more; the next request starts a new fit and sees the error.
        log.warning("customer-value fit failed", exc_info=task.exception())


def _fit_rows(rows: ModelRows, end_day: int, margin: float) -> ModelOutcome:
    if not rows.customer_ids:
        return prediction.TooLittleData("model-too-few-customers", 0, 0, clv.MIN_CUSTOMERS)
    return prediction.fit(prediction.summary_from_rows(rows, end_day), margin)


def _decode_cac(values: dict[str, str]) -> dict[str, int]:
    out = {}
    for source, value in values.items():
        if value.isdigit():  # a hand-edited row is skipped, not a crash
            out[source] = int(value)
    return out


async def _cac_by_source(
    q: AnalyticsQueries, buyers_by_source: dict[str | None, int]
) -> dict[str, int]:
    """Cost per customer of each source: typed with /cac, or a /spend total ÷ its buyers."""
    cac = _decode_cac(await q.prefixed_settings(CAC_PREFIX))
    for source, spend in _decode_cac(await q.prefixed_settings(SPEND_PREFIX)).items():
        buyers = buyers_by_source.get(source, 0)
        if source not in cac and buyers:
            cac[source] = round(spend / buyers)
    return cac


def _settings(
    profile: ShopProfile,
    cac_by_source: dict[str, int],
    buyers_by_source: dict[str | None, int],
    buyers: int,
) -> Settings:
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


def _months(days: list[date], counts: list[MonthCounts]) -> tuple[MonthRevenue, ...]:
    return tuple(
        MonthRevenue(day, c.purchases, c.revenue, c.first_revenue)
        for day, c in zip(days, counts, strict=True)
    )
