"""/me: what the shop knows about the customer, their visits and their upcoming bookings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.config import Settings
from handlers.customer.booking import show_own_bookings
from services.bookings import BookingService
from services.customers import CustomerService
from services.shop import ShopProfile
from ui.formatting import customer_totals
from ui.i18n import tr, trn


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(me_handler, Command("me"))
    return router


async def me_handler(
    message: Message,
    customers: CustomerService,
    shop_profile: ShopProfile,
    bookings: BookingService,
    settings: Settings,
    bot: Bot,
    clock: Callable[[], datetime],
) -> None:
    assert message.from_user is not None
    card = await customers.card_by_telegram(message.from_user.id)
    if card is None or not card.registered:
        await message.answer(tr("me-not-registered"))
        return
    totals = await customers.totals(card.id)
    profile = shop_profile
    lines = [
        tr("me-header", name=card.name or ""),
        tr("me-phone", phone=card.phone or tr("not-given")),
        tr("me-birthday", birthday=card.birthday.as_text() if card.birthday else tr("not-given")),
        tr("me-consent-yes" if card.consent else "me-consent-no"),
        customer_totals(totals, profile.currency, settings.zone),
    ]
    loyalty = await customers.loyalty(card.id)
    lines.append(tr("me-points", points=loyalty.balance))
    lines += [
        tr(
            f"me-ledger-{line.reason}",
            delta=f"{line.delta:+d}",
            day=line.at.astimezone(settings.zone).strftime("%d.%m.%Y"),
        )
        for line in loyalty.lines
    ]
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={loyalty.referral_code}"
    lines.append(trn("me-referral", profile.referral_bonus, link=link))
    upcoming = await bookings.upcoming(message.from_user.id, clock())
    if not upcoming:
        lines.append(tr("mybk-none"))
    await message.answer("\n".join(lines))
    # Each booking in its own message, so its Reschedule and Cancel are plainly its own.
    await show_own_bookings(message, upcoming, settings)
