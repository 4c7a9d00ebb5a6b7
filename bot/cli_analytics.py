"""`python -m bot stats` and `python -m bot clv`: the owner's numbers on the command line.

`stats` prints the /stats report (in DEFAULT_LANGUAGE) or, with --json, the figures as JSON
(keys in the README, "Analytics"); money in JSON is in minor units (kopecks, cents).
`clv` fits the customer-value model on a transactions CSV (`customer_id,date,amount`, or the
bot's own purchase export with `customer`; customer ids are any text; extra columns ignored;
amounts in the file's own unit) or on the database.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import math
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings

COMMANDS = ("stats", "clv")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _margin(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"expected a whole percent from 1 to 100, got {text!r}")
    return int(text)


def add_parsers(commands: Any) -> None:
    stats = commands.add_parser("stats", help="the owner's report: repeat share, LTV, ABC …")
    stats.add_argument(
        "--as-of", type=_iso_date, metavar="YYYY-MM-DD", help="report as of that day's end"
    )
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    model = commands.add_parser("clv", help="fit the customer-value model (BG/NBD + Gamma-Gamma)")
    model.add_argument(
        "--transactions",
        type=Path,
        metavar="FILE.csv",
        help="customer_id (or customer),date,amount rows (default: the database)",
    )
    model.add_argument(
        "--calibration-end",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="last day of the data to fit on (default: the last day in the file, or today)",
    )
    model.add_argument(
        "--margin",
        type=_margin,
        metavar="PERCENT",
        help="profit margin for CLV (default: the shop's, or 100 for a file)",
    )
    model.add_argument("--json", action="store_true", help="print the estimates as JSON")


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "stats":
        return asyncio.run(_stats(settings, args.as_of, args.json))
    if args.transactions is not None:
        return _clv_file(args.transactions, args.calibration_end, args.margin or 100, args.json)
    return asyncio.run(_clv_database(settings, args.calibration_end, args.margin, args.json))


# --- stats --------------------------------------------------------------------------------------


async def _stats(settings: Settings, as_of: date | None, as_json: bool) -> int:
    from services.analytics import AnalyticsService
    from services.errors import InputError
    from storage.database import Database
    from ui.i18n import Texts, create_i18n
    from ui.messages import analytics as texts

    i18n = create_i18n(settings.default_language)
    t = Texts(i18n, settings.default_language)
    db = Database(settings.database_url)
    try:
        await db.migrate()
        service = AnalyticsService(db, settings.zone)
        try:
            cutoff = service.cutoff_for(as_of, datetime.now(UTC))
        except InputError as error:
            print(t(error.code, **error.params), file=sys.stderr)
            return 2
        report = await service.report(cutoff)
        cohorts = await service.cohorts(cutoff)
    finally:
        await db.dispose()
    if as_json:
        print(json.dumps(stats_json(report, cohorts), ensure_ascii=False, indent=2))
    else:
        print(texts.stats_text(t, report))
        if not report.empty:
            currency = report.settings.currency
            print("\n" + texts.abc_text(t, report.abc, currency))
            print("\n" + texts.cohort_text(t, cohorts))
    return 0


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def stats_json(report: Any, cohorts: Any) -> dict[str, Any]:
    from services.prediction import ModelFit

    def period(p: Any) -> dict[str, Any]:
        return {
            "start": p.start.isoformat(),
            "stop": p.stop.isoformat(),
            "purchases": p.purchases,
            "first": p.first,
            "repeat": p.repeat,
            "revenue": p.revenue,
            "first_revenue": p.first_revenue,
            "repeat_revenue": p.repeat_revenue,
            "repeat_share": _round(p.repeat_share, 4),
            "repeat_revenue_share": _round(p.repeat_revenue_share, 4),
        }

    s = report.settings
    model: dict[str, Any] = {"status": "none"}
    if isinstance(report.model, ModelFit):
        model = {"status": "fitted", **_model_json(report.model)}
    elif report.model is not None:
        model = {"status": "too_little_data", "reason": report.model.reason}
    return {
        "as_of": report.as_of.isoformat(),
        "currency": s.currency,
        "money_unit": "minor",
        "customers": {
            "total": report.customers,
            "buying": report.buyers,
            "new_90d": report.new_customers,
        },
        "last_90d": period(report.current),
        "previous_90d": period(report.previous),
        "repeat_share_90d": _round(report.current.repeat_share, 4),
        "repeat_revenue_share_90d": _round(report.current.repeat_revenue_share, 4),
        "repeat_share_prev_90d": _round(report.previous.repeat_share, 4),
        "repeat_revenue_share_prev_90d": _round(report.previous.repeat_revenue_share, 4),
        "purchases": report.purchases,
        "revenue": report.revenue,
        "aov": _round(report.aov),
        "purchases_per_customer": _round(report.purchases_per_customer, 4),
        "lifespan_days": _round(report.lifespan_days),
        "ltv_historical": _round(report.ltv_historical),
        "clv_formula": _round(report.clv_formula),
        "clv_predicted_12m": _round(report.clv_predicted),
        "model": model,
        "margin_percent": s.margin_percent,
        "acquisition_cost": s.acquisition_cost,
        "cac_by_source": s.cac_by_source,
        "cac_effective": _round(s.cac_effective),
        "abc": {
            k.name: {
                "customers": k.customers,
                "revenue": k.revenue,
                "revenue_share": round(k.revenue_share, 4),
            }
            for k in report.abc.classes
        },
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                "purchases": m.purchases,
                "revenue": m.revenue,
                "first_revenue": m.first_revenue,
                "repeat_revenue": m.repeat_revenue,
            }
            for m in report.months
        ],
        "cohorts": [
            {
                "month": month.strftime("%Y-%m"),
                "customers": size,
                "shares": [None if v is None else round(v, 4) for v in row],
            }
            for month, size, row in zip(cohorts.months, cohorts.sizes, cohorts.shares, strict=True)
            if size
        ],
    }


# --- clv ----------------------------------------------------------------------------------------


def _model_json(fit: Any) -> dict[str, Any]:
    import numpy as np

    bg, gg = fit.bgnbd, fit.gamma_gamma
    return {
        "customers": len(fit.customer_ids),
        "repeat_buyers": fit.repeat_buyers,
        "bgnbd": {
            "r": bg.r,
            "alpha": bg.alpha,
            "a": bg.a,
            "b": bg.b,
            "log_likelihood": bg.log_likelihood,
        },
        "gamma_gamma": {
            "p": gg.p,
            "q": gg.q,
            "gamma": gg.gamma,
            "log_likelihood": gg.log_likelihood,
            "customers": gg.n_customers,
        },
        "expected_purchases_90d": round(float(np.sum(fit.expected_purchases)), 4),
        "clv_12m_total": round(float(np.sum(fit.clv)), 4),
        "clv_12m_mean": round(fit.mean_clv, 4),
        "p_alive_mean": round(float(np.mean(fit.p_alive)), 4),
    }


class BadFile(Exception):
    pass


# The bot's own purchase export (`python -m bot export purchases`) names the customer
# column `customer`; spreadsheets and papers (CDNOW) say `customer_id`. Either is read.
_CUSTOMER_COLUMNS = ("customer_id", "customer")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T].*)?$")


def _day(text: str) -> date:
    """2024-01-31, 2024-01-31 12:00:00(+03:00) as the export writes, or 31.01.2024."""
    text = text.strip()
    dotted = _DOTTED.match(text)
    if dotted:
        day, month, year = (int(part) for part in dotted.groups())
        return date(year, month, day)
    return datetime.fromisoformat(text).date()


def _amount(text: str) -> float:
    """2500, 2500.00 (the export), 2 500,50 (a Russian spreadsheet)."""
    cleaned = "".join(text.split()).replace(",", ".")
    amount = float(cleaned)
    if not math.isfinite(amount):
        raise ValueError("amount is not a number")
    return amount


def read_transactions(path: Path) -> list[tuple[str, date, float]]:
    """Rows of a transactions CSV; BadFile names every bad line (up to ten).

    Customer ids are any text (C099, an e-mail, a UUID, a phone); a leading apostrophe the
    export adds against spreadsheet formulas is dropped, so the same customer reads the same.
    """
    if not path.is_file():
        raise BadFile(f"no such file: {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as source:
            return _read_rows(path, source)
    except UnicodeDecodeError:
        raise BadFile(f"{path} is not UTF-8 text (save it as CSV UTF-8)") from None
    except csv.Error as error:
        raise BadFile(f"{path}: not a readable CSV file ({error})") from None
    except OSError as error:
        raise BadFile(f"{path}: cannot be read ({error.strerror or error})") from None


def _read_rows(path: Path, source: Any) -> list[tuple[str, date, float]]:
    header = source.readline()
    delimiter = max((",", ";", "\t"), key=header.count)  # a tie means ","
    reader = csv.DictReader(itertools.chain([header], source), delimiter=delimiter)
    names = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = names
    column = next((name for name in _CUSTOMER_COLUMNS if name in names), None)
    missing = [] if column else ["customer_id"]
    missing += [name for name in ("date", "amount") if name not in names]
    if missing:
        raise BadFile(
            f"{path}: missing column(s) {', '.join(missing)} "
            "(expected customer_id or customer, date, amount)"
        )
    assert column is not None
    rows: list[tuple[str, date, float]] = []
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        try:
            customer = (row[column] or "").strip()
            customer = customer.removeprefix("'").strip()
            if not customer:
                raise ValueError(f"empty {column}")
            rows.append((customer, _day(row["date"] or ""), _amount(row["amount"] or "")))
        except ValueError as error:
            problems.append(f"line {line}: {error}")
    if problems:
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise BadFile(f"{path}: bad rows, nothing fitted:\n  " + "\n  ".join(problems[:10]) + more)
    if not rows:
        raise BadFile(f"{path}: no transactions")
    return rows


def _clv_file(path: Path, end: date | None, margin: int, as_json: bool) -> int:
    from services import clv, prediction

    try:
        rows = read_transactions(path)
    except BadFile as error:
        print(error, file=sys.stderr)
        return 2
    end = end or max(day for _, day, _ in rows)
    # The model keys customers by integer (database ids); a file's ids are any text, so
    # each distinct text gets a number in the order it first appears.
    numbers: dict[str, int] = {}
    numbered = [(numbers.setdefault(c, len(numbers)), day, v) for c, day, v in rows]
    summary = clv.summarize(numbered, end, unit_days=prediction.UNIT_DAYS)
    outcome = prediction.fit(summary, margin / 100)
    return _print_clv(outcome, "file", end, margin, as_json)


async def _clv_database(
    settings: Settings, end: date | None, margin: int | None, as_json: bool
) -> int:
    from services.analytics import AnalyticsService
    from services.shop import ShopService
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        service = AnalyticsService(db, settings.zone)
        now = datetime.now(UTC)
        if end is not None and end > now.astimezone(settings.zone).date():
            print(f"--calibration-end {end} is in the future", file=sys.stderr)
            return 2
        cutoff = service.cutoff_for(end, now)
        margin = margin or (await ShopService(db).profile()).margin_percent
        outcome = await service.fit_model(cutoff, margin)
    finally:
        await db.dispose()
    end = service.local_day(cutoff)
    return _print_clv(outcome, "database", end, margin, as_json)


_PLAIN_REASONS = {
    "model-too-few-customers": "too little data: {customers} customers, the model needs {needed}",
    "model-too-few-repeat": "too little data: {repeat} repeat buyers, the model needs {needed}",
    "model-too-few-spenders": (
        "too little data: {repeat} repeat buyers who paid, the model needs {needed}"
    ),
    "model-not-fitted": "the model could not be fitted to these data",
}


def _print_clv(outcome: Any, source: str, end: date, margin: int, as_json: bool) -> int:
    from services.prediction import HORIZON_DAYS, UNIT_DAYS, ModelFit

    head = {
        "source": source,
        "calibration_end": end.isoformat(),
        "unit_days": UNIT_DAYS,
        "horizon_days": HORIZON_DAYS,
        "margin_percent": margin,
    }
    if not isinstance(outcome, ModelFit):
        message = _PLAIN_REASONS[outcome.reason].format(
            customers=outcome.customers, repeat=outcome.repeat_buyers, needed=outcome.needed
        )
        if as_json:
            print(
                json.dumps(
                    {
                        **head,
                        "status": "too_little_data",
                        "reason": outcome.reason,
                        "message": message,
                    },
                    indent=2,
                )
            )
        else:
            print(message, file=sys.stderr)
        return 1
    body = {**head, "status": "fitted", **_model_json(outcome)}
    if as_json:
        print(json.dumps(body, indent=2))
        return 0
    bg, gg = body["bgnbd"], body["gamma_gamma"]
    print(
        f"{body['customers']} customers, {body['repeat_buyers']} repeat buyers, "
        f"calibration end {end}, time unit {UNIT_DAYS:g} days\n"
        f"BG/NBD       r={bg['r']:.4f} alpha={bg['alpha']:.4f} a={bg['a']:.4f} b={bg['b']:.4f} "
        f"log-likelihood={bg['log_likelihood']:.2f}\n"
        f"Gamma-Gamma  p={gg['p']:.4f} q={gg['q']:.4f} gamma={gg['gamma']:.4f} "
        f"log-likelihood={gg['log_likelihood']:.2f}\n"
        f"expected purchases in {HORIZON_DAYS} days: {body['expected_purchases_90d']:.1f}; "
        f"12-month CLV x {margin}% margin: {body['clv_12m_total']:.2f} in total, "
        f"{body['clv_12m_mean']:.2f} per customer"
    )
    return 0
