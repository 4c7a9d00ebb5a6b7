"""Tests of the customer-value model (services/clv.py).

Reference numbers are the published ones for the CDNOW sample (2,357 customers whose first
purchase was in Jan-Mar 1997, calibration ending 1997-09-30, time in weeks):
BG/NBD from Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way";
Gamma-Gamma from Fader & Hardie's note "The Gamma-Gamma Model of Monetary Value" (946 repeat
customers, mean spend of their repeat purchases in calibration).
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from services import clv

CDNOW = Path(__file__).parent / "data" / "cdnow_transactions.csv"
CDNOW_END = date(1997, 9, 30)


def sig(value: float, figures: int) -> float:
    """``value`` rounded to ``figures`` significant figures."""
    return round(value, figures - 1 - math.floor(math.log10(abs(value))))


@pytest.fixture(scope="module")
def cdnow() -> clv.Summary:
    with CDNOW.open(newline="") as f:
        rows = [
            (row["customer_id"], date.fromisoformat(row["date"]), float(row["amount"]))
            for row in csv.DictReader(f)
        ]
    return clv.summarize(rows, CDNOW_END)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: clv.Summary) -> clv.BgNbdFit:
    return clv.fit_bgnbd(cdnow)


@pytest.fixture(scope="module")
def cdnow_gg(cdnow: clv.Summary) -> clv.GammaGammaFit:
    return clv.fit_gamma_gamma(cdnow)


def synthetic(n: int, seed: int = 1, **overrides: float) -> clv.Summary:
    params: dict[str, Any] = {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    }
    params.update(overrides)
    ages = np.random.default_rng(seed).uniform(26.0, 39.0, n)
    return clv.simulate_summary(n, **params, T=ages, seed=seed)


# --------------------------------------------------------------------------------------------
# CDNOW reproduction


def test_cdnow_summary_counts(cdnow: clv.Summary) -> None:
    assert len(cdnow) == 2357
    assert int(np.count_nonzero(cdnow.x > 0)) == 946  # 1,411 never came back in calibration
    assert float(cdnow.T.max()) == pytest.approx((CDNOW_END - date(1997, 1, 1)).days / 7)


def test_cdnow_bgnbd_reproduces_published_estimates(cdnow_fit: clv.BgNbdFit) -> None:
    fit = cdnow_fit
    assert (sig(fit.r, 3), sig(fit.alpha, 3), sig(fit.a, 3), sig(fit.b, 3)) == (
        0.243,
        4.41,
        0.793,
        2.43,
    )
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.5)
    assert fit.n_customers == 2357


def test_cdnow_gamma_gamma_reproduces_published_estimates(cdnow_gg: clv.GammaGammaFit) -> None:
    # Our summary convention (same-day purchases merged, m = mean of the repeat purchases)
    # gives the note's numbers p = 6.25, q = 3.74, gamma = 15.44 to three figures.
    fit = cdnow_gg
    assert (sig(fit.p, 3), sig(fit.q, 3), sig(fit.gamma, 3)) == (6.25, 3.74, 15.4)
    assert fit.n_customers == 946
    assert math.isfinite(fit.log_likelihood)


def test_cdnow_conditional_expectation_matches_paper(cdnow_fit: clv.BgNbdFit) -> None:
    # FHL 2005's worked example: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in the
    # next 39 weeks (computed there with the rounded published parameters).
    published = clv.BgNbdFit(0.243, 4.414, 0.793, 2.426, -9582.4, 2357)
    one = clv.Summary.from_arrays(["c"], [2], [30.43], [38.86])
    assert clv.expected_purchases(published, one, 39.0)[0] == pytest.approx(1.226, abs=5e-4)
    assert clv.expected_purchases(cdnow_fit, one, 39.0)[0] == pytest.approx(1.226, abs=2e-3)


def test_cdnow_calibration_check(cdnow: clv.Summary, cdnow_fit: clv.BgNbdFit) -> None:
    check = clv.calibration_check(cdnow_fit, cdnow)
    assert check.actual_repeat_purchases == float(np.sum(cdnow.x))
    assert check.ratio == pytest.approx(1.0, abs=0.05)


# --------------------------------------------------------------------------------------------
# Summary convention


def test_summary_convention_on_hand_made_data() -> None:
    end = date(2024, 1, 31)
    rows = [
        ("a", date(2024, 1, 1), 10.0),
        ("a", date(2024, 1, 1), 5.0),  # same day: one purchase of 15 (the first, not in m)
        ("a", date(2024, 1, 8), 20.0),
        ("a", date(2024, 1, 15), 30.0),
        ("a", date(2024, 1, 15), -5.0),  # refund on a purchase day: netted, 25
        ("a", date(2024, 2, 1), 100.0),  # after the calibration end: ignored
        ("b", date(2024, 1, 10), 7.0),
        ("c", date(2024, 2, 5), 9.0),  # first purchase after the end: no customer
        ("d", datetime(2024, 1, 20, 9, tzinfo=UTC), 4.0),
        ("d", datetime(2024, 1, 20, 18, tzinfo=UTC), 4.0),  # same calendar day
        ("e", date(2024, 1, 2), 10.0),
        ("e", date(2024, 1, 5), -10.0),  # a refund-only day is not a purchase
        ("f", date(2024, 1, 3), 0.0),
        ("f", date(2024, 1, 1), 0.0),  # free orders still count; order of rows is free
        ("a", end, 40.0),  # on the calibration end: counts
    ]
    s = clv.summarize(rows, end)
    assert list(s.customer_ids) == ["a", "b", "d", "e", "f"]
    np.testing.assert_array_equal(s.x, [3, 0, 0, 0, 1])
    np.testing.assert_allclose(s.t_x, [30 / 7, 0, 0, 0, 2 / 7])
    np.testing.assert_allclose(s.T, [30 / 7, 21 / 7, 11 / 7, 29 / 7, 30 / 7])
    np.testing.assert_allclose(s.m, [(20 + 25 + 40) / 3, 0, 0, 0, 0])

    days = clv.summarize(rows, datetime(2024, 1, 31, 23, 59, tzinfo=UTC), unit_days=1.0)
    np.testing.assert_allclose(days.T, [30, 21, 11, 29, 30])
    assert days.units(90) == 90.0
    assert s.units(14) == 2.0


def test_summary_arrays_are_read_only_and_validated() -> None:
    s = clv.Summary.from_arrays([1, 2], [0, 2], [0.0, 3.0], [5.0, 5.0], [0.0, 12.5])
    assert len(s) == 2
    assert s.m[1] == 12.5
    with pytest.raises(ValueError, match="read-only"):
        s.x[0] = 3
    assert np.all(clv.Summary.from_arrays(["z"], [1], [1.0], [2.0]).m == 0)  # m defaults to 0
    tuple_ids = clv.Summary.from_arrays([(1, "a"), (2, "b")], [0, 0], [0, 0], [1, 1])
    assert tuple_ids.customer_ids[1] == (2, "b")

    bad: list[tuple[list[Any], list[float], list[float], list[float]]] = [
        ([1], [-1], [0], [1]),  # negative count
        ([1], [1.5], [1], [2]),  # fractional count
        ([1], [1], [3], [2]),  # t_x > T
        ([1], [0], [1], [2]),  # recency without repeat purchases
        ([1], [1], [float("nan")], [2]),
        ([1, 2], [1], [1], [2]),  # lengths differ
    ]
    for ids, x, t_x, big_t in bad:
        with pytest.raises(ValueError):
            clv.Summary.from_arrays(ids, x, t_x, big_t)


# --------------------------------------------------------------------------------------------
# Predictions


def test_probability_alive_is_sensible(cdnow: clv.Summary, cdnow_fit: clv.BgNbdFit) -> None:
    alive = clv.probability_alive(cdnow_fit, cdnow)
    assert np.all((alive > 0) & (alive <= 1))
    assert np.all(alive[cdnow.x == 0] == 1.0)  # no repeat purchase, no chance to drop out

    # same frequency and age: the one who bought recently is more likely still a customer
    s = clv.Summary.from_arrays(["recent", "long ago"], [5, 5], [38.0, 5.0], [39.0, 39.0])
    recent, long_ago = clv.probability_alive(cdnow_fit, s)
    assert recent > long_ago
    e_recent, e_long_ago = clv.expected_purchases(cdnow_fit, s, 52.0)
    assert e_recent > e_long_ago


def test_expected_purchases_grow_with_horizon(cdnow: clv.Summary, cdnow_fit: clv.BgNbdFit) -> None:
    horizons = [0.0, 0.01, 1.0, 13.0, 52.0, 520.0, 5200.0]
    table = np.array([clv.expected_purchases(cdnow_fit, cdnow, h) for h in horizons])
    assert np.all(np.isfinite(table))
    assert np.all(table[0] == 0)
    assert np.all(np.diff(table, axis=0) > 0)
    with pytest.raises(ValueError):
        clv.expected_purchases(cdnow_fit, cdnow, -1.0)


def test_more_purchases_mean_more_expected_purchases(cdnow_fit: clv.BgNbdFit) -> None:
    s = clv.Summary.from_arrays(range(4), [0, 1, 5, 20], [0, 30, 30, 30], [35, 35, 35, 35])
    expected = clv.expected_purchases(cdnow_fit, s, 39.0)
    assert np.all(np.diff(expected[1:]) > 0)


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b"),
    [
        (0.243, 4.414, 0.793, 2.426),  # CDNOW
        (0.243, 4.414, 0.79, 0.15),  # a + b - 1 < 0: the first 2F1 form fails
        (2.0, 0.5, 1.0, 3.0),  # a = 1: the closed form is 0/0
        (1e-5, 1.0, 1e-5, 1e-5),
        (1.6e5, 1.6e5, 6e-6, 1.6e5),  # parameters on the optimiser's bounds
        (0.5, 1.0, 1.6e5, 1.6e5),
        (300.0, 0.01, 50.0, 0.2),
    ],
)
def test_expected_purchases_match_quadrature_everywhere(
    r: float, alpha: float, a: float, b: float
) -> None:
    fit = clv.BgNbdFit(r, alpha, a, b, 0.0, 0)
    x = np.array([0.0, 0, 1, 3, 20, 150])
    big_t = np.array([0.0, 30, 30, 39, 39, 39])
    for horizon in (1e-4, 13.0, 52.0, 1e4):
        got = clv._expected_if_alive(fit, x, big_t, horizon)
        want = [
            clv._alive_integral(r + xi, horizon / (alpha + ti), a, b + xi)
            for xi, ti in zip(x, big_t, strict=True)
        ]
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-6)
    s = clv.Summary.from_arrays(range(6), x, np.minimum(big_t, 20) * (x > 0), big_t)
    assert np.all(np.isfinite(clv.expected_purchases(fit, s, 52.0)))
    assert np.all(np.isfinite(clv.probability_alive(fit, s)))


def test_expected_order_value(cdnow: clv.Summary, cdnow_gg: clv.GammaGammaFit) -> None:
    gg = cdnow_gg
    value = clv.expected_order_value(gg, cdnow)
    assert np.all(np.isfinite(value)) and np.all(value > 0)
    assert np.all(value[cdnow.x == 0] == pytest.approx(gg.p * gg.gamma / (gg.q - 1)))
    # a weighted average of the population mean and the customer's own mean spend
    rep = cdnow.x > 0
    low = np.minimum(cdnow.m[rep], gg.population_mean)
    high = np.maximum(cdnow.m[rep], gg.population_mean)
    assert np.all((value[rep] >= low - 1e-9) & (value[rep] <= high + 1e-9))


def test_predict(cdnow: clv.Summary, cdnow_fit: clv.BgNbdFit) -> None:
    out = clv.predict(
        cdnow, horizon_units=cdnow.units(90), clv_horizon_units=cdnow.units(365), margin=0.3
    )
    assert out.bgnbd == cdnow_fit
    assert len(out) == len(cdnow)
    for arr in (out.p_alive, out.expected_purchases, out.expected_value, out.clv):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    year = clv.expected_purchases(cdnow_fit, cdnow, cdnow.units(365))
    np.testing.assert_allclose(out.clv, year * out.expected_value * 0.3)
    assert np.all(year >= out.expected_purchases)
    rows = out.rows()
    assert rows[0].customer_id == cdnow.customer_ids[0]
    assert rows[0].clv == pytest.approx(float(out.clv[0]))
    with pytest.raises(ValueError, match="margin"):
        clv.predict(cdnow, horizon_units=1, clv_horizon_units=52, margin=30)


# --------------------------------------------------------------------------------------------
# Fitting: gradients, recovery, failure


def test_analytic_gradients_match_finite_differences() -> None:
    s = synthetic(300)
    rep = s.m > 0

    def bgnbd(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return clv._bgnbd_loglik_terms(theta, s.x, s.t_x / 30, s.T / 30)

    def gamma_gamma(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return clv._gg_loglik_terms(theta, s.x[rep], s.m[rep])

    for terms, theta in [
        (bgnbd, np.log([0.3, 0.2, 0.8, 2.5])),
        (gamma_gamma, np.log([6.0, 3.0, 15.0])),
    ]:
        _, grad = terms(theta)
        for i in range(len(theta)):
            step = np.zeros_like(theta)
            step[i] = 1e-6
            numeric = (terms(theta + step)[0].sum() - terms(theta - step)[0].sum()) / 2e-6
            assert grad[i].sum() == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_recovers_parameters_of_simulated_customers() -> None:
    s = synthetic(8000, seed=7)
    fit = clv.fit_bgnbd(s)
    assert fit.r == pytest.approx(0.243, rel=0.15)
    assert fit.alpha == pytest.approx(4.414, rel=0.2)
    assert fit.a / (fit.a + fit.b) == pytest.approx(0.793 / (0.793 + 2.426), rel=0.2)
    gg = clv.fit_gamma_gamma(s)
    assert gg.population_mean == pytest.approx(6.25 * 15.44 / 2.74, rel=0.1)


def test_a_failed_optimisation_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def never_converges(fun: Any, x0: Any, **kwargs: Any) -> SimpleNamespace:
        return SimpleNamespace(x=np.full(len(x0), np.nan), success=False, message="forced")

    s = synthetic(500)
    monkeypatch.setattr("services.clv.optimize.minimize", never_converges)
    with pytest.raises(clv.FitDidNotConverge, match="did not converge"):
        clv.fit_bgnbd(s)
    with pytest.raises(clv.NotEnoughData):  # the subclass is caught as NotEnoughData too
        clv.fit_gamma_gamma(s)


# --------------------------------------------------------------------------------------------
# Awkward data


def test_no_data_one_customer_and_a_handful() -> None:
    empty = clv.summarize([], date(2024, 1, 31))
    assert len(empty) == 0
    one = clv.summarize(
        [("x", date(2024, 1, 1), 5.0), ("x", date(2024, 1, 9), 6.0)], date(2024, 1, 31)
    )
    handful = clv.Summary.from_arrays(range(8), [1] * 8, [2.0] * 8, [5.0] * 8, [10.0] * 8)
    for s in (empty, one, handful):
        with pytest.raises(clv.NotEnoughData, match="customers") as caught:
            clv.fit_bgnbd(s)
        assert caught.value.reason == str(caught.value)
        with pytest.raises(clv.NotEnoughData):
            clv.fit_gamma_gamma(s)
        with pytest.raises(clv.NotEnoughData):
            clv.predict(s, horizon_units=13, clv_horizon_units=52, margin=0.3)


def test_no_repeat_buyers() -> None:
    rows = [(i, date(2024, 1, 1 + i % 28), 10.0) for i in range(200)]
    s = clv.summarize(rows, date(2024, 3, 31))
    with pytest.raises(clv.NotEnoughData, match="repeat buyers"):
        clv.fit_bgnbd(s)
    with pytest.raises(clv.NotEnoughData, match="repeat"):
        clv.fit_gamma_gamma(s)


def test_all_amounts_zero() -> None:
    s = synthetic(400)
    free = clv.Summary.from_arrays(s.customer_ids, s.x, s.t_x, s.T, np.zeros(len(s)))
    fit = clv.fit_bgnbd(free)  # the purchase model does not look at money
    assert np.all(np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]))
    with pytest.raises(clv.NotEnoughData, match="positive amount"):
        clv.fit_gamma_gamma(free)
    with pytest.raises(clv.NotEnoughData):
        clv.predict(free, horizon_units=13, clv_horizon_units=52, margin=0.3)


def test_refunds_give_finite_predictions() -> None:
    rng = np.random.default_rng(3)
    rows: list[tuple[int, date, float]] = []
    purchase_days: dict[int, int] = {}
    for customer in range(300):
        first = date(2024, 1, 1).toordinal() + int(rng.integers(0, 60))
        purchase_days[customer] = int(rng.integers(1, 6))
        days = [date.fromordinal(first + 9 * k) for k in range(purchase_days[customer])]
        rows += [(customer, day, float(rng.uniform(5, 50))) for day in days]
        if customer % 3 == 0:  # refunds: netted on a purchase day, and on a day of their own
            rows.append((customer, days[-1], -float(rng.uniform(0, 120))))
            rows.append((customer, date(2024, 4, 1), -20.0))
    s = clv.summarize(rows, date(2024, 4, 30))
    np.testing.assert_array_equal(s.x, [purchase_days[c] - 1 for c in s.customer_ids])
    assert np.any(s.m < 0)  # some repeat purchases net to less than nothing
    out = clv.predict(s, horizon_units=s.units(90), clv_horizon_units=s.units(365), margin=0.4)
    for arr in (out.p_alive, out.expected_purchases, out.expected_value, out.clv):
        assert np.all(np.isfinite(arr))
    assert np.all(out.expected_value > 0)
    assert out.gamma_gamma.n_customers == int(np.count_nonzero((s.x > 0) & (s.m > 0)))


def test_spend_without_a_finite_mean_is_refused() -> None:
    s = synthetic(4000, q=0.7)
    with pytest.raises(clv.NotEnoughData, match="too spread out"):
        clv.fit_gamma_gamma(s)


def test_degenerate_but_valid_data_fits_finitely() -> None:
    # nobody ever drops out and everyone buys at the same rate: parameters run to the bounds
    s = synthetic(500, r=200.0, alpha=200.0, a=1e-4, b=100.0)
    fit = clv.fit_bgnbd(s)
    values = [fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]
    assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(clv.expected_purchases(fit, s, 52.0)))
    # every repeat buyer pays exactly the same
    same = clv.Summary.from_arrays(s.customer_ids, s.x, s.t_x, s.T, np.where(s.x > 0, 9.5, 0))
    value = clv.expected_order_value(clv.fit_gamma_gamma(same), same)
    np.testing.assert_allclose(value, 9.5, rtol=0.05)
    # ... and every repeat buyer has the same history: nothing to learn a spread from
    flat = clv.Summary.from_arrays(range(50), [2] * 50, [3.0] * 50, [9.0] * 50, [9.5] * 50)
    with pytest.raises(clv.NotEnoughData, match="same"):
        clv.fit_gamma_gamma(flat)
    # ... or everybody bought for the first time on the calibration end
    new = clv.Summary.from_arrays(range(50), [1] * 50, [0.0] * 50, [0.0] * 50)
    with pytest.raises(clv.NotEnoughData, match="no time"):
        clv.fit_bgnbd(new)
