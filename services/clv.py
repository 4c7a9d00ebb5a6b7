"""Predictive customer value: the BG/NBD purchase model and the Gamma-Gamma spend model.

Pure numerics (numpy + scipy), no bot or database code, written from the published math:

* Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to
  the Pareto/NBD Model", Marketing Science 24(2) -- the BG/NBD model: its likelihood, the
  expected purchases of a new customer, and the conditional expectation (eq. 10); P(alive)
  as in the authors' note "Computing P(alive) Using the BG/NBD Model".
* Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
  Analysis", and Fader & Hardie's note "The Gamma-Gamma Model of Monetary Value" -- the spend
  model and its conditional expectation of a customer's average order value.

Data convention (the one behind the published CDNOW numbers)
-------------------------------------------------------------
Time is counted in *units* of ``unit_days`` days (default 7: weeks), from calendar-day
differences. For every customer with a purchase on or before the calibration end:

* all of a customer's purchases on one calendar day are one purchase (amounts added);
* ``x``   -- repeat purchases: distinct purchase days - 1;
* ``t_x`` -- last purchase day - first purchase day, in units (0 when ``x == 0``);
* ``T``   -- calibration end - first purchase day, in units;
* ``m``   -- mean amount of the repeat purchases (the first purchase is left out; 0 when
  ``x == 0``).

Refunds: a row with a negative amount on a day that also has a purchase (an amount >= 0) is
netted into that day's amount. A day with only negative rows is a refund, not a purchase: it
does not count as a purchase day and its amount is ignored. Zero amounts (free orders) do
count as purchases. The SQL side can compute the same rows and hand them to
``Summary.from_arrays``.

API
---
``summarize(transactions, calibration_end, *, unit_days=7.0) -> Summary``
    ``transactions`` is an iterable of ``(customer_id, date_or_datetime, amount)``.
    Datetimes are reduced to their own calendar date (convert aware datetimes to the shop's
    time zone first if "a day" should be a local day).
``Summary.from_arrays(customer_ids, x, t_x, T, m=None, *, unit_days=7.0) -> Summary``
``Summary.units(days) -> float``              days expressed in the summary's time unit
``fit_bgnbd(summary) -> BgNbdFit``           r, alpha, a, b, log_likelihood, n_customers
``fit_gamma_gamma(summary) -> GammaGammaFit`` p, q, gamma, log_likelihood, n_customers
``probability_alive(fit, summary) -> ndarray``
``expected_purchases(fit, summary, horizon_units) -> ndarray``
    expected number of purchases in the next ``horizon_units`` after the calibration end.
``expected_order_value(gg_fit, summary) -> ndarray``
    expected value of one future order (the population mean for customers with x == 0).
``predict(summary, *, horizon_units, clv_horizon_units, margin, bgnbd=None,
gamma_gamma=None) -> Predictions``
    fits whatever model is not given and returns arrays (``Predictions.rows()`` gives a list
    of ``CustomerPrediction``): p_alive, expected_purchases over ``horizon_units``,
    expected_value (of one order), and
    ``clv = expected purchases over clv_horizon_units * expected_value * margin``
    (undiscounted, ``margin`` a fraction in [0, 1]).
``calibration_check(fit, summary) -> CalibrationCheck``
    model-expected vs actual repeat purchases in the calibration period.
``unconditional_expected_purchases(fit, t) -> float``   a new customer over ``t`` units.
``simulate_summary(...) -> Summary``  synthetic customers drawn from both models (tests,
benchmarks).

Example, weeks as the unit::

    s = summarize(rows, date(2024, 6, 30))
    out = predict(s, horizon_units=s.units(90), clv_horizon_units=s.units(365), margin=0.3)

Every fit raises ``NotEnoughData`` (with a plain-English ``reason``) when the data cannot
support the model, and ``FitDidNotConverge`` (a subclass) when the optimiser fails; no
function returns NaN or infinity for valid input.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class _Lazy:
    """A scipy subpackage imported on first use: the bot imports this module at start-up,
    and scipy adds about 50 MB to every process that loads it, fit or no fit."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        # scipy's own OpenBLAS reads this once, when it loads. L-BFGS-B calls BLAS on vectors
        # of four numbers; a second BLAS thread only spins against the likelihood's numpy work
        # (a third of a 100,000-customer fit's time on a busy two-core machine). A value the
        # operator set wins; numpy's separate BLAS is already loaded and keeps its threads.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)  # found directly from now on, without this method
        return value


special: Any = _Lazy("scipy.special")
optimize: Any = _Lazy("scipy.optimize")
integrate: Any = _Lazy("scipy.integrate")

__all__ = [
    "BgNbdFit",
    "CalibrationCheck",
    "CustomerPrediction",
    "FitDidNotConverge",
    "GammaGammaFit",
    "NotEnoughData",
    "Predictions",
    "Summary",
    "calibration_check",
    "expected_order_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "predict",
    "probability_alive",
    "simulate_summary",
    "summarize",
    "unconditional_expected_purchases",
]

# Minimum data for a fit. These are floors below which maximum likelihood is degenerate or
# pure noise, not a promise of good estimates above them (those settle at a few hundred
# customers). BG/NBD has four parameters: with fewer than 20 customers there are barely
# more observations than parameters. Its purchase rate (r, alpha) and drop-out (a, b) are
# learned only from people who came back; with no repeat buyers the likelihood has no
# interior maximum at all (r runs to 0) and with a couple it is dominated by those few.
MIN_CUSTOMERS: Final = 20
MIN_REPEAT_BUYERS: Final = 5
# Gamma-Gamma has three parameters learned from the average spend of repeat buyers alone;
# fewer than 10 averages leave the spread between and within customers unidentified.
MIN_SPEND_CUSTOMERS: Final = 10

# Parameters are optimised as logarithms inside these bounds, on data rescaled to a typical
# magnitude of 1 (time by the mean T, money by the median average order). e**±12 spans
# 6e-6 .. 1.6e5, far beyond any sensible estimate; a solution on a bound is the limit of a
# degenerate direction (e.g. nobody ever drops out: a -> 0) and still predicts finite numbers.
_LOG_BOUND: Final = 12.0
# Projected-gradient size (of the mean log-likelihood) accepted as converged when the
# optimiser stops for another reason, e.g. a line search that cannot improve in float64.
_GRADIENT_TOLERANCE: Final = 1e-4


class NotEnoughData(Exception):
    """The data cannot support the model; ``reason`` says why in plain English."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FitDidNotConverge(NotEnoughData):
    """The optimiser did not find a maximum of the likelihood."""


# --------------------------------------------------------------------------------------------
# Summary


def _readonly(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    arr.flags.writeable = False
    return arr


def _id_array(ids: Sequence[Hashable] | npt.NDArray[Any]) -> npt.NDArray[Any]:
    if isinstance(ids, np.ndarray) and ids.ndim == 1:
        arr = ids.copy()
    else:
        # element by element: tuples as ids must not become a second dimension
        arr = np.empty(len(ids), dtype=object)
        for i, cid in enumerate(ids):
            arr[i] = cid
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True)
class Summary:
    """Per-customer calibration summary; arrays are read-only and aligned by position.

    ``x`` repeat purchases, ``t_x`` recency and ``T`` age in units of ``unit_days`` days,
    ``m`` mean repeat-purchase amount. Construct with ``summarize`` or ``from_arrays``.
    """

    customer_ids: npt.NDArray[Any]
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    m: FloatArray
    unit_days: float = 7.0

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "customer_ids", _id_array(self.customer_ids))
        for name in ("x", "t_x", "T", "m"):
            setattr_(self, name, _readonly(getattr(self, name), name))
        n = len(self.customer_ids)
        for name in ("x", "t_x", "T", "m"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {n} customers")
        if not (math.isfinite(self.unit_days) and self.unit_days > 0):
            raise ValueError("unit_days must be a positive number")
        x, t_x, big_t = self.x, self.t_x, self.T
        if np.any(x < 0) or np.any(x != np.floor(x)):
            raise ValueError("x (repeat purchases) must be whole numbers >= 0")
        if np.any(t_x < 0) or np.any(t_x > big_t):
            raise ValueError("need 0 <= t_x <= T for every customer")
        if np.any(t_x[x == 0] != 0):
            raise ValueError("t_x must be 0 for customers without repeat purchases")

    @classmethod
    def from_arrays(
        cls,
        customer_ids: Sequence[Hashable] | npt.NDArray[Any],
        x: npt.ArrayLike,
        t_x: npt.ArrayLike,
        T: npt.ArrayLike,
        m: npt.ArrayLike | None = None,
        *,
        unit_days: float = 7.0,
    ) -> Summary:
        """Build from already-aggregated per-customer values (e.g. computed in SQL).

        ``m`` defaults to zeros (enough for the purchase model, not for spend).
        Raises ValueError for inconsistent rows (negative counts, t_x > T, ...).
        """
        if m is None:
            m = np.zeros(len(customer_ids))
        return cls(customer_ids, x, t_x, T, m, unit_days)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.customer_ids)

    def units(self, days: float) -> float:
        """``days`` expressed in this summary's time unit (e.g. 90 days -> 12.86 weeks)."""
        return days / self.unit_days


def _as_day(when: date) -> date:
    return when.date() if isinstance(when, datetime) else when


def summarize(
    transactions: Iterable[tuple[Hashable, date, float]],
    calibration_end: date,
    *,
    unit_days: float = 7.0,
) -> Summary:
    """Summarise ``(customer_id, date or datetime, amount)`` rows up to ``calibration_end``.

    Customers appear in order of their first row; see the module docstring for the rules.
    """
    if not (math.isfinite(unit_days) and unit_days > 0):
        raise ValueError("unit_days must be a positive number")
    end = _as_day(calibration_end)
    # customer -> day -> [net amount, has a non-negative row]
    days: dict[Hashable, dict[date, list[float]]] = {}
    for customer_id, when, amount in transactions:
        day = _as_day(when)
        if day > end:
            continue
        value = float(amount)
        if not math.isfinite(value):
            raise ValueError(f"amount for customer {customer_id!r} on {day} is not finite")
        slot = days.setdefault(customer_id, {}).setdefault(day, [0.0, 0.0])
        slot[0] += value
        if value >= 0:
            slot[1] = 1.0

    ids: list[Hashable] = []
    xs: list[float] = []
    recency: list[float] = []
    age: list[float] = []
    means: list[float] = []
    for customer_id, by_day in days.items():
        purchases = sorted((d, v[0]) for d, v in by_day.items() if v[1])
        if not purchases:
            continue  # only refunds: not a customer of the calibration period
        first, last = purchases[0][0], purchases[-1][0]
        repeat = len(purchases) - 1
        ids.append(customer_id)
        xs.append(repeat)
        recency.append((last - first).days / unit_days)
        age.append((end - first).days / unit_days)
        means.append(sum(v for _, v in purchases[1:]) / repeat if repeat else 0.0)
    return Summary(ids, xs, recency, age, means, unit_days)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Fits


@dataclass(frozen=True, slots=True)
class BgNbdFit:
    """BG/NBD estimates: purchase rate ~ Gamma(r, alpha), drop-out prob. ~ Beta(a, b).

    ``alpha`` is in the summary's time unit.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int


@dataclass(frozen=True, slots=True)
class GammaGammaFit:
    """Gamma-Gamma estimates: order value ~ Gamma(p, nu), nu ~ Gamma(q, gamma).

    ``n_customers`` counts the repeat buyers with a positive average order the fit used.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int

    @property
    def population_mean(self) -> float:
        """Expected order value of a customer we know nothing about: p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1.0)


ObjectiveFn = Callable[[FloatArray], tuple[float, FloatArray]]


def _projected_gradient(theta: FloatArray, grad: FloatArray) -> FloatArray:
    at_low = theta <= -_LOG_BOUND + 1e-9
    at_high = theta >= _LOG_BOUND - 1e-9
    g = grad.copy()
    g[at_low] = np.minimum(g[at_low], 0.0)  # wants to go further down: blocked
    g[at_high] = np.maximum(g[at_high], 0.0)
    return g


def _weighted_mean(
    ll: FloatArray, grad: FloatArray, weights: FloatArray
) -> tuple[float, FloatArray]:
    """Negated weighted mean of per-row log-likelihoods and gradients.

    Plain element-wise sums rather than ``@``: with a BLAS matrix-vector product (and its
    worker threads) in the loop, fits ran 1.5-2.5x slower on a busy two-core machine.
    """
    return -float(np.sum(weights * ll)), -np.sum(grad * weights, axis=1)


def _maximise(objective: ObjectiveFn, starts: Sequence[FloatArray], model: str) -> FloatArray:
    """Minimise a mean negative log-likelihood over log-parameters from several starts.

    The likelihoods are flat, and now and then bimodal, along degenerate directions (e.g.
    little drop-out can be a small ``a`` or a large ``b``), so every start is run and the
    best converged result wins; fits are cheap (CDNOW: milliseconds).
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(starts[0])
    best: tuple[float, FloatArray] | None = None
    last_message = "no start point"
    for start in starts:
        res = optimize.minimize(
            objective,
            np.clip(start, -_LOG_BOUND, _LOG_BOUND),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        theta = np.asarray(res.x, dtype=np.float64)
        last_message = str(res.message)
        if not np.all(np.isfinite(theta)):
            continue
        value, grad = objective(theta)
        converged = bool(res.success) or (
            float(np.max(np.abs(_projected_gradient(theta, grad)))) < _GRADIENT_TOLERANCE
        )
        if not (converged and math.isfinite(value) and np.all(np.isfinite(grad))):
            continue
        if best is None or value < best[0]:
            best = (value, theta)
    if best is None:
        raise FitDidNotConverge(
            f"the {model} fit did not converge ({last_message}); the data may be too small or "
            "too unusual for the model"
        )
    return best[1]


def _distinct(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """The distinct values and, per element, the index of its value among them."""
    found, inverse = np.unique(values, return_inverse=True)
    return found, np.asarray(inverse, dtype=np.intp).ravel()


def _rows_with(mask: npt.NDArray[np.bool_]) -> slice | npt.NDArray[np.bool_]:
    """``mask`` as a slice when its rows are one run at the end (rows sorted by x), else as is."""
    count = int(np.count_nonzero(mask))
    start = len(mask) - count
    if count and bool(np.all(mask[start:])):
        return slice(start, None)
    return mask


@dataclass(frozen=True, slots=True)
class _BgNbdRows:
    """BG/NBD input laid out for fast likelihoods.

    A shop has 100,000 customers but only a few dozen distinct purchase counts and a thousand
    distinct ages: every special function (gammaln, digamma) and logarithm is evaluated once
    per distinct value and gathered per row. Every row gets bit for bit the value the
    row-by-row formula gives, only about five times faster.
    """

    x: FloatArray
    rep: slice | npt.NDArray[np.bool_]  # rows with x > 0
    xr: FloatArray
    x_values: FloatArray
    x_at: npt.NDArray[np.intp]
    xr_at: npt.NDArray[np.intp]
    t_values: FloatArray  # distinct T
    t_at: npt.NDArray[np.intp]
    tx_values: FloatArray  # distinct t_x of the repeat buyers
    tx_at: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> _BgNbdRows:
        rep = _rows_with(x > 0)
        x_values, x_at = _distinct(x)
        t_values, t_at = _distinct(big_t)
        tx_values, tx_at = _distinct(t_x[rep])
        return cls(x, rep, x[rep], x_values, x_at, x_at[rep], t_values, t_at, tx_values, tx_at)


def _bgnbd_loglik_terms(
    theta: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row BG/NBD log-likelihood (FHL 2005, in logs) and its gradient w.r.t. log-params."""
    return _bgnbd_terms(theta, _BgNbdRows.of(x, t_x, big_t))


def _bgnbd_terms(theta: FloatArray, d: _BgNbdRows) -> tuple[FloatArray, FloatArray]:
    """``_bgnbd_loglik_terms`` on prepared rows: per-row log-likelihood and gradient."""
    r, alpha, a, b = np.exp(theta)
    x, rep, xr, ux = d.x, d.rep, d.xr, d.x_values
    log_alpha = np.log(alpha)
    alpha_t = (alpha + d.t_values)[d.t_at]
    log_alpha_t = np.log(alpha + d.t_values)[d.t_at]

    # terms of x alone: once per distinct x
    a12 = special.gammaln(r + ux) - special.gammaln(r) + r * log_alpha
    a12 = a12 + (
        special.gammaln(a + b)
        + special.gammaln(b + ux)
        - special.gammaln(b)
        - special.gammaln(a + b + ux)
    )
    a3 = -(r + x) * log_alpha_t
    a4 = np.full_like(x, -np.inf)
    log_alpha_tx = np.log(alpha + d.tx_values)[d.tx_at]
    with np.errstate(divide="ignore", invalid="ignore"):  # x = 0 (b - 1 <= 0): never gathered
        a4_x = np.log(a) - np.log(b + ux - 1.0)
    a4[rep] = a4_x[d.xr_at] - (r + xr) * log_alpha_tx
    tail = np.logaddexp(a3, a4)
    ll = a12[d.x_at] + tail

    w4 = np.exp(a4 - tail)  # share of "dropped out after the last purchase"
    w3 = 1.0 - w4
    w4r = w4[rep]
    psi_abx = special.digamma(a + b + ux)
    psi_ab = special.digamma(a + b)
    d_r = (special.digamma(r + ux) - special.digamma(r) + log_alpha)[d.x_at] - w3 * log_alpha_t
    d_alpha = r / alpha - w3 * (r + x) / alpha_t
    d_a = (psi_ab - psi_abx)[d.x_at]
    d_b = (psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx)[d.x_at]
    d_r[rep] -= w4r * log_alpha_tx
    d_alpha[rep] -= w4r * (r + xr) / (alpha + d.tx_values)[d.tx_at]
    d_a[rep] += w4r / a
    d_b[rep] -= w4r / (b + ux - 1.0)[d.xr_at]
    grad = np.empty((4, len(x)))
    np.multiply(d_r, r, out=grad[0])
    np.multiply(d_alpha, alpha, out=grad[1])
    np.multiply(d_a, a, out=grad[2])
    np.multiply(d_b, b, out=grad[3])
    return ll, grad


def fit_bgnbd(summary: Summary) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit. Raises NotEnoughData / FitDidNotConverge."""
    n = len(summary)
    repeaters = int(np.count_nonzero(summary.x > 0))
    if n < MIN_CUSTOMERS:
        raise NotEnoughData(
            f"only {n} customers; the purchase model needs at least {MIN_CUSTOMERS}"
        )
    if repeaters < MIN_REPEAT_BUYERS:
        raise NotEnoughData(
            f"only {repeaters} customers bought more than once; the purchase model needs at "
            f"least {MIN_REPEAT_BUYERS} repeat buyers to learn how often people come back"
        )

    # Identical rows contribute identical terms: fit on the distinct rows, weighted.
    rows, counts = np.unique(
        np.column_stack([summary.x, summary.t_x, summary.T]), axis=0, return_counts=True
    )
    weights = counts.astype(np.float64) / n
    scale = float(np.mean(summary.T))
    if scale <= 0:
        raise NotEnoughData("no time has passed since the customers' first purchases")
    x, t_x, big_t = rows[:, 0], rows[:, 1] / scale, rows[:, 2] / scale

    prepared = _BgNbdRows.of(x, t_x, big_t)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = _bgnbd_terms(theta, prepared)
        return _weighted_mean(ll, grad, weights)

    # Start at unit shapes with the rate scale matched to the observed repeat rate.
    rate_scale = math.log(float(np.sum(summary.T / scale)) / float(np.sum(summary.x)))
    starts = [
        np.array([0.0, rate_scale, 0.0, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.0]),
        np.array([math.log(0.5), rate_scale, math.log(0.5), math.log(3.0)]),
        np.array([0.0, rate_scale, math.log(5.0), math.log(50.0)]),  # little drop-out
    ]
    theta = _maximise(objective, starts, "purchase-model (BG/NBD)")
    r, alpha_scaled, a, b = (float(v) for v in np.exp(theta))
    alpha = alpha_scaled * scale
    ll_rows, _ = _bgnbd_loglik_terms(np.log(np.array([r, alpha, a, b])), x, rows[:, 1], rows[:, 2])
    log_likelihood = float(np.sum(counts * ll_rows))
    if not math.isfinite(log_likelihood):
        raise FitDidNotConverge("the purchase-model fit produced a non-finite likelihood")
    return BgNbdFit(r, alpha, a, b, log_likelihood, n)


@dataclass(frozen=True, slots=True)
class _GammaGammaRows:
    """Gamma-Gamma input laid out for fast likelihoods: constants once, x-terms per distinct x."""

    x: FloatArray
    m: FloatArray
    log_m: FloatArray
    xm: FloatArray
    x_values: FloatArray
    x_at: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: FloatArray, m: FloatArray) -> _GammaGammaRows:
        x_values, x_at = _distinct(x)
        return cls(x, m, np.log(m), x * m, x_values, x_at)


def _gg_loglik_terms(
    theta: FloatArray, x: FloatArray, m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend and its log-param gradient."""
    return _gg_terms(theta, _GammaGammaRows.of(x, m))


def _gg_terms(theta: FloatArray, d: _GammaGammaRows) -> tuple[FloatArray, FloatArray]:
    """``_gg_loglik_terms`` on prepared rows (bit for bit the same values, faster)."""
    p, q, gamma = np.exp(theta)
    ux, at = d.x_values, d.x_at
    pux = p * ux
    px = p * d.x
    log_ux = np.log(ux)
    log_gamma = math.log(gamma)
    log_gxm = np.log(gamma + d.xm)
    head = special.gammaln(pux + q) - special.gammaln(pux) - special.gammaln(q) + q * log_gamma
    ll = head[at] + (px - 1.0) * d.log_m + (pux * log_ux)[at] - (px + q) * log_gxm
    psi_pxq = special.digamma(pux + q)
    d_p = d.x * ((psi_pxq - special.digamma(pux))[at] + d.log_m + log_ux[at] - log_gxm)
    d_q = (psi_pxq - special.digamma(q) + log_gamma)[at] - log_gxm
    d_gamma = q / gamma - (px + q) / (gamma + d.xm)
    grad = np.empty((3, len(d.x)))
    np.multiply(d_p, p, out=grad[0])
    np.multiply(d_q, q, out=grad[1])
    np.multiply(d_gamma, gamma, out=grad[2])
    return ll, grad


def fit_gamma_gamma(summary: Summary) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers with a positive mean spend.

    Customers with x == 0 carry no spend information under the convention (the first
    purchase is left out); customers whose repeat purchases average to zero or less (free
    orders, refunds) are outside the model and are left out too.
    """
    use = (summary.x > 0) & (summary.m > 0)
    k = int(np.count_nonzero(use))
    if k < MIN_SPEND_CUSTOMERS:
        raise NotEnoughData(
            f"only {k} repeat buyers spent a positive amount on their repeat orders; the spend "
            f"model needs at least {MIN_SPEND_CUSTOMERS}"
        )
    x_all, m_all = summary.x[use], summary.m[use]
    if np.ptp(m_all) == 0 and np.ptp(x_all) == 0:
        raise NotEnoughData("every repeat buyer has the same order count and average spend")
    rows, counts = np.unique(np.column_stack([x_all, m_all]), axis=0, return_counts=True)
    weights = counts.astype(np.float64) / k
    scale = float(np.median(m_all))
    x, m = rows[:, 0], rows[:, 1] / scale

    prepared = _GammaGammaRows.of(x, m)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = _gg_terms(theta, prepared)
        return _weighted_mean(ll, grad, weights)

    mean_scaled = float(np.mean(m_all)) / scale
    starts = [
        # p = 2, q = 3 and gamma so that the population mean p*gamma/(q-1) is the sample mean
        np.log(np.array([2.0, 3.0, mean_scaled])),
        np.zeros(3),
        np.log(np.array([5.0, 5.0, 0.8 * mean_scaled])),
    ]
    theta = _maximise(objective, starts, "spend-model (Gamma-Gamma)")
    p, q, gamma_scaled = (float(v) for v in np.exp(theta))
    gamma = gamma_scaled * scale
    if q <= 1.0:
        raise NotEnoughData(
            "order values are too spread out (a few very large orders) for the spend model "
            f"to have a finite average (q = {q:.3g} <= 1)"
        )
    ll_rows, _ = _gg_loglik_terms(np.log(np.array([p, q, gamma])), x, rows[:, 1])
    log_likelihood = float(np.sum(counts * ll_rows))
    if not math.isfinite(log_likelihood):
        raise FitDidNotConverge("the spend-model fit produced a non-finite likelihood")
    return GammaGammaFit(p, q, gamma, log_likelihood, k)


# --------------------------------------------------------------------------------------------
# Predictions


def probability_alive(fit: BgNbdFit, summary: Summary) -> FloatArray:
    """P(customer still active at the calibration end | x, t_x, T); 1 when x == 0.

    In (0, 1]; it can round to 0.0 only for histories far outside the fitted model.
    """
    return _p_alive(fit, summary.x, summary.t_x, summary.T)


def _p_alive(fit: BgNbdFit, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
    rep = x > 0
    log_odds_dead = np.full_like(x, -np.inf)
    xr = x[rep]
    log_odds_dead[rep] = (
        math.log(fit.a)
        - np.log(fit.b + xr - 1.0)
        + (fit.r + xr) * (np.log(fit.alpha + big_t[rep]) - np.log(fit.alpha + t_x[rep]))
    )
    return np.asarray(special.expit(-log_odds_dead), dtype=np.float64)


def _g(shape: float, k: float, p: float) -> float:
    """(1 - (1 + p k)^-shape) / p: expected purchases of an active customer with drop-out
    probability p over the horizon, averaged over the gamma posterior of the purchase rate."""
    if p <= 0.0:
        return shape * k
    return -math.expm1(-shape * math.log1p(p * k)) / p


def _alive_integral(shape: float, k: float, a: float, bx: float) -> float:
    """E[g(p)] for p ~ Beta(a, bx), by adaptive quadrature (the closed form's fallback).

    Given rate lambda and drop-out p, an active customer's expected purchases over t are
    (1 - exp(-lambda p t)) / p; averaging over lambda ~ Gamma(shape, alpha + T) gives
    ``_g`` with k = t / (alpha + T). The integral is finite for every a > 0 (the closed form
    divides by a - 1). It is taken over y = logit(p), where the beta density is smooth and
    log-concave, with break points around its mode and where g bends; the two end pieces
    p < eps and p > 1 - eps, on which g is constant to 1e-10, use the exact beta tail masses.
    Accurate to ~1e-9 relative across shapes, a, bx in [1e-5, 1.6e5] and k in [1e-6, 1e5].
    """
    eps = 1e-10 / (1.0 + (shape + 1.0) * k)
    tails = float(special.betainc(a, bx, eps)) * (_g(shape, k, 0.0) + _g(shape, k, eps)) / 2
    tails += float(special.betainc(bx, a, eps)) * (_g(shape, k, 1.0) + _g(shape, k, 1 - eps)) / 2
    log_beta = float(special.betaln(a, bx))

    def integrand(y: float) -> float:
        log_p = float(special.log_expit(y))
        log_q = float(special.log_expit(-y))
        return _g(shape, k, math.exp(log_p)) * math.exp(a * log_p + bx * log_q - log_beta)

    y_end = -math.log(eps) + math.log1p(-eps)
    centre = float(special.digamma(a) - special.digamma(bx))  # mean of logit(p)
    spread = math.sqrt(float(special.polygamma(1, a) + special.polygamma(1, bx)))
    bend = -math.log((shape + 1.0) * k)
    marks = [centre + spread * c for c in (-30, -10, -3, -1, 0, 1, 3, 10, 30)]
    marks += [bend + c for c in (-3, -1, 0, 1, 3)]
    breaks = sorted({c for c in marks if -y_end < c < y_end})
    floor = _g(shape, k, a / (a + bx))  # Jensen: a lower bound of the result
    middle = integrate.quad(
        integrand,
        -y_end,
        y_end,
        points=breaks,
        epsabs=1e-13 * floor,
        epsrel=1e-11,
        limit=1000,
        full_output=1,
    )[0]
    return float(middle) + tails


def _expected_if_alive(
    fit: BgNbdFit, x: FloatArray, big_t: FloatArray, horizon: float | FloatArray
) -> FloatArray:
    """Expected purchases over ``horizon`` for customers known to be active (eq. 10 / P(alive)).

    Closed form: (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) *
    2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))], or equivalently (Pfaff's transformation)
    (a+b+x-1)/(a-1) * [1 - 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T))]. scipy's hyp2f1 fails (inf,
    NaN or wrong values) in parts of the parameter space, differently for the two forms, and
    both are 0/0 at a = 1. So each value is checked against bounds the true value must meet
    -- g is convex, so g(mean p) <= E[g(p)] <= chord (Jensen) -- and what fails both forms is
    computed by quadrature of the defining integral. ``horizon`` may differ per customer.
    """
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    t = np.broadcast_to(np.asarray(horizon, dtype=np.float64), x.shape)
    shape, bx = r + x, b + x
    k = t / (alpha + big_t)
    with np.errstate(all="ignore"):
        lead = (a + bx - 1.0) / (a - 1.0)
        mean_p = a / (a + bx)
        g_at_mean = -np.expm1(-shape * np.log1p(mean_p * k)) / mean_p
        g_at_one = -np.expm1(-shape * np.log1p(k))
        lower = g_at_mean * (1.0 - 1e-7)
        upper = ((1.0 - mean_p) * shape * k + mean_p * g_at_one) * (1.0 + 1e-7)
        h1 = special.hyp2f1(shape, bx, a + bx - 1.0, t / (alpha + big_t + t))
        form1 = lead * -np.expm1(np.log(h1) - shape * np.log1p(k))
        form2 = lead * (1.0 - special.hyp2f1(shape, a - 1.0, a + bx - 1.0, -k))
    out = np.zeros_like(x)
    todo = k > 0  # no time, no purchases
    if abs(a - 1.0) > 1e-6:
        for form in (form1, form2):
            good = todo & np.isfinite(form) & (form >= lower) & (form <= upper)
            out[good] = form[good]
            todo &= ~good
    if np.any(todo):
        # the integral depends on (x, k) only: compute each distinct pair once
        pairs, inverse = np.unique(np.column_stack([x[todo], k[todo]]), axis=0, return_inverse=True)
        fixed = [_alive_integral(r + xi, ki, a, b + xi) for xi, ki in pairs]
        out[todo] = np.array(fixed)[inverse.ravel()]
    return out


def expected_purchases(fit: BgNbdFit, summary: Summary, horizon_units: float) -> FloatArray:
    """Expected purchases of each customer in (T, T + horizon_units] (FHL 2005, eq. 10)."""
    if not (math.isfinite(horizon_units) and horizon_units >= 0):
        raise ValueError("horizon_units must be a finite number >= 0")
    alive = _p_alive(fit, summary.x, summary.t_x, summary.T)
    return alive * _expected_if_alive(fit, summary.x, summary.T, float(horizon_units))


def unconditional_expected_purchases(fit: BgNbdFit, t: float) -> float:
    """Expected repeat purchases of a new customer over their first ``t`` units (FHL 2005)."""
    if not (math.isfinite(t) and t >= 0):
        raise ValueError("t must be a finite number >= 0")
    return float(_expected_if_alive(fit, np.zeros(1), np.zeros(1), float(t))[0])  # T = 0, x = 0


def expected_order_value(gg_fit: GammaGammaFit, summary: Summary) -> FloatArray:
    """Expected value of a customer's future order (Gamma-Gamma conditional expectation).

    p (gamma + x m) / (p x + q - 1): a weighted average of the population mean and the
    customer's own mean repeat spend. Customers with x == 0 get the population mean; a
    negative mean (refunds) is treated as 0.
    """
    p, q, gamma = gg_fit.p, gg_fit.q, gg_fit.gamma
    x = summary.x
    m = np.maximum(summary.m, 0.0)
    return np.where(x > 0, p * (gamma + x * m) / (p * x + q - 1.0), gg_fit.population_mean)


@dataclass(frozen=True, slots=True)
class CustomerPrediction:
    """One customer's row of ``Predictions``."""

    customer_id: Hashable
    p_alive: float
    expected_purchases: float
    expected_value: float
    clv: float


@dataclass(frozen=True, slots=True)
class Predictions:
    """Per-customer predictions as aligned arrays (same order as the summary).

    ``expected_purchases`` is over ``horizon_units``; ``expected_value`` is the expected
    value of one order; ``clv`` = purchases over ``clv_horizon_units`` x value x margin.
    """

    customer_ids: npt.NDArray[Any]
    p_alive: FloatArray
    expected_purchases: FloatArray
    expected_value: FloatArray
    clv: FloatArray
    horizon_units: float
    clv_horizon_units: float
    margin: float
    bgnbd: BgNbdFit = field(repr=False)
    gamma_gamma: GammaGammaFit = field(repr=False)

    def __len__(self) -> int:
        return len(self.customer_ids)

    def rows(self) -> list[CustomerPrediction]:
        return [
            CustomerPrediction(cid, float(pa), float(ep), float(ev), float(c))
            for cid, pa, ep, ev, c in zip(
                self.customer_ids,
                self.p_alive,
                self.expected_purchases,
                self.expected_value,
                self.clv,
                strict=True,
            )
        ]


def predict(
    summary: Summary,
    *,
    horizon_units: float,
    clv_horizon_units: float,
    margin: float,
    bgnbd: BgNbdFit | None = None,
    gamma_gamma: GammaGammaFit | None = None,
) -> Predictions:
    """Fit what is not given and predict every customer of ``summary``.

    Raises NotEnoughData when either model cannot be fitted.
    """
    if not (math.isfinite(margin) and 0.0 <= margin <= 1.0):
        raise ValueError("margin is a fraction of revenue between 0 and 1 (e.g. 0.3 for 30%)")
    if not (math.isfinite(clv_horizon_units) and clv_horizon_units >= 0):
        raise ValueError("clv_horizon_units must be a finite number >= 0")
    bgnbd = bgnbd if bgnbd is not None else fit_bgnbd(summary)
    gamma_gamma = gamma_gamma if gamma_gamma is not None else fit_gamma_gamma(summary)
    p_alive = probability_alive(bgnbd, summary)
    short = expected_purchases(bgnbd, summary, horizon_units)
    long = (
        short
        if clv_horizon_units == horizon_units
        else expected_purchases(bgnbd, summary, clv_horizon_units)
    )
    value = expected_order_value(gamma_gamma, summary)
    readonly = [p_alive, short, long, value]
    clv = long * value * margin
    for arr in [*readonly, clv]:
        arr.flags.writeable = False
    return Predictions(
        summary.customer_ids,
        p_alive,
        short,
        value,
        clv,
        float(horizon_units),
        float(clv_horizon_units),
        float(margin),
        bgnbd,
        gamma_gamma,
    )


# --------------------------------------------------------------------------------------------
# Sanity checks and synthetic data


@dataclass(frozen=True, slots=True)
class CalibrationCheck:
    """Repeat purchases in the calibration period: what the model expects vs what happened."""

    expected_repeat_purchases: float
    actual_repeat_purchases: float

    @property
    def ratio(self) -> float:
        """expected / actual; near 1 for a model that describes the data."""
        if self.actual_repeat_purchases == 0:
            return math.inf if self.expected_repeat_purchases > 0 else 1.0
        return self.expected_repeat_purchases / self.actual_repeat_purchases


def calibration_check(fit: BgNbdFit, summary: Summary) -> CalibrationCheck:
    """Sum over customers of E[X(T_i)] (a new customer's expectation) against the sum of x."""
    nothing = np.zeros(len(summary))
    expected = float(np.sum(_expected_if_alive(fit, nothing, nothing, summary.T)))
    return CalibrationCheck(expected, float(np.sum(summary.x)))


def simulate_summary(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    gamma: float,
    T: float | npt.ArrayLike,
    seed: int | None = None,
    unit_days: float = 7.0,
) -> Summary:
    """Draw customers from BG/NBD (purchases) and Gamma-Gamma (order values).

    ``T`` is each customer's age at the calibration end (a number or one value per
    customer). Times are continuous, not whole days. For tests and benchmarks.
    """
    rng = np.random.default_rng(seed)
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    drop = rng.beta(a, b, n_customers)
    x = np.zeros(n_customers)
    t_x = np.zeros(n_customers)
    clock = np.zeros(n_customers)
    active = np.flatnonzero(rate > 0)
    while active.size:
        with np.errstate(over="ignore"):  # a tiny rate waits "forever": inf is fine
            clock[active] += rng.exponential(1.0, active.size) / rate[active]
        active = active[clock[active] <= ages[active]]
        x[active] += 1
        t_x[active] = clock[active]
        active = active[rng.random(active.size) >= drop[active]]  # drops out after a purchase
    nu = rng.gamma(q, 1.0 / gamma, n_customers)
    rep = x > 0
    m = np.zeros(n_customers)
    m[rep] = rng.gamma(p * x[rep], 1.0 / (x[rep] * nu[rep]))
    return Summary(np.arange(n_customers), x, t_x, ages, m, unit_days)
