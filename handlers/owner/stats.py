"""The owner's numbers: /stats with its chart and buttons to the detailed views, win-back
buttons for customers at risk, and /cac for the acquisition cost per source."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.once import ONCE
from services import charts
from services.analytics import AnalyticsService, AtRiskCustomer, CohortReport, StatsReport
from services.errors import InputError
from services.no_shows import NoShowService
from services.parsing import parse_date
from services.shop import ShopProfile, ShopService
from ui.callbacks import StatsView, WinbackSend
from ui.formatting import money_tick
from ui.i18n import current_texts, tr
from ui.long_text import answer_long
from ui.messages import analytics as texts
from ui.messages.no_shows import stats_line

VIEWS = ("abc", "cohorts", "predicted", "risk", "campaigns")
_WINBACK_LABEL = 40


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stats_command, Command("stats"))
    router.message.register(cac_command, Command("cac"))
    router.callback_query.register(open_view, StatsView.filter())
    router.callback_query.register(send_winback, WinbackSend.filter(), flags=ONCE)
    return router


def views_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for view in VIEWS:
        builder.button(text=tr(f"button-stats-{view}"), callback_data=StatsView(view=view))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def winback_keyboard(rows: list[AtRiskCustomer]) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for row in rows:
        if row.reachable:
            label = tr("button-winback", name=(row.name or f"#{row.customer_id}")[:_WINBACK_LABEL])
            builder.button(text=label, callback_data=WinbackSend(customer_id=row.customer_id))
    builder.adjust(1)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


async def stats_command(
    message: Message,
    command: CommandObject,
    analytics: AnalyticsService,
    no_shows: NoShowService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    now = clock()
    as_of = None
    if command.args:
        today = now.astimezone(settings.zone).date()
        as_of = parse_date(command.args, today=today)
    cutoff = analytics.cutoff_for(as_of, now)
    report = await analytics.report(cutoff)
    # issue 13: the share of booked visits lost to no-shows and late cancellations
    lost = stats_line(current_texts(), await no_shows.visits(cutoff))
    text = texts.stats_text(current_texts(), report) + (f"\n\n{lost}" if lost else "")
    if report.empty:
        await answer_long(message, text)
        return
    language = current_texts().language
    chart = await asyncio.to_thread(_revenue_png, report, language, *_chart_labels())
    await message.answer_photo(
        BufferedInputFile(chart, filename="revenue.png"), caption=tr("chart-revenue-caption")
    )
    await answer_long(message, text, reply_markup=views_keyboard())


def _chart_labels() -> tuple[str, str, str]:
    return tr("chart-revenue-title"), tr("chart-first"), tr("chart-repeat")


def _revenue_png(report: StatsReport, language: str, title: str, first: str, repeat: str) -> bytes:
    currency = report.settings.currency
    return charts.revenue_chart(
        [m.month.strftime("%Y-%m") for m in report.months],
        [m.first_revenue / 100 for m in report.months],
        [m.repeat_revenue / 100 for m in report.months],
        title=title,  # the axis labels carry the currency sign
        first_label=first,
        repeat_label=repeat,
        value_label=lambda value: money_tick(value, currency, language),
    )


def _cohort_png(report: CohortReport, title: str, x_label: str, y_label: str) -> bytes:
    start = next((i for i, size in enumerate(report.sizes) if size), len(report.sizes))
    return charts.cohort_heatmap(
        [m.strftime("%Y-%m") for m in report.months[start:]],
        [row[: len(report.months) - start] for row in report.shares[start:]],
        title=title,
        x_label=x_label,
        y_label=y_label,
    )


async def open_view(
    query: CallbackQuery,
    callback_data: StatsView,
    analytics: AnalyticsService,
    shop_profile: ShopProfile,
    clock: Callable[[], datetime],
) -> None:
    assert isinstance(query.message, Message)
    message = query.message
    now = clock()
    currency = shop_profile.currency
    view = callback_data.view
    if view == "abc":
        await answer_long(
            message, texts.abc_text(current_texts(), await analytics.abc(now), currency)
        )
    elif view == "cohorts":
        report = await analytics.cohorts(now)
        if any(report.sizes):
            labels = tr("chart-cohorts-title"), tr("chart-cohorts-x"), tr("chart-cohorts-y")
            png = await asyncio.to_thread(_cohort_png, report, *labels)
            await message.answer_photo(BufferedInputFile(png, filename="cohorts.png"))
        await answer_long(message, texts.cohort_text(current_texts(), report))
    elif view == "predicted":
        await answer_long(
            message, texts.predicted_text(current_texts(), await analytics.predicted(now))
        )
    elif view == "risk":
        rows = await analytics.at_risk(now)
        await answer_long(
            message,
            texts.at_risk_text(current_texts(), rows, currency),
            reply_markup=winback_keyboard(rows),
        )
    elif view == "campaigns":
        await answer_long(
            message, texts.campaigns_text(current_texts(), await analytics.campaigns(now), currency)
        )
    # Answered last: the client's spinner shows while the numbers and the chart are made.
    await query.answer()


async def send_winback(
    query: CallbackQuery,
    callback_data: WinbackSend,
    analytics: AnalyticsService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    done = await analytics.queue_winback(callback_data.customer_id, clock())
    name = done.name or f"#{done.customer_id}"
    if done.queued:
        when = done.not_before.astimezone(settings.zone).strftime("%d.%m %H:%M")
        await query.answer(tr("winback-queued", name=name, when=when), show_alert=True)
    else:
        await query.answer(tr("winback-already", name=name), show_alert=True)


async def cac_command(
    message: Message,
    command: CommandObject,
    analytics: AnalyticsService,
    shop: ShopService,
) -> None:
    args = (command.args or "").split(maxsplit=1)
    if not args:
        await answer_long(
            message,
            texts.settings_line(current_texts(), await analytics.settings())
            + "\n\n"
            + tr("cac-usage"),
        )
        return
    if len(args) == 1:
        if args[0][:1].isdigit() or args[0] == "-":
            await shop.set("acquisition_cost", args[0])
        else:
            raise InputError("cac-usage")
    else:
        source, amount = args
        if await analytics.set_source_cac(source, amount) is not None:
            # Say how the typed cost relates to /spend: stored per customer, total derived.
            await message.answer(tr("figures-cac-stored", source=source))
    await answer_long(
        message,
        tr("cac-saved") + "\n" + texts.settings_line(current_texts(), await analytics.settings()),
    )
