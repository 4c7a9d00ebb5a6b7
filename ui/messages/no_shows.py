"""No-show history (issue 13): a customer's lost visits in a line, the eve's unconfirmed list."""

from __future__ import annotations

from services.no_shows import LostCounts, VisitCounts
from services.outbox_payloads import DepositReleased, OwnerUnconfirmed
from ui.i18n import Texts, trn_in
from ui.messages.base import RenderContext, Rendered, Renderers, renderer
from ui.messages.bookings import day_label, when_label


def lost_line(t: Texts, counts: LostCounts | None) -> str:
    """«⚠ 2 неявки, 1 поздняя отмена»; empty for a customer who lost none."""
    if counts is None or not counts.lost:
        return ""
    parts = []
    if counts.no_shows:
        parts.append(t.plural("ns-n-no-shows", counts.no_shows))
    if counts.late_cancels:
        parts.append(t.plural("ns-n-late-cancels", counts.late_cancels))
    return t("ns-history", parts=", ".join(parts))


def stats_line(t: Texts, visits: VisitCounts) -> str:
    """The share of booked visits lost in /stats; empty when nothing was booked."""
    if not visits.booked:
        return ""
    share = round(100 * visits.lost / visits.booked)
    return t(
        "ns-stats",
        lost=visits.lost,
        booked=t.plural("ns-n-bookings", visits.booked),
        share=share,
        no_shows=visits.no_shows,
        late=visits.late_cancels,
    )


def unconfirmed(payload: OwnerUnconfirmed, context: RenderContext) -> Rendered:
    lines = [
        context.t(
            "ns-unconfirmed-header",
            day=day_label(payload.times[0], context.zone, context.t) if payload.times else "",
            count=trn_in(context.i18n, context.language, "ns-n-bookings", len(payload.times)),
        )
    ]
    for at, customer, service in zip(
        payload.times, payload.customers, payload.services, strict=False
    ):
        lines.append(
            context.t(
                "ns-unconfirmed-line",
                time=f"{at.astimezone(context.zone):%H:%M}",
                service=service,
                customer=customer,
            )
        )
    lines.append(context.t("ns-unconfirmed-footer"))
    return Rendered(text="\n".join(lines))


def deposit_released(payload: DepositReleased, context: RenderContext) -> Rendered:
    when = when_label(payload.starts_at, context.zone, context.t)
    return Rendered(text=context.t("dp-released", service=payload.service, when=when))


RENDERERS: Renderers = dict(
    [renderer(OwnerUnconfirmed, unconfirmed), renderer(DepositReleased, deposit_released)]
)
