"""Every inline button's payload, in one place (Telegram allows 64 bytes of callback data)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# --- customers -------------------------------------------------------------------------


class ConsentChoice(CallbackData, prefix="cons"):
    agree: bool


# --- owner (all prefixes start with "o", which the refusal router relies on) -------------


class SalePickCustomer(CallbackData, prefix="o-sc"):
    customer_id: int


class SalePickService(CallbackData, prefix="o-ss"):
    service_id: int  # 0: a sale without a catalogue service


class SalePickAmount(CallbackData, prefix="o-sa"):
    amount: int


class SalePickDay(CallbackData, prefix="o-sd"):
    days_ago: int


class SaleDelete(CallbackData, prefix="o-del"):
    purchase_id: int


class SaleDeleteConfirm(CallbackData, prefix="o-delok"):
    purchase_id: int
    confirmed: bool


class ServiceOpen(CallbackData, prefix="o-svo"):
    service_id: int


class ServiceNew(CallbackData, prefix="o-svn"):
    pass


class ServiceEdit(CallbackData, prefix="o-sve"):
    service_id: int
    field: str  # price | cycle_days | duration_minutes


class ServiceArchive(CallbackData, prefix="o-sva"):
    service_id: int
    archived: bool


OWNER_CALLBACKS: tuple[type[CallbackData], ...] = (
    SalePickCustomer,
    SalePickService,
    SalePickAmount,
    SalePickDay,
    SaleDelete,
    SaleDeleteConfirm,
    ServiceOpen,
    ServiceNew,
    ServiceEdit,
    ServiceArchive,
)
OWNER_PREFIX = "o-"


# --- retention (customers tap these in reminders; not owner buttons) ----------------------


class BookSlot(CallbackData, prefix="bk"):
    """Book `service_id` at `at` (UTC, minutes since the epoch); `ref` is the outbox id or 0."""

    service_id: int
    at: int
    ref: int = 0


class BookOther(CallbackData, prefix="bko"):
    """"Another time": open the booking flow for this service."""

    service_id: int
    ref: int = 0


class RebookDecline(CallbackData, prefix="rbn"):
    """"Not now" on a rebooking reminder: no follow-up until the next purchase."""

    ref: int
