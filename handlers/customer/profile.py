"""/me: what the shop knows about the customer and their visits."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.config import Settings
from bot.formatting import customer_totals
from bot.i18n import tr, trn
from services.customers import CustomerService
from services.shop import ShopService


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(me_handler, Command("me"))
    return router


async def me_handler(
    message: Message, customers: CustomerService, shop: ShopService, settings: Settings, bot: Bot
) -> None:
    assert message.from_user is not None
    card = await customers.card_by_telegram(message.from_user.id)
    if card is None or not card.registered:
        await message.answer(tr("me-not-registered"))
        return
    totals = await customers.totals(card.id)
    profile = await shop.profile()
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
    await message.answer("\n".join(lines))
