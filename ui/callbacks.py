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
    """Book `service_id` at `at` (services/slot_time.py minutes); `ref` is the outbox id or 0."""

    service_id: int
    at: int
    ref: int = 0


class BookOther(CallbackData, prefix="bko"):
    """ "Another time": open the booking flow for this service."""

    service_id: int
    ref: int = 0


class RebookDecline(CallbackData, prefix="rbn"):
    """ "Not now" on a rebooking reminder: no follow-up until the next purchase."""

    ref: int


class RateVisit(CallbackData, prefix="rate"):
    purchase_id: int
    stars: int


class SettingEdit(CallbackData, prefix="o-set"):
    key: str


OWNER_CALLBACKS += (SettingEdit,)


# --- bookings (customers) -------------------------------------------------------------------


class BookDay(CallbackData, prefix="bkd"):
    """A day of the booking flow: `day` is date.toordinal(); `move` a booking id being moved."""

    service_id: int
    day: int
    ref: int = 0
    move: int = 0


class BookMove(CallbackData, prefix="bkm"):
    """Move booking `booking_id` to `at` (services/slot_time.py minutes)."""

    booking_id: int
    at: int


class BookingAction(CallbackData, prefix="bka"):
    booking_id: int
    action: str  # confirm | move | cancel


# --- bookings and schedule (owner) ----------------------------------------------------------


class OwnerBookingDone(CallbackData, prefix="o-bkdone"):
    booking_id: int


class OwnerBookingNoShow(CallbackData, prefix="o-bkns"):
    booking_id: int


class OwnerSaleAmount(CallbackData, prefix="o-bkamt"):
    """The "Change amount" button under the receipt of a booking marked done."""

    purchase_id: int


class OwnerHoursDay(CallbackData, prefix="o-hrs"):
    weekday: int  # Monday = 0


class OwnerDayView(CallbackData, prefix="o-bkday"):
    day: int  # date.toordinal()


OWNER_CALLBACKS += (
    OwnerBookingDone,
    OwnerBookingNoShow,
    OwnerSaleAmount,
    OwnerHoursDay,
    OwnerDayView,
)


class SaleApplyCode(CallbackData, prefix="o-code"):
    code: str  # "" for "no code"


OWNER_CALLBACKS += (SaleApplyCode,)


# --- owner analytics ------------------------------------------------------------------------


class StatsView(CallbackData, prefix="o-stv"):
    view: str  # abc | cohorts | predicted | risk | campaigns


class WinbackSend(CallbackData, prefix="o-wb"):
    customer_id: int


OWNER_CALLBACKS += (StatsView, WinbackSend)


class ForgetConfirm(CallbackData, prefix="fgt"):
    sure: bool


class PromoSegment(CallbackData, prefix="o-pseg"):
    kind: str
    value: str = ""


class PromoConfirm(CallbackData, prefix="o-pgo"):
    send: bool


class PostButton(CallbackData, prefix="o-pbtn"):
    with_button: bool


class PostNow(CallbackData, prefix="o-pnow"):
    pass


class PostCancel(CallbackData, prefix="o-pcan"):
    post_id: int


OWNER_CALLBACKS += (PromoSegment, PromoConfirm, PostButton, PostNow, PostCancel)


class SalePoints(CallbackData, prefix="o-pts"):
    points: int


OWNER_CALLBACKS += (SalePoints,)


class SaleRepeatConfirm(CallbackData, prefix="o-srep"):
    """Log a sale although the same one was logged minutes ago (Yes), or drop it (No)."""

    confirmed: bool


OWNER_CALLBACKS += (SaleRepeatConfirm,)


class SaleFreeVisitConfirm(CallbackData, prefix="o-sfree"):
    """Log a one-line sale of 0 as a free visit (Yes), or drop it (No)."""

    confirmed: bool


OWNER_CALLBACKS += (SaleFreeVisitConfirm,)


class SaleAddCustomer(CallbackData, prefix="o-sadd"):
    """Add the customer a one-line sale named (an unknown phone or name) and log the sale."""


OWNER_CALLBACKS += (SaleAddCustomer,)


# --- inbox and promises kept ----------------------------------------------------------------


class InboxAnswer(CallbackData, prefix="o-inb"):
    """ "Answer" under a customer's message copied to the owner."""

    customer_id: int


class BirthdayGrant(CallbackData, prefix="o-bdg"):
    """Give the birthday gift although the birthday was entered too close to the day."""

    customer_id: int


OWNER_CALLBACKS += (InboxAnswer, BirthdayGrant)


class ResumeOffers(CallbackData, prefix="pvr"):
    """ "Send me offers again" after /stop."""


# --- issue 11: Telegram Business ------------------------------------------------------------


class BusinessCard(CallbackData, prefix="o-bzc"):
    """The digest's "open the card" button."""

    customer_id: int


class BusinessRebookDone(CallbackData, prefix="o-bzd"):
    """The digest's "done": the owner sent the ready text from their own account."""

    customer_id: int
    service_id: int
    due: int  # date.toordinal()


OWNER_CALLBACKS += (BusinessCard, BusinessRebookDone)


# --- issue 13: the waitlist ------------------------------------------------------------------


class WaitAsk(CallbackData, prefix="wla"):
    """ "Tell me when time frees up" under the days of a service: asks which days."""

    service_id: int


class WaitJoin(CallbackData, prefix="wlj"):
    service_id: int
    days: int  # the next N days (services.waitlist.JOIN_DAYS)


class WaitTake(CallbackData, prefix="wlt"):
    """An offer's one tap: book the freed slot for the entry's service."""

    entry_id: int
    at: int  # services.slot_time minutes
    ref: int = 0  # the offer's outbox row


class WaitLeave(CallbackData, prefix="wll"):
    entry_id: int


class OwnerWaitDay(CallbackData, prefix="o-wld"):
    day: int  # date.toordinal()


OWNER_CALLBACKS += (OwnerWaitDay,)
