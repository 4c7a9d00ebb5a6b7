"""Deposits (issue 13): the invoice after booking, the pre-checkout check, the payment.

Registered only when PAYMENT_PROVIDER_TOKEN is set, so only then does the bot ask Telegram
for pre_checkout_query updates (aiogram requests the update types its handlers use).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery

from bot.config import Settings
from services.bookings import BookingItem, BookingService
from services.deposits import DepositService
from services.errors import InputError
from services.money import format_money
from services.owner_notices import OwnerNotices
from ui.i18n import Texts, tr
from ui.messages.bookings import when_label

Clock = Callable[[], datetime]
_TITLE = 32  # Telegram: an invoice title is 1-32 characters


def create_router() -> Router:
    router = Router(name=__name__)
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(payment_received, F.successful_payment)
    return router


async def send_deposit_invoice(
    bot: Bot,
    chat_id: int,
    t: Texts,
    deposits: DepositService,
    booking: BookingItem,
    settings: Settings,
) -> None:
    """After a booking that holds its slot for a deposit: what to do, then the invoice.

    `t` speaks the customer's language: the chat's update, or the Mini App's caller."""
    invoice = await deposits.invoice(booking.id)
    token = settings.payment_provider_token
    if invoice is None or token is None:
        return
    amount = format_money(invoice.amount, invoice.currency)
    when = when_label(invoice.starts_at, settings.zone, t)
    until = f"{invoice.hold_until.astimezone(settings.zone):%H:%M}"
    await bot.send_message(
        chat_id, t("dp-hold", service=invoice.service, when=when, amount=amount, until=until)
    )
    title = t("dp-invoice-title")
    await bot.send_invoice(
        chat_id=chat_id,
        title=title[:_TITLE],
        description=t("dp-invoice-description", service=invoice.service, when=when)[:255],
        payload=invoice.payload,
        provider_token=token.get_secret_value(),
        currency=invoice.currency,
        prices=[LabeledPrice(label=title[:_TITLE], amount=invoice.amount)],
    )


async def pre_checkout(query: PreCheckoutQuery, deposits: DepositService, clock: Clock) -> None:
    """Telegram waits 10 seconds for this answer: one indexed read, then the answer."""
    try:
        await deposits.check(
            payload=query.invoice_payload,
            telegram_id=query.from_user.id,
            currency=query.currency,
            total=query.total_amount,
            now=clock(),
        )
    except InputError as refused:
        await query.answer(ok=False, error_message=tr(refused.code, **refused.params))
        return
    await query.answer(ok=True)


async def payment_received(
    message: Message,
    deposits: DepositService,
    bookings: BookingService,
    owner_notices: OwnerNotices,
    settings: Settings,
    clock: Clock,
) -> None:
    """successful_payment: the booking is confirmed; paid after the hold ran out, the owner
    is asked to refund (the payment is recorded either way)."""
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    now = clock()
    result = await deposits.paid(
        payload=payment.invoice_payload,
        telegram_id=message.from_user.id,
        currency=payment.currency,
        total=payment.total_amount,
        telegram_charge_id=payment.telegram_payment_charge_id,
        provider_charge_id=payment.provider_payment_charge_id,
        now=now,
    )
    when = when_label(result.starts_at, settings.zone, tr)
    amount = format_money(result.amount, result.currency)
    key = "dp-paid" if result.confirmed else "dp-paid-too-late"
    await message.answer(tr(key, service=result.service, when=when, amount=amount))
    booking = await bookings.get(result.booking_id)
    if booking is not None:
        if result.confirmed:
            await owner_notices.booking("confirmed", booking, now)
        else:
            await owner_notices.booking("cancelled", booking, now, refund=result.amount)
