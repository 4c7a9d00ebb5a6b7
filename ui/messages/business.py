"""Renderers of Telegram Business messages (issue 11): the free slots sent on the owner's
behalf, and the owner's daily digest with its buttons."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.outbox_payloads import BusinessDigest, BusinessSlots, DigestRebook, OwnerRebook
from ui.callbacks import BusinessCard, BusinessRebookDone
from ui.i18n import trn_in
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.messages.bookings import when_label


def slots(payload: BusinessSlots, context: RenderContext) -> Rendered:
    """In the owner's chat, as the owner: the nearest free times and how to book them."""
    times = "\n".join(when_label(slot, context.zone, context.t) for slot in payload.slots)
    key = "biz-slots-text" if payload.link else "biz-slots-text-nolink"
    text = context.t(key, service=payload.service, times=times, link=payload.link)
    return Rendered(text=text, business_connection_id=payload.connection_id)


def ready_text(item: DigestRebook, context: RenderContext) -> str:
    """What the owner can send the customer as it is."""
    times = ", ".join(when_label(slot, context.zone, context.t) for slot in item.slots)
    key = "biz-rebook-ready" if times else "biz-rebook-ready-noslots"
    hello = (
        context.t("biz-rebook-hello-name", name=item.name)
        if item.name
        else context.t("biz-rebook-hello")
    )
    text = context.t(key, hello=hello, service=item.service, times=times)
    if item.link:
        text += " " + context.t("biz-rebook-ready-link", link=item.link)
    return text


def digest(payload: BusinessDigest, context: RenderContext) -> Rendered:
    parts: list[str] = []
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    if payload.new:
        names = "\n".join(
            "• " + (p.name or "—") + (f" @{p.username}" if p.username else "") for p in payload.new
        )
        parts.append(
            trn_in(context.i18n, context.language, "biz-digest-new", len(payload.new))
            + "\n"
            + names
        )
        for person in payload.new:
            builder.button(
                text=context.t("biz-button-card", name=person.name or "—"),
                callback_data=BusinessCard(customer_id=person.customer_id),
            )
            sizes.append(1)
    if payload.rebook:
        lines = [trn_in(context.i18n, context.language, "biz-digest-rebook", len(payload.rebook))]
        for number, item in enumerate(payload.rebook, start=1):
            header = context.t("biz-digest-rebook-item", number=number, name=item.name or "—")
            if not item.username:
                # A tg://user?id= button fails the whole message when the client's privacy
                # settings forbid it (BUTTON_USER_PRIVACY_RESTRICTED): the owner finds the chat.
                header += " " + context.t("biz-digest-find-chat")
            lines.append(header + "\n" + ready_text(item, context))
            if item.username:
                builder.button(
                    text=context.t("biz-button-open-chat", number=number),
                    url=f"https://t.me/{item.username}",
                )
            builder.button(
                text=context.t("biz-button-done", number=number),
                callback_data=BusinessRebookDone(
                    customer_id=item.customer_id,
                    service_id=item.service_id,
                    due=item.due.toordinal(),
                ),
            )
            sizes.append(2 if item.username else 1)
        parts.append("\n\n".join(lines))
    builder.adjust(*sizes)
    return Rendered(text="\n\n".join(parts), markup=builder.as_markup() if sizes else None)


def owner_rebook(payload: OwnerRebook, context: RenderContext) -> Rendered:
    """Never sent (the owner sent it by hand); rendered only if someone asks."""
    return Rendered(text=payload.service)


RENDERERS: Renderers = dict(
    [
        renderer(BusinessSlots, slots),
        renderer(BusinessDigest, digest),
        renderer(OwnerRebook, owner_rebook),
    ]
)
