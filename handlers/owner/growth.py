"""Growth for the owner: tracked channel links (/link), where customers come from (/sources)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Settings
from services.errors import InputError
from services.growth import GrowthService, SourceReport
from services.money import format_money
from services.shop import ShopProfile
from ui.formatting import format_number
from ui.i18n import current_texts, tr
from ui.long_text import answer_long
from ui.words import source_name


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(link_command, Command("link"))
    router.message.register(sources_command, Command("sources"))
    router.message.register(spend_command, Command("spend"))
    return router


async def link_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    growth: GrowthService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    if not command.args:
        links = await growth.links()
        lines = [tr("gr-links-header")] + [f"{name}: {url}" for name, url in links]
        await answer_long(message, "\n".join(lines) if links else tr("gr-links-empty"))
        return
    if settings.channel_id is None:
        raise InputError("error-no-channel")
    name = await growth.check_new_link(command.args)
    link = await bot.create_chat_invite_link(
        chat_id=settings.channel_id, name=name, creates_join_request=True
    )
    await growth.save_link(name, link.invite_link, clock())
    await message.answer(tr("gr-link-created", name=name, url=link.invite_link))


async def sources_command(
    message: Message, growth: GrowthService, shop_profile: ShopProfile
) -> None:
    reports = await growth.sources()
    if not reports:
        await message.answer(tr("gr-sources-empty"))
        return
    currency = shop_profile.currency
    lines = [tr("gr-sources-header")] + [
        tr(
            "gr-source-line",
            source=source_name(tr, row.source),
            subscribers=row.subscribers,
            registered=row.registered,
            buyers=row.buyers,
            revenue=format_money(row.revenue, currency),
            spend=_spend_cell(row, currency),
            ratio=format_number(row.ltv_to_cac, 2, current_texts().language),
        )
        for row in reports
    ]
    await answer_long(message, "\n".join(lines))


def _spend_cell(row: SourceReport, currency: str) -> str:
    """Total spend with the cost per customer derived from it (or typed with /cac)."""
    if row.per_customer is None:
        return format_money(row.spend, currency) if row.spend else "—"
    return tr(
        "figures-spend-cell",
        spend=format_money(row.spend, currency) if row.spend else "—",
        per_customer=format_money(round(row.per_customer), currency),
    )


async def spend_command(
    message: Message, command: CommandObject, growth: GrowthService, shop_profile: ShopProfile
) -> None:
    source, _, amount = (command.args or "").strip().partition(" ")
    if not source or not amount.strip():
        raise InputError("error-spend-usage")
    spent = await growth.set_spend(source, amount)
    currency = shop_profile.currency
    await message.answer(
        tr("gr-spend-saved", source=source, spend=format_money(spent, currency))
        + "\n"
        + tr("figures-spend-stored")
    )
