"""Texts built from services' plain data, in the current update's language."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from services.dto import CustomerTotals, SaleLine, SaleReceipt, ServiceItem
from services.money import currency_symbol, format_money
from ui.i18n import tr, trn


def format_number(value: float | None, digits: int, language: str) -> str:
    """A non-money number the reader's way: «1 234,5» in Russian, «1,234.5» in English."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:,.{digits}f}"
    if language == "ru":  # a no-break space keeps the number on one line
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_percent(share: float | None, digits: int, language: str) -> str:
    """A share (0.293) as a percentage: «29,3 %» in Russian, «29.3 %» in English."""
    if share is None:
        return "—"
    return format_number(share * 100, digits, language) + "\u00a0%"


def money_tick(value: float, currency: str, language: str) -> str:
    """A chart's money tick in major units: «175 000 ₽» in Russian, the currency's own way else."""
    if language == "ru":
        return format_number(value, 0, "ru") + "\u00a0" + currency_symbol(currency)
    return format_money(round(value) * 100, currency)


def local_day(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%d.%m.%Y")


def receipt(sale: SaleReceipt, currency: str, zone: ZoneInfo) -> str:
    kind = tr("sale-kind-repeat" if sale.is_repeat else "sale-kind-first")
    text = tr(
        "sale-saved",
        id=sale.purchase_id,
        customer=sale.customer.label,
        amount=format_money(sale.amount, currency),
        service=sale.service_name or tr("no-service"),
        day=local_day(sale.purchased_at, zone),
        kind=kind,
        visits=sale.totals.visits,
        total=format_money(sale.totals.total, currency),
    )
    if sale.points_used:
        text += "\n" + tr("sale-points-used", points=sale.points_used)
    if sale.customer.telegram_id is not None:
        text += "\n" + tr("sale-points-balance", balance=sale.points_balance)
    if sale.code:
        text += "\n" + tr(
            "sale-discount", code=sale.code, discount=format_money(sale.discount, currency)
        )
    return text


def sale_line(line: SaleLine, currency: str, zone: ZoneInfo) -> str:
    return tr(
        "sale-line",
        id=line.purchase_id,
        day=local_day(line.purchased_at, zone),
        customer=line.customer_name or f"#{line.customer_id}",
        service=line.service_name or tr("no-service"),
        amount=format_money(line.amount, currency),
    )


def customer_totals(totals: CustomerTotals, currency: str, zone: ZoneInfo) -> str:
    return tr(
        "me-totals",
        visits=totals.visits,
        last=local_day(totals.last_visit, zone),
        total=format_money(totals.total, currency),
    )


def service_card(item: ServiceItem, currency: str) -> str:
    return tr(
        "service-card",
        name=item.name,
        price=format_money(item.price, currency),
        cycle=trn("service-cycle-days", item.cycle_days) if item.cycle_days else tr("none"),
        duration=item.duration_minutes,
        status=tr("service-archived") if item.archived else tr("service-active"),
    )
