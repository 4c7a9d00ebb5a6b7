"""Predicted customer value for the shop: the BG/NBD + Gamma-Gamma model on SQL summary rows.

`services/clv.py` holds the numerics; this module turns the database's one-row-per-customer
summary into its input, decides when the data is too thin to say anything, and picks the
customers worth a win-back message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from services import clv
from storage.analytics import ModelRows

UNIT_DAYS = 7.0  # weeks, the unit of the published CDNOW estimates
HORIZON_DAYS = 90  # "expected purchases in the next 90 days"
CLV_DAYS = 365  # "predicted 12-month CLV"
AT_RISK_ALIVE = 0.5  # below this probability of being active a valuable customer is at risk
LATE_FACTOR = 1.5  # late by more than half the personal cycle
# When the model cannot tell customers apart, a customer is at risk once the time since their
# last visit is more than twice their own cycle (or twice the shop's median cycle after one visit).
CYCLE_FACTOR = 2.0
# A fitted drop-out prior with a this close to 0 means "nobody ever leaves", and P(alive) of
# 0.99 for everyone says the same: the model sees no difference between customers.
DEGENERATE_A = 1e-3
DEGENERATE_ALIVE = 0.99


@dataclass(frozen=True, slots=True)
class ModelFit:
    """Both fitted models and the per-customer predictions, aligned with `customer_ids`."""

    bgnbd: clv.BgNbdFit
    gamma_gamma: clv.GammaGammaFit
    customer_ids: npt.NDArray[np.int64]
    p_alive: npt.NDArray[np.float64]
    expected_purchases: npt.NDArray[np.float64]  # next HORIZON_DAYS
    expected_value: npt.NDArray[np.float64]  # of one order, minor units
    clv: npt.NDArray[np.float64]  # CLV_DAYS, times the margin, minor units
    repeat_buyers: int

    @property
    def mean_clv(self) -> float:
        return float(np.mean(self.clv)) if len(self.clv) else 0.0


@dataclass(frozen=True, slots=True)
class TooLittleData:
    """Why the model was not fitted: a message id and its numbers."""

    reason: str
    customers: int
    repeat_buyers: int
    needed: int


ModelOutcome = ModelFit | TooLittleData


def summary_from_rows(
    rows: ModelRows, end_day: int, *, unit_days: float = UNIT_DAYS
) -> clv.Summary:
    """The model's input from the SQL rows; `end_day` is the calibration end (a day number)."""
    days = np.asarray(rows.purchase_days, dtype=np.float64)
    first = np.asarray(rows.first_day, dtype=np.float64)
    last = np.asarray(rows.last_day, dtype=np.float64)
    x = days - 1.0
    repeat = np.asarray(rows.repeat_amount, dtype=np.float64)
    m = np.divide(repeat, x, out=np.zeros_like(repeat), where=x > 0)
    return clv.Summary.from_arrays(
        np.asarray(rows.customer_ids, dtype=np.int64),
        x,
        (last - first) / unit_days,
        (end_day - first) / unit_days,
        m,
        unit_days=unit_days,
    )


def fit(summary: clv.Summary, margin: float) -> ModelOutcome:
    """Fit both models, or say plainly that the data is too thin for them."""
    n = len(summary)
    repeat = int(np.count_nonzero(summary.x > 0))
    spenders = int(np.count_nonzero((summary.x > 0) & (summary.m > 0)))
    if n < clv.MIN_CUSTOMERS:
        return TooLittleData("model-too-few-customers", n, repeat, clv.MIN_CUSTOMERS)
    if repeat < clv.MIN_REPEAT_BUYERS:
        return TooLittleData("model-too-few-repeat", n, repeat, clv.MIN_REPEAT_BUYERS)
    if spenders < clv.MIN_SPEND_CUSTOMERS:
        return TooLittleData("model-too-few-spenders", n, spenders, clv.MIN_SPEND_CUSTOMERS)
    try:
        out = clv.predict(
            summary,
            horizon_units=summary.units(HORIZON_DAYS),
            clv_horizon_units=summary.units(CLV_DAYS),
            margin=margin,
        )
    except clv.NotEnoughData:
        return TooLittleData("model-not-fitted", n, repeat, 0)
    # q <= 1 has no finite mean order value: the spend model says nothing usable.
    if not (out.gamma_gamma.q > 1 and math.isfinite(out.gamma_gamma.population_mean)):
        return TooLittleData("model-not-fitted", n, repeat, 0)
    return ModelFit(
        out.bgnbd,
        out.gamma_gamma,
        np.asarray(summary.customer_ids, dtype=np.int64),
        out.p_alive,
        out.expected_purchases,
        out.expected_value,
        out.clv,
        repeat,
    )


@dataclass(frozen=True, slots=True)
class RiskRow:
    customer_id: int
    value: float  # predicted CLV (minor units) when the model fits, else revenue so far
    p_alive: float | None
    days_since_last: int
    cycle_days: float | None  # mean days between purchase days; None after one visit


def tells_apart(model: ModelOutcome) -> bool:
    """Whether the fitted model's P(alive) can be trusted to rank customers."""
    if not isinstance(model, ModelFit):
        return False
    if model.bgnbd.a < DEGENERATE_A:
        return False
    return bool(len(model.p_alive)) and not bool(np.all(model.p_alive >= DEGENERATE_ALIVE))


def at_risk(rows: ModelRows, end_day: int, model: ModelOutcome, limit: int) -> list[RiskRow]:
    """Valuable customers who are probably gone; the most valuable come first.

    With a model that tells customers apart: above-median predicted CLV and P(alive) < 0.5
    or late by more than 1.5 cycles. Otherwise (no model, or a degenerate one) the cycle
    rule on revenue so far: at or above the median, and away for more than twice their own
    cycle, or twice the shop's median cycle when they came once.
    """
    if not rows.customer_ids:
        return []
    if not isinstance(model, ModelFit) or not tells_apart(model):
        return _at_risk_by_cycle(rows, end_day, limit)
    ids = np.asarray(rows.customer_ids, dtype=np.int64)
    first = np.asarray(rows.first_day, dtype=np.float64)
    last = np.asarray(rows.last_day, dtype=np.float64)
    visits = np.asarray(rows.purchase_days, dtype=np.float64)
    since = end_day - last
    gaps = visits - 1.0
    cycle = np.divide(last - first, gaps, out=np.full_like(first, np.nan), where=gaps > 0)
    late = np.where(np.isnan(cycle), False, since > LATE_FACTOR * np.nan_to_num(cycle))
    value = model.clv
    risky = late | (model.p_alive < AT_RISK_ALIVE)
    chosen = np.flatnonzero((value > np.median(value)) & risky)
    chosen = chosen[np.lexsort((ids[chosen], -value[chosen]))][:limit]
    return [
        RiskRow(
            int(ids[i]),
            float(value[i]),
            float(model.p_alive[i]),
            int(since[i]),
            None if math.isnan(cycle[i]) else float(cycle[i]),
        )
        for i in chosen
    ]


def _at_risk_by_cycle(rows: ModelRows, end_day: int, limit: int) -> list[RiskRow]:
    ids = np.asarray(rows.customer_ids, dtype=np.int64)
    first = np.asarray(rows.first_day, dtype=np.float64)
    last = np.asarray(rows.last_day, dtype=np.float64)
    gaps = np.asarray(rows.purchase_days, dtype=np.float64) - 1.0
    since = end_day - last
    cycle = np.divide(last - first, gaps, out=np.full_like(first, np.nan), where=gaps > 0)
    known = ~np.isnan(cycle)
    shop_cycle = float(np.median(cycle[known])) if known.any() else math.nan
    own = np.where(known, cycle, shop_cycle)
    late = np.where(np.isnan(own), False, since > CYCLE_FACTOR * np.nan_to_num(own))
    value = np.asarray(rows.revenue, dtype=np.float64)
    # At or above the median: when every customer spent the same, all of them still count.
    chosen = np.flatnonzero((value >= np.median(value)) & late & (value > 0))
    chosen = chosen[np.lexsort((ids[chosen], -value[chosen]))][:limit]
    return [
        RiskRow(
            int(ids[i]),
            float(value[i]),
            None,
            int(since[i]),
            None if math.isnan(cycle[i]) else float(cycle[i]),
        )
        for i in chosen
    ]


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days
