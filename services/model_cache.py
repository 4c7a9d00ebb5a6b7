"""The predictive customer-value model (BG/NBD + Gamma-Gamma), fitted once per state of the data.

A fit reads one summary row per customer (SQL) and runs the numerics in a thread; it is cached
until a sale is added or deleted (the purchases' count and highest id before the cutoff), the
day or the margin changes. The "Predicted value" and "At risk" views read it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services import clv, prediction
from services.prediction import ModelOutcome, RiskRow
from services.shop import ShopProfile, profile_from
from services.stats_calendar import StatsCalendar
from storage.analytics import ModelRows
from storage.database import Database

log = logging.getLogger(__name__)

AT_RISK_LIST = 10
TOP_PREDICTED = 10
# /stats waits this long for a fit of new data, then answers with the fit from before the
# latest sales (or without the prediction, the first time) while the fit goes on.
MODEL_WAIT_SECONDS = 1.0

Fitted = tuple[ModelOutcome, ModelRows]


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


class ModelCache:
    def __init__(self, db: Database, calendar: StatsCalendar) -> None:
        self._db = db
        self._calendar = calendar
        self._key: tuple[object, ...] | None = None
        self._fitted: Fitted | None = None
        self._lock = asyncio.Lock()
        self._fitting: dict[tuple[object, ...], asyncio.Task[Fitted]] = {}

    async def model(
        self, cutoff: datetime, profile: ShopProfile, *, wait: float | None = None
    ) -> Fitted | None:
        """Fit on one summary row per customer; cached until a sale is added or deleted.

        The fit runs as a task of its own (SQL summary, then the numerics in a thread), one
        per state of the data. With `wait` (seconds) the caller waits at most that long and
        otherwise gets the last fit with the same margin, as of the same or the previous day
        (so without the latest sales), or None when there is none; the task goes on in the
        background and fills the cache.
        """
        end = self._calendar.local_day(cutoff)
        async with self._db.reading() as repos:
            fingerprint = await repos.analytics.fingerprint(cutoff)
        key = (end, profile.margin_percent, *fingerprint)
        if self._key == key and self._fitted is not None:
            return self._fitted
        task = self._fitting.get(key)
        if task is None:
            task = asyncio.create_task(self._fit(key, cutoff, end, profile.margin_percent))
            self._fitting[key] = task
            task.add_done_callback(lambda done: _forget(self._fitting, key, done))
        if wait is None:
            return await asyncio.shield(task)
        done, _ = await asyncio.wait({task}, timeout=wait)
        if task in done:
            return task.result()
        if self._fitted is not None and self._key is not None:
            day, margin = self._key[0], self._key[1]
            if (
                isinstance(day, date)
                and margin == profile.margin_percent
                and timedelta(0) <= end - day <= timedelta(days=1)
            ):
                # the same or the previous day: only the latest sales are missing from it
                return self._fitted
        return None

    async def _fit(
        self, key: tuple[object, ...], cutoff: datetime, end: date, margin_percent: int
    ) -> Fitted:
        async with self._lock:  # one fit at a time: memory and CPU stay bounded
            rows = await self._model_rows(cutoff)
            end_day = prediction.day_number(end)
            # The numerics take a second or two for 100,000 customers: keep the bot answering.
            outcome = await asyncio.to_thread(fit_rows, rows, end_day, margin_percent / 100)
            self._key, self._fitted = key, (outcome, rows)
            return outcome, rows

    async def _model_rows(self, cutoff: datetime) -> ModelRows:
        """One summary row per customer, computed in SQL."""
        seconds = self._calendar.utc_offset_seconds(cutoff)
        async with self._db.reading() as repos:
            return await repos.analytics.model_rows(cutoff, self._calendar.zone.key, seconds)

    async def fit_model(self, cutoff: datetime, margin_percent: int) -> ModelOutcome:
        """A fresh fit as of `cutoff`, without the cache (for the command line)."""
        rows = await self._model_rows(cutoff)
        end_day = prediction.day_number(self._calendar.local_day(cutoff))
        return fit_rows(rows, end_day, margin_percent / 100)

    async def _require_model(self, cutoff: datetime, profile: ShopProfile) -> Fitted:
        fitted = await self.model(cutoff, profile)
        assert fitted is not None  # without a time limit there is always an answer
        return fitted

    async def predicted(self, cutoff: datetime) -> PredictionReport:
        profile = await load_profile(self._db)
        outcome, _ = await self._require_model(cutoff, profile)
        base = PredictionReport(
            self._calendar.local_day(cutoff), outcome, profile.currency, profile.margin_percent
        )
        if not isinstance(outcome, prediction.ModelFit):
            return base
        order = sorted(
            range(len(outcome.customer_ids)),
            key=lambda i: (-float(outcome.clv[i]), int(outcome.customer_ids[i])),
        )[:TOP_PREDICTED]
        async with self._db.reading() as repos:
            contacts = await repos.analytics.contacts([int(outcome.customer_ids[i]) for i in order])
        top = tuple(
            PredictedCustomer(
                int(outcome.customer_ids[i]),
                contact.name if (contact := contacts.get(int(outcome.customer_ids[i]))) else None,
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
        profile = await load_profile(self._db)
        outcome, rows = await self._require_model(cutoff, profile)
        end_day = prediction.day_number(self._calendar.local_day(cutoff))
        risky: list[RiskRow] = prediction.at_risk(rows, end_day, outcome, AT_RISK_LIST)
        async with self._db.reading() as repos:
            contacts = await repos.analytics.contacts([r.customer_id for r in risky])
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


async def load_profile(db: Database) -> ShopProfile:
    async with db.reading() as repos:
        return profile_from(await repos.settings.all())


def _forget(
    fitting: dict[tuple[object, ...], asyncio.Task[Fitted]],
    key: tuple[object, ...],
    task: asyncio.Task[Fitted],
) -> None:
    if fitting.get(key) is task:
        del fitting[key]
    if not task.cancelled() and task.exception() is not None:
        # Nobody may be waiting any more; the next request starts a new fit and sees the error.
        log.warning("customer-value fit failed", exc_info=task.exception())


def fit_rows(rows: ModelRows, end_day: int, margin: float) -> ModelOutcome:
    if not rows.customer_ids:
        return prediction.TooLittleData("model-too-few-customers", 0, 0, clv.MIN_CUSTOMERS)
    return prediction.fit(prediction.summary_from_rows(rows, end_day), margin)
