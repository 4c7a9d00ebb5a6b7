"""Texts of the analytics feature: the win-back message (an outbox kind) and the owner's reports.

Report functions take `t` (a translation function: `tr` in handlers, `tr_in` bound to a
language in the CLI), so the chat and `python -m bot stats` print the same report.
"""

from __future__ import annotations

import math

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
from services.outbox_payloads import Winback
from services.prediction import ModelFit, TooLittleData
from ui.formatting import format_number
from ui.i18n import Texts
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.words import source_name

# Plain texts with t(key, ...), counts with t.plural(key, n), numbers in t.language's way.
Translate = Texts


def winback(payload: Winback, context: RenderContext) -> Rendered:
    name = payload.name.strip()
    if name:
        return Rendered(text=context.t("winback-message", name=name))
    return Rendered(text=context.t("winback-message-anonymous"))


RENDERERS: Renderers = dict([renderer(Winback, winback)])


# --- small pieces -------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}\u00a0%"


def money(minor: float | None, currency: str) -> str:
    if minor is None or not math.isfinite(minor):
        return "—"
    return format_money(round(minor), currency)


def number(t: Translate, value: float | None, digits: int = 1) -> str:
    return format_number(value, digits, t.language)


def customers(t: Translate, n: int) -> str:
    return t.plural("analytics-n-customers", n)


def days(t: Translate, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return t.plural("analytics-n-days", round(value))


def _period(t: Translate, key: str, period: PeriodSplit, currency: str) -> str:
    return t(
        key,
        purchases=t.plural("analytics-n-purchases", period.purchases),
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
    sources = ", ".join(
        f"{source_name(t, src)} {money(v, s.currency)}" for src, v in s.cac_by_source.items()
    )
    return t(
        "stats-settings",
        margin=s.margin_percent,
        cac=money(s.acquisition_cost, s.currency),
        sources=sources or t("stats-no-sources"),
        currency=s.currency,
    )


# --- /stats ------------------------------------------------------------------------------------


def stats_text(t: Translate, report: StatsReport) -> str:
    if report.empty:
        return "\n".join(
            [
                t("stats-title", day=report.as_of.strftime("%d.%m.%Y")),
                t("stats-empty", customers=report.customers),
            ]
        )
    figures = dict(stats_figures(t, report))
    blocks = [
        ["title", "customers"],
        ["period_current", "period_previous", "verdict"],
        ["aov", "per_customer", "lifespan", "ltv", "clv_predicted", "abc"],
        ["settings"],
    ]
    return "\n\n".join("\n".join(figures[key] for key in block) for block in blocks)


def stats_figures(t: Translate, report: StatsReport) -> list[tuple[str, str]]:
    """The lines of /stats by name: the chat joins them, the Mini App shows them one by one."""
    currency = report.settings.currency
    s = report.settings
    if isinstance(report.model, ModelFit):
        predicted = t("stats-clv-predicted", value=money(report.clv_predicted, currency))
    elif isinstance(report.model, TooLittleData):
        predicted = t("stats-clv-predicted-none", reason=model_note(t, report.model))
    else:
        predicted = t("stats-clv-predicted-none", reason="—")
    a, b, c = report.abc.classes
    return [
        ("title", t("stats-title", day=report.as_of.strftime("%d.%m.%Y"))),
        (
            "customers",
            t(
                "stats-customers",
                total=report.customers,
                buying=report.buyers,
                new=report.new_customers,
            ),
        ),
        ("period_current", _period(t, "stats-period-current", report.current, currency)),
        ("period_previous", _period(t, "stats-period-previous", report.previous, currency)),
        ("verdict", _verdict(t, report)),
        ("aov", t("stats-aov", value=money(report.aov, currency))),
        (
            "per_customer",
            t("stats-per-customer", value=number(t, report.purchases_per_customer, 2)),
        ),
        ("lifespan", t("stats-lifespan", days=days(t, report.lifespan_days))),
        # One LTV with its definition: two values from the same inputs (the second one took
        # the margin off the acquisition cost too) left the owner guessing (issue 14).
        (
            "ltv",
            t(
                "figures-ltv",
                value=money(report.ltv_historical, currency),
                aov=money(report.aov, currency),
                per_customer=number(t, report.purchases_per_customer, 2),
                cac=money(s.cac_effective, currency),
                margin=s.margin_percent,
            ),
        ),
        ("clv_predicted", predicted),
        (
            "abc",
            t(
                "stats-abc-short",
                a=customers(t, a.customers),
                a_share=pct(a.revenue_share),
                b=customers(t, b.customers),
                b_share=pct(b.revenue_share),
                c=customers(t, c.customers),
                c_share=pct(c.revenue_share),
            ),
        ),
        ("settings", settings_line(t, s)),
    ]


# --- views --------------------------------------------------------------------------------------


def abc_text(t: Translate, report: AbcReport, currency: str) -> str:
    if not report.revenue and not any(k.customers for k in report.classes):
        return t("abc-empty")
    lines = [t("abc-title")]
    lines.extend(
        t(
            "abc-class",
            name=k.name,
            customers=customers(t, k.customers),
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
    lines = [
        t("predicted-title"),
        t(
            "predicted-summary",
            customers=len(outcome.customer_ids),
            repeat=outcome.repeat_buyers,
            purchases=number(t, report.expected_purchases_total, 0),
            clv=money(report.clv_total, report.currency),
            mean=money(outcome.mean_clv, report.currency),
            margin=report.margin_percent,
        ),
        # Fitted parameters (r, α, a, b …) mean nothing to an owner: the CLI's JSON keeps them.
        "",
        t("predicted-top"),
    ]
    lines.extend(
        t(
            "predicted-line",
            id=row.customer_id,
            name=row.name or "—",
            alive=pct(row.p_alive),
            purchases=number(t, row.expected_purchases, 2),
            value=money(row.expected_value, report.currency),
            clv=money(row.clv, report.currency),
        )
        for row in report.top
    )
    return "\n".join(lines)


def at_risk_text(t: Translate, rows: list[AtRiskCustomer], currency: str) -> str:
    if not rows:
        return t("at-risk-empty")
    # The cycle rule has no P(alive) to show: a column of "100 %" beside months of absence
    # contradicted itself (issue 14).
    by_cycle = rows[0].rule == "cycle"
    lines = [t("figures-risk-title-cycle" if by_cycle else "at-risk-title")]
    lines.extend(
        t(
            "figures-risk-line-cycle" if by_cycle else "at-risk-line",
            id=row.customer_id,
            name=row.name or "—",
            value=money(row.value, currency),
            alive=pct(row.p_alive),
            days=days(t, row.days_since_last),
            cycle=days(t, row.cycle_days),
        )
        + ("" if row.reachable else " " + t("at-risk-unreachable"))
        for row in rows
    )
    lines.append(t("figures-risk-rule-cycle" if by_cycle else "figures-risk-rule-model"))
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
