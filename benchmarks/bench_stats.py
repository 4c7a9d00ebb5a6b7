"""/stats on a big shop: 100,000 customers and 1,000,000 purchases in SQLite.

Run from the repository root (pandas is needed for the baseline: ``pip install -e .[bench]``)::

    .venv/bin/python benchmarks/bench_stats.py [--customers 100000] [--purchases 1000000]

Three steps, each in its own process so peak memory is measured per side:

1. generate the shop (a fresh SQLite file, migrated by the bot, filled with plain sqlite3);
2. the bot: the production dispatcher answers the owner's /stats through the fake Telegram
   server (the first time the model is fitted in the background: the answer does not wait for
   it), then the "Predicted value" view (it waits for that fit), then /stats again (the fit
   is cached); then the figures and the model fit on their own (SQL summary + BG/NBD +
   Gamma-Gamma);
3. the baseline: the same figures the usual way, pandas over all purchase rows.

Peak memory is the peak resident set (VmHWM) of each process while it works: it is reset
after the imports (Linux's /proc/self/clear_refs), so the bot's figure covers polling, the
answers, the background fit and the chart, and not the separate timings after them. The
resident set after the imports is printed on its own line.

Figures are printed side by side and checked against each other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ZONE = "Europe/Moscow"
YEARS = 3


def peak_mb() -> float:
    """The peak resident set of this process (since the last ``reset_peak``), in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def reset_peak() -> bool:
    """Start the peak over from the current resident set (Linux >= 4.0); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- 1. the shop ---------------------------------------------------------------------------------


def generate(path: Path, customers: int, purchases: int, seed: int = 2026) -> None:
    from storage.database import Database

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await db.dispose()

    asyncio.run(migrate())
    rng = np.random.default_rng(seed)
    span = YEARS * 365 * 86400
    start = np.datetime64(NOW.replace(tzinfo=None), "us") - np.timedelta64(span, "s")
    # purchases per customer: 1 + a negative binomial, scaled to the wanted total
    extra = rng.negative_binomial(0.6, 0.6 / (0.6 + purchases / customers - 1), customers)
    counts = 1 + extra
    while counts.sum() != purchases:
        diff = purchases - int(counts.sum())
        pick = rng.integers(0, customers, abs(diff))
        np.add.at(counts, pick, 1 if diff > 0 else -1)
        counts = np.maximum(counts, 1)
    first = rng.uniform(0, span, customers)
    sources = np.array(["instagram", "channel", "friend", "avito", ""], dtype=object)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    created = np.datetime_as_string(start + (first * 1e6).astype("timedelta64[us]"), unit="us")
    conn.executemany(
        # no telegram ids: the bot's own scans must not start writing to 100,000 people
        "INSERT INTO customers (id, name, source, created_at) VALUES (?, ?, ?, ?)",
        (
            (
                i + 1,
                f"Customer {i + 1}",
                sources[i % 5] or None,
                c.replace("T", " "),
            )
            for i, c in enumerate(created)
        ),
    )
    owner = np.repeat(np.arange(1, customers + 1), counts)
    offsets = rng.uniform(0, 1, purchases) * (span - np.repeat(first, counts))
    offsets[np.r_[0, np.cumsum(counts)[:-1]]] = 0  # each customer's first purchase
    moments = np.repeat(first, counts) + offsets
    order = np.argsort(moments, kind="stable")  # ids in time order, as a real shop's would be
    when = np.datetime_as_string(start + (moments * 1e6).astype("timedelta64[us]"), unit="us")
    amounts = np.round(rng.lognormal(np.log(250_000), 0.5, purchases), -2).astype(np.int64)
    chunk = 100_000
    for lo in range(0, purchases, chunk):
        idx = order[lo : lo + chunk]
        conn.executemany(
            "INSERT INTO purchases (customer_id, amount, purchased_at, created_at, discount) "
            "VALUES (?, ?, ?, ?, 0)",
            (
                (
                    int(owner[i]),
                    int(amounts[i]),
                    when[i].replace("T", " "),
                    when[i].replace("T", " "),
                )
                for i in idx
            ),
        )
    conn.execute("INSERT INTO shop_settings (key, value) VALUES ('acquisition_cost', '50000')")
    conn.execute("INSERT INTO shop_settings (key, value) VALUES ('cac:instagram', '80000')")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


# --- 2. the bot ----------------------------------------------------------------------------------


async def bot_side(path: Path) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import create_bot, create_dispatcher
    from bot.config import load_settings
    from services import prediction
    from services.analytics import AnalyticsService
    from storage.analytics import AnalyticsQueries
    from storage.database import Database
    from tests.fakes.telegram import FakeTelegram

    db = Database(f"sqlite+aiosqlite:///{path}")
    out: dict[str, Any] = {"imported_mb": peak_mb()}
    out["peak_reset"] = reset_peak()
    async with FakeTelegram() as fake:
        settings = load_settings(
            bot_token="123456:TEST-TOKEN",
            owner_ids="1000",
            database_url=db.url,
            telegram_api_url=fake.base_url,
            timezone=ZONE,
            _env_file=None,
        )
        # a scheduler without jobs: only /stats is measured, no reminder scans
        dp = create_dispatcher(settings, db, clock=lambda: NOW, scheduler=AsyncIOScheduler())
        async with fake.polling(dp, create_bot(settings)):
            owner = fake.user(1000, language_code="en")
            owner.timeout = 120.0

            async def answered(mark: int) -> float:
                return max(
                    c.at for c in fake.calls[mark:] if c.chat_id == 1000 and c.message is not None
                )

            # 1. the first /stats after start: the model is fitted in the background
            mark, started = len(fake.calls), time.monotonic()
            replies = await owner.send("/stats")
            out["stats_cold_s"] = await answered(mark) - started
            out["stats_cold_text"] = replies[-1]["text"]
            assert any("photo" in m for m in replies)
            # 2. the predicted view waits for that fit: when the prediction is there
            mark = len(fake.calls)
            predicted_view = await owner.click("Predicted value", message=replies[-1])
            out["model_ready_s"] = await answered(mark) - started
            assert "Predicted" in predicted_view[-1]["text"]
            # 3. /stats again: the fit comes from the cache
            mark, started = len(fake.calls), time.monotonic()
            replies = await owner.send("/stats")
            out["stats_warm_s"] = await answered(mark) - started
            out["stats_text"] = replies[-1]["text"]
    out["peak_mb"] = peak_mb()  # the bot: polling, three answers, the fit, the chart
    # The parts on their own (not counted in the bot's peak above).
    service = AnalyticsService(db, settings.zone)
    predicted = await service.predicted(NOW)  # fits the model
    started = time.perf_counter()
    report = await service.report(NOW)  # the figures alone (the fit is cached)
    out["report_s"] = time.perf_counter() - started
    started = time.perf_counter()
    async with db.reading() as repos:
        rows = await AnalyticsQueries(repos.session).model_rows(NOW, ZONE, 10800)
    out["model_sql_s"] = time.perf_counter() - started
    started = time.perf_counter()
    fit = prediction.fit(
        prediction.summary_from_rows(rows, prediction.day_number(service.local_day(NOW))), 0.3
    )
    out["model_fit_s"] = time.perf_counter() - started
    await db.dispose()
    assert isinstance(fit, prediction.ModelFit) and isinstance(
        predicted.outcome, prediction.ModelFit
    )
    out["figures"] = {
        "purchases_90d": report.current.purchases,
        "repeat_share_90d": report.current.repeat_share,
        "repeat_revenue_share_90d": report.current.repeat_revenue_share,
        "aov": report.aov,
        "purchases_per_customer": report.purchases_per_customer,
        "lifespan_days": report.lifespan_days,
        "abc_customers": [k.customers for k in report.abc.classes],
        "month_revenue": [m.revenue for m in report.months],
        "bgnbd_r": fit.bgnbd.r,
        "clv_mean": fit.mean_clv,
        "predicted_clv_mean": predicted.outcome.mean_clv,
    }
    return out


# --- 3. the pandas baseline ----------------------------------------------------------------------


def pandas_side(path: Path) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    from services import clv, prediction

    out: dict[str, Any] = {"imported_mb": peak_mb()}
    out["peak_reset"] = reset_peak()
    started = time.perf_counter()
    with sqlite3.connect(path) as conn:
        df = pd.read_sql_query("SELECT id, customer_id, amount, purchased_at FROM purchases", conn)
    df["purchased_at"] = pd.to_datetime(df["purchased_at"])
    now = pd.Timestamp(NOW.replace(tzinfo=None))
    df = df[df["purchased_at"] < now].sort_values(["customer_id", "purchased_at", "id"])
    df["first"] = ~df.duplicated("customer_id")
    cur = df[df["purchased_at"] >= now - pd.Timedelta(days=90)]
    per_customer = df.groupby("customer_id").agg(
        revenue=("amount", "sum"),
        n=("amount", "size"),
        first_at=("purchased_at", "min"),
        last_at=("purchased_at", "max"),
    )
    ranked = per_customer.reset_index().sort_values(
        ["revenue", "customer_id"], ascending=[False, True]
    )
    above = ranked["revenue"].cumsum() - ranked["revenue"]
    total = ranked["revenue"].sum()
    grade = np.where(above * 100 < total * 75, "A", np.where(above * 100 < total * 95, "B", "C"))
    local = df["purchased_at"].dt.tz_localize("UTC").dt.tz_convert(ZONE)
    month = local.dt.strftime("%Y-%m")
    months = df.groupby(month)["amount"].sum().tail(12)
    out["stats_s"] = time.perf_counter() - started
    started = time.perf_counter()
    # the summary the usual way (as lifetimes does it): group by customer and local day
    day = (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
    days = df.assign(day=day).groupby(["customer_id", "day"], sort=True)["amount"].sum()
    days = days.reset_index()
    g = days.groupby("customer_id")
    first_day, last_day = g["day"].min(), g["day"].max()
    x = g.size() - 1
    repeat = g["amount"].sum() - g["amount"].first()
    end_day = prediction.day_number(NOW.astimezone(local.dt.tz).date())
    summary = clv.Summary.from_arrays(
        x.index.to_numpy(),
        x.to_numpy(),
        (last_day - first_day).to_numpy() / 7,
        (end_day - first_day).to_numpy() / 7,
        np.where(x > 0, repeat / x.where(x > 0, 1), 0.0),
    )
    fitting = time.perf_counter()
    fit = prediction.fit(summary, 0.3)
    out["model_fit_s"] = time.perf_counter() - fitting
    out["model_s"] = time.perf_counter() - started
    assert isinstance(fit, prediction.ModelFit)
    out["figures"] = {
        "purchases_90d": len(cur),
        "repeat_share_90d": float((~cur["first"]).mean()),
        "repeat_revenue_share_90d": float(
            cur.loc[~cur["first"], "amount"].sum() / cur["amount"].sum()
        ),
        "aov": float(df["amount"].mean()),
        "purchases_per_customer": len(df) / len(per_customer),
        "lifespan_days": float(
            ((per_customer["last_at"] - per_customer["first_at"]).dt.total_seconds() / 86400).mean()
        ),
        "abc_customers": [int((grade == g).sum()) for g in "ABC"],
        "month_revenue": [int(v) for v in months],
        "bgnbd_r": fit.bgnbd.r,
        "clv_mean": fit.mean_clv,
        "predicted_clv_mean": fit.mean_clv,
    }
    out["peak_mb"] = peak_mb()
    return out


# --- driver --------------------------------------------------------------------------------------


def child(step: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--step", step, "--db", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{step} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse or create this SQLite file")
    parser.add_argument("--step", choices=("bot", "pandas"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "bot":
        print(json.dumps(asyncio.run(bot_side(args.db))))
        return
    if args.step == "pandas":
        print(json.dumps(pandas_side(args.db)))
        return
    path = args.db or Path(tempfile.mkdtemp(prefix="bench-stats-")) / "shop.db"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.customers, args.purchases)
        size = path.stat().st_size / 2**20
        took = time.perf_counter() - started
        print(f"generated {args.customers:,} customers, {args.purchases:,} purchases")
        print(f"in {took:.1f} s: {path} ({size:.0f} MB)")
    bot = child("bot", path)
    base = child("pandas", path)
    rows = [
        ("/stats, first after start", bot["stats_cold_s"], base["stats_s"]),
        ("prediction shown, from that /stats", bot["model_ready_s"], None),
        ("/stats again (model cached)", bot["stats_warm_s"], base["stats_s"]),
        ("report figures alone", bot["report_s"], base["stats_s"]),
        ("model: summary + fit", bot["model_sql_s"] + bot["model_fit_s"], base["model_s"]),
        ("   of which the fit", bot["model_fit_s"], base["model_fit_s"]),
        ("all of it, model included", None, base["stats_s"] + base["model_s"]),
    ]
    print(f"\n{'':36}{'bot (SQL)':>14}{'pandas':>14}")
    for label, ours, theirs in rows:
        print(
            f"{label:36}"
            + ("" if ours is None else f"{ours:>12.2f} s")
            + ("" if theirs is None else f"{theirs:>{12 if ours is not None else 26}.2f} s")
        )
    imported = f"{bot['imported_mb']:>11.0f} MB{base['imported_mb']:>11.0f} MB"
    print(f"{'peak RSS after imports':36}{imported}")
    reset = bot["peak_reset"] and base["peak_reset"]
    print(
        f"{'peak RSS of the run' if reset else 'peak RSS (whole process)':36}"
        f"{bot['peak_mb']:>11.0f} MB{base['peak_mb']:>11.0f} MB\n"
    )
    first = next((line for line in bot["stats_cold_text"].splitlines() if "Predicted" in line), "")
    print(f"first /stats said: {first or '(no model line)'}")
    shown = next((line for line in bot["stats_text"].splitlines() if "Predicted" in line), "")
    print(f"second /stats said: {shown}\n")
    for key, ours in bot["figures"].items():
        theirs = base["figures"][key]
        same = np.allclose(
            np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=1e-6
        )
        shown = ours if isinstance(ours, list) else f"{ours:.6g}"
        print(
            f"{key:26} {'same' if same else 'DIFFERENT':9} {shown}"
            + ("" if same else f"  pandas: {theirs}")
        )


if __name__ == "__main__":
    main()
