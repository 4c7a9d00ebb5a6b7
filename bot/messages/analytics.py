"""Texts of the analytics feature: the win-back message (an outbox kind) and the owner's reports.

Report functions take `t` (a translation function: `tr` in handlers, `tr_in` bound to a
language in the CLI), so the chat and `python -m bot stats` print the same report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bot.messages.base import RenderContext, Rendered, Renderer
from services.analytics import (
    AbcReport,
    AtRiskCustomer,
    CampaignResult,
    CohortReport,
    PeriodSplit,
    PredictionReport,
    Settings,
    StatsReport,
)
from services.money import format_money
from services.prediction import ModelFit, TooLittleData

Translate = Callable[..., str]


def winback(payload: dict[str, Any], context: RenderContext) -> Rendered:
    name = str(payload.get("name") or "").strip()
    if name:
        return Rendered(text=context.t("winback-message", name=name))
    return Rendered(text=context.t("winback-message-anonymous"))


RENDERERS: dict[str, Renderer] = {"winback": winback}


# --- small pieces -------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}\u00a0%"


def money(minor: float | None, currency: str) -> str:
    if minor is None or not math.isfinite(minor):
        return "—"
    return format_money(round(minor), currency)


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _period(t: Translate, key: str, period: PeriodSplit, currency: str) -> str:
    return t(
        key,
        purchases=period.purchases,
        first=period.first,
        first_share=pct(1 - period.repeat_share if period.repeat_share is not None else None),
        repeat=period.repeat,
        repeat_share=pct(period.repeat_share),
        revenue=money(period.revenue, currency),
        first_revenue=money(period.first_revenue, currency),
        repeat_revenue=money(period.repeat_revenue, currency),
        repeat_revenue_share=pct(period.repeat_revenue_share),
    )


def _verdict(t: Translate, report: StatsReport) -> str:
    now, before = report.current, report.previous
    if now.repeat_share is None or before.repeat_share is None:
        return t("stats-verdict-unknown")
    points = (now.repeat_share - before.repeat_share) * 100
    change = t(
        "stats-change",
        old=pct(before.repeat_share),
        new=pct(now.repeat_share),
        points=f"{points:+.0f}",
    )
    if points > 0 and now.purchases >= before.purchases:
        return change + "\n" + t("stats-verdict-good")
    if points > 0:
        return change + "\n" + t("stats-verdict-fewer-sales")
    return change + "\n" + t("stats-verdict-leaking")


def model_note(t: Translate, outcome: TooLittleData) -> str:
    return t(
        outcome.reason,
        customers=outcome.customers,
        repeat=outcome.repeat_buyers,
        needed=outcome.needed,
    )


def settings_line(t: Translate, s: Settings) -> str:
    sources = ", ".join(f"{src} {money(v, s.currency)}" for src, v in s.cac_by_source.items())
    return t(
        "stats-settings",
        margin=s.margin_percent,
        cac=money(s.acquisition_cost, s.currency),
        sources=sources or t("stats-no-sources"),
        currency=s.currency,
    )


# --- /stats ------------------------------------------------------------------------------------


def stats_text(t: Translate, report: StatsReport) -> str:
    currency = report.settings.currency
    if report.empty:
        return "\n".join(
            [
                t("stats-title", day=report.as_of.strftime("%d.%m.%Y")),
                t("stats-empty", customers=report.customers),
            ]
        )
    s = report.settings
    if isinstance(report.model, ModelFit):
        predicted = t("stats-clv-predicted", value=money(report.clv_predicted, currency))
    elif isinstance(report.model, TooLittleData):
        predicted = t("stats-clv-predicted-none", reason=model_note(t, report.model))
    else:
        predicted = t("stats-clv-predicted-none", reason="—")
    a, b, c = report.abc.classes
    lines = [
        t("stats-title", day=report.as_of.strftime("%d.%m.%Y")),
        t(
            "stats-customers",
            total=report.customers,
            buying=report.buyers,
            new=report.new_customers,
        ),
        "",
        _period(t, "stats-period-current", report.current, currency),
        _period(t, "stats-period-previous", report.previous, currency),
        _verdict(t, report),
        "",
        t("stats-aov", value=money(report.aov, currency)),
        t("stats-per-customer", value=number(report.purchases_per_customer, 2)),
        t("stats-lifespan", days=number(report.lifespan_days, 0)),
        t("stats-ltv", value=money(report.ltv_historical, currency)),
        t(
            "stats-clv-formula",
            value=money(report.clv_formula, currency),
            aov=money(report.aov, currency),
            per_customer=number(report.purchases_per_customer, 2),
            cac=money(s.cac_effective, currency),
            margin=s.margin_percent,
        ),
        predicted,
        t(
            "stats-abc-short",
            a=a.customers,
            a_share=pct(a.revenue_share),
            b=b.customers,
            b_share=pct(b.revenue_share),
            c=c.customers,
            c_share=pct(c.revenue_share),
        ),
        "",
        settings_line(t, s),
    ]
    return "\n".join(lines)


# --- views --------------------------------------------------------------------------------------


def abc_text(t: Translate, report: AbcReport, currency: str) -> str:
    if not report.revenue and not any(k.customers for k in report.classes):
        return t("abc-empty")
    lines = [t("abc-title")]
    lines.extend(
        t(
            "abc-class",
            name=k.name,
            customers=k.customers,
            customer_share=pct(k.customer_share),
            revenue=money(k.revenue, currency),
            revenue_share=pct(k.revenue_share),
        )
        for k in report.classes
    )
    lines += ["", t("abc-list-title")]
    lines.extend(
        t(
            "abc-line",
            id=row.customer_id,
            name=row.name or "—",
            revenue=money(row.revenue, currency),
            purchases=row.purchases,
        )
        for row in report.top_a
    )
    return "\n".join(lines)


def cohort_text(t: Translate, report: CohortReport) -> str:
    if not any(report.sizes):
        return t("cohorts-empty")
    lines = [t("cohorts-title")]
    for month, size, row in zip(report.months, report.sizes, report.shares, strict=True):
        if not size:
            continue
        cells = " ".join(f"{v * 100:.0f}" for v in row if v is not None)
        lines.append(t("cohorts-row", month=month.strftime("%Y-%m"), size=size, cells=cells))
    lines.append(t("cohorts-legend"))
    return "\n".join(lines)


def predicted_text(t: Translate, report: PredictionReport) -> str:
    outcome = report.outcome
    if isinstance(outcome, TooLittleData):
        return "\n".join([t("predicted-title"), model_note(t, outcome)])
    bg, gg = outcome.bgnbd, outcome.gamma_gamma
    lines = [
        t("predicted-title"),
        t(
            "predicted-summary",
            customers=len(outcome.customer_ids),
            repeat=outcome.repeat_buyers,
            purchases=number(report.expected_purchases_total, 0),
            clv=money(report.clv_total, report.currency),
            mean=money(outcome.mean_clv, report.currency),
            margin=report.margin_percent,
        ),
        t(
            "predicted-params",
            r=f"{bg.r:.3g}",
            alpha=f"{bg.alpha:.3g}",
            a=f"{bg.a:.3g}",
            b=f"{bg.b:.3g}",
            p=f"{gg.p:.3g}",
            q=f"{gg.q:.3g}",
            gamma=f"{gg.gamma:.3g}",
        ),
        "",
        t("predicted-top"),
    ]
    lines.extend(
        t(
            "predicted-line",
            id=row.customer_id,
            name=row.name or "—",
            alive=pct(row.p_alive),
            purchases=number(row.expected_purchases, 2),
            value=money(row.expected_value, report.currency),
            clv=money(row.clv, report.currency),
        )
        for row in report.top
    )
    return "\n".join(lines)


def at_risk_text(t: Translate, rows: list[AtRiskCustomer], currency: str) -> str:
    if not rows:
        return t("at-risk-empty")
    lines = [t("at-risk-title")]
    lines.extend(
        t(
            "at-risk-line",
            id=row.customer_id,
            name=row.name or "—",
            value=money(row.value, currency),
            alive=pct(row.p_alive),
            days=row.days_since_last,
            cycle=number(row.cycle_days, 0),
        )
        + ("" if row.reachable else " " + t("at-risk-unreachable"))
        for row in rows
    )
    lines.append(t("at-risk-hint"))
    return "\n".join(lines)


def campaigns_text(t: Translate, rows: list[CampaignResult], currency: str) -> str:
    lines = [t("campaigns-title")]
    lines.extend(
        t(
            "campaigns-line",
            kind=t(f"campaign-{row.group}"),
            sent=row.sent,
            delivered=row.delivered,
            blocked=row.blocked,
            booked=row.booked,
            bought=row.bought,
            revenue=money(row.revenue, currency),
            before=pct(row.repeat_share_before),
            after=pct(row.repeat_share_after),
        )
        for row in rows
    )
    lines.append(t("campaigns-legend"))
    return "\n".join(lines)
