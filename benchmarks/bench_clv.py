"""Time the customer-value fits on 100,000 synthetic customers.

Run from the repository root: ``.venv/bin/python benchmarks/bench_clv.py [n_customers]``.
Customers are drawn from the models themselves (CDNOW-like parameters, first purchases
spread over a year); each step is run three times and the median wall time is printed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services import clv

RUNS = 3


def median_seconds(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``RUNS`` runs (CPU time is steadier on a busy box)."""
    wall, cpu = [], []
    result = None
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = np.random.default_rng(2005)
    ages = rng.integers(0, 365, n) / 7.0  # whole days, in weeks
    summary = clv.simulate_summary(
        n, r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, gamma=15.44, T=ages, seed=1
    )
    print(f"{n:,} customers, {int(np.count_nonzero(summary.x > 0)):,} repeat buyers")

    print(f"median of {RUNS} runs      wall      cpu")
    wall, cpu, bg = median_seconds(lambda: clv.fit_bgnbd(summary))
    print(
        f"fit_bgnbd        {wall:7.3f} s {cpu:7.3f} s  r={bg.r:.3f} alpha={bg.alpha:.3f} "
        f"a={bg.a:.3f} b={bg.b:.3f}"
    )
    wall, cpu, gg = median_seconds(lambda: clv.fit_gamma_gamma(summary))
    print(
        f"fit_gamma_gamma  {wall:7.3f} s {cpu:7.3f} s  p={gg.p:.3f} q={gg.q:.3f} "
        f"gamma={gg.gamma:.3f}"
    )
    wall, cpu, _ = median_seconds(
        lambda: clv.predict(
            summary,
            horizon_units=summary.units(90),
            clv_horizon_units=summary.units(365),
            margin=0.3,
            bgnbd=bg,
            gamma_gamma=gg,
        )
    )
    print(f"predict (fitted) {wall:7.3f} s {cpu:7.3f} s")


if __name__ == "__main__":
    main()
