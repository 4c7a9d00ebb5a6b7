"""What each outbox message carries: one frozen dataclass per kind.

The service that queues a message builds one of these; the renderer (ui/messages/*.py) receives
the same class back, so both sides agree on the fields and mypy checks them. The kind stored
in the row is the class's `kind`, so a kind cannot be paired with the wrong data.

`to_json` and `from_json` are the only (de)serialisation of payloads. The JSON keys are the
field names, as they were when payloads were plain dicts, so rows already queued still load:
a key an older row lacks takes the field's default, a key we no longer use is ignored.
Dates and times are ISO 8601 strings; the slots a reminder offers are minutes since the epoch
(services/slot_time.py), the encoding the booking buttons carry.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from services.slot_time import slot_minutes, slot_start


class PayloadError(ValueError):
    """A row whose JSON does not fit its kind."""


class UnknownKind(PayloadError):
    """A row of a kind no payload class claims."""


_SLOT = "slot-minutes"  # marks a datetime kept as services.slot_time minutes
SlotTime = Annotated[datetime, _SLOT]


@dataclass(frozen=True, slots=True)
class Payload:
    """The base of every payload; `kind` names the row's kind (and its renderer)."""

    kind: ClassVar[str] = ""
    # True: fields that are None are left out of the JSON (a payload with alternative shapes).
    sparse: ClassVar[bool] = False


# --- kinds every feature may use ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text(Payload):
    """A ready text (tests, the owner's own words)."""

    kind: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True, slots=True)
class Photo(Payload):
    """A promo picture from the owner: a file_id or URL, and its caption."""

    kind: ClassVar[str] = "photo"
    photo: str
    text: str = ""


# --- retention -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rebook(Payload):
    """The rebooking reminder: the nearest free slots of the service, as buttons."""

    kind: ClassVar[str] = "rebook"
    service_id: int
    service: str
    name: str = ""
    due: date | None = None
    slots: tuple[SlotTime, ...] = ()


@dataclass(frozen=True, slots=True)
class RebookFollowup(Rebook):
    """The one nudge after a reminder nobody reacted to; the reminder's data, fresh slots."""

    kind: ClassVar[str] = "rebook_followup"


@dataclass(frozen=True, slots=True)
class Birthday(Payload):
    kind: ClassVar[str] = "birthday"
    code: str
    percent: int
    valid_until: date
    name: str = ""


@dataclass(frozen=True, slots=True)
class Thanks(Payload):
    """After a sale: the customer's totals and, if they agreed to offers, one suggestion."""

    kind: ClassVar[str] = "thanks"
    amount: int
    visits: int
    total: int
    name: str = ""
    suggestion: str | None = None
    points: int = 0


@dataclass(frozen=True, slots=True)
class Feedback(Payload):
    """The rating question after a visit."""

    kind: ClassVar[str] = "feedback"
    purchase_id: int
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Winback(Payload):
    kind: ClassVar[str] = "winback"
    name: str = ""


# --- bookings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingReminder(Payload):
    """The day before a booking: its time, with confirm / move / cancel."""

    kind: ClassVar[str] = "booking_reminder"
    booking_id: int
    service: str
    starts_at: datetime


# --- growth --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Promo(Payload):
    """A campaign's message: text, a photo with a caption, or both."""

    kind: ClassVar[str] = "promo"
    text: str = ""
    photo: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelPost(Payload):
    kind: ClassVar[str] = "channel_post"
    text: str = ""
    photo: str | None = None
    button_url: str | None = None


@dataclass(frozen=True, slots=True)
class ReferralBonus(Payload):
    """To the referrer: a friend's first purchase earned them points."""

    kind: ClassVar[str] = "referral_bonus"
    points: int
    balance: int
    friend: str = ""
    referrer: str = ""


@dataclass(frozen=True, slots=True)
class ReferralFriend(ReferralBonus):
    """To the friend: the same event, told from their side."""

    kind: ClassVar[str] = "referral_friend"


# --- inbox ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class About:
    """The bot's message a customer answered, kept as it was queued (rendered for the quote)."""

    kind: str
    payload: dict[str, Any]
    outbox_id: int = 0
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxOwnerCopy(Payload):
    """To an owner: who wrote, what it answers, the words (or what kind of file follows)."""

    kind: ClassVar[str] = "inbox_owner"
    customer_id: int
    inbox_id: int = 0
    customer: str = ""
    language: str | None = None
    content: str = "text"
    text: str | None = None
    about: About | None = None
    quote: str | None = None  # the words replied to when they were no outbox message


@dataclass(frozen=True, slots=True)
class InboxMedia(Payload):
    """To an owner: the customer's photo or voice message, copied as it is."""

    kind: ClassVar[str] = "inbox_media"
    customer_id: int
    from_chat_id: int
    message_id: int
    inbox_id: int = 0


@dataclass(frozen=True, slots=True)
class InboxAnswer(Payload):
    """To the customer: the owner's words, or the owner's message copied (chat and id)."""

    kind: ClassVar[str] = "inbox_answer"
    sparse: ClassVar[bool] = True
    text: str | None = None
    from_chat_id: int | None = None
    message_id: int | None = None


# --- notices to owners ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerNewCustomer(Payload):
    """Who registered; `birthday_late`: the gift is offered to the owner as a button."""

    kind: ClassVar[str] = "owner_new_customer"
    customer_id: int
    customer: str
    source: str | None = None
    consent: bool = False
    birthday: str | None = None  # as the customer sees it: 05.03 or 05.03.1990
    birthday_late: bool = False


@dataclass(frozen=True, slots=True)
class OwnerBooking(Payload):
    """A booking made, moved, confirmed or cancelled; `was`: the old time of a moved one."""

    kind: ClassVar[str] = "owner_booking"
    customer_id: int
    booking_id: int
    action: str  # services.owner_notices.BOOKING_ACTIONS
    customer: str
    service: str
    starts_at: datetime
    was: datetime | None = None
    refund: int = 0  # issue 13: a paid deposit the owner is asked to refund (minor units)


@dataclass(frozen=True, slots=True)
class OwnerLowRating(Payload):
    """A low rating; `comment` None until the customer's words come."""

    kind: ClassVar[str] = "owner_low_rating"
    customer_id: int
    purchase_id: int
    stars: int
    customer: str
    comment: str | None = None


# --- issue 11: Telegram Business ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BusinessSlots(Payload):
    """A client asked the owner for a time and the owner did not answer: the nearest free
    slots, sent in the owner's chat through the connection (not by the bot itself)."""

    kind: ClassVar[str] = "business_slots"
    connection_id: str
    service: str
    link: str  # t.me/<bot>?start=... to book in the bot
    slots: tuple[SlotTime, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class DigestPerson:
    """Somebody who wrote to the owner for the first time."""

    customer_id: int
    name: str = ""
    username: str | None = None


@dataclass(frozen=True, slots=True)
class DigestRebook:
    """A customer whose cycle is due and whom only the owner can write to."""

    customer_id: int
    chat_id: int
    service_id: int
    service: str
    due: date
    link: str
    name: str = ""
    username: str | None = None
    slots: tuple[SlotTime, ...] = ()


@dataclass(frozen=True, slots=True)
class BusinessDigest(Payload):
    """The owner's daily digest: new people who wrote, and customers to remind by hand."""

    kind: ClassVar[str] = "business_digest"
    new: tuple[DigestPerson, ...] = ()
    rebook: tuple[DigestRebook, ...] = ()


@dataclass(frozen=True, slots=True)
class OwnerRebook(Payload):
    """A reminder the owner sent by hand from the digest ("done"): kept as a sent row so the
    campaign results count it, and what follows it, like the bot's own reminders."""

    kind: ClassVar[str] = "owner_rebook"
    service_id: int
    service: str
    due: date | None = None


# --- issue 12: the owner changed a customer's booking in the Mini App --------------------------


@dataclass(frozen=True, slots=True)
class BookingChanged(Payload):
    """To the customer: the shop moved (`was` is the old time) or cancelled their booking."""

    kind: ClassVar[str] = "booking_changed"
    booking_id: int
    action: str  # moved | cancelled
    service: str
    starts_at: datetime
    was: datetime | None = None


KINDS: dict[str, type[Payload]] = {
    cls.kind: cls
    for cls in (
        Text,
        Photo,
        Rebook,
        RebookFollowup,
        Birthday,
        Thanks,
        Feedback,
        Winback,
        BookingReminder,
        Promo,
        ChannelPost,
        ReferralBonus,
        ReferralFriend,
        InboxOwnerCopy,
        InboxMedia,
        InboxAnswer,
        OwnerNewCustomer,
        OwnerBooking,
        OwnerLowRating,
        # issue 11
        BusinessSlots,
        BusinessDigest,
        OwnerRebook,
        BookingChanged,  # issue 12
    )
}

# --- issue 13: no-shows and the waitlist ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerUnconfirmed(Payload):
    """To an owner, on the eve: the next day's bookings nobody confirmed, in one message."""

    kind: ClassVar[str] = "owner_unconfirmed"
    day: date
    times: tuple[datetime, ...] = ()
    customers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    booking_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class WaitlistOffer(Payload):
    """Freed time offered to a customer on the waitlist: one tap books it."""

    kind: ClassVar[str] = "waitlist_offer"
    entry_id: int
    service_id: int
    service: str
    at: SlotTime


@dataclass(frozen=True, slots=True)
class DepositReleased(Payload):
    """The deposit was not paid in time: the held slot was released."""

    kind: ClassVar[str] = "deposit_released"
    service: str
    starts_at: datetime


KINDS.update({cls.kind: cls for cls in (OwnerUnconfirmed, WaitlistOffer, DepositReleased)})

P = TypeVar("P", bound=Payload)


def to_json(payload: Payload) -> str:
    """The row's JSON: sorted keys, non-ASCII kept (names read as written in the database)."""
    return json.dumps(_fields_out(payload), ensure_ascii=False, sort_keys=True)


def from_json(kind: str, text: str) -> Payload:
    """The payload of a row of this kind; PayloadError for an unknown kind or unfit JSON."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PayloadError(f"{kind}: not JSON: {exc}") from None
    return decode(kind, data)


def decode(kind: str, data: object) -> Payload:
    """The payload of this kind from its JSON object, already parsed (a quoted message)."""
    cls = KINDS.get(kind)
    if cls is None:
        raise UnknownKind(kind)
    return from_dict(cls, data)


def load(cls: type[P], text: str) -> P:
    """A row's payload when the caller knows its class (a reminder read back for its follow-up)."""
    payload = from_json(cls.kind, text)
    if not isinstance(payload, cls):
        raise PayloadError(f"{cls.kind}: decoded as {type(payload).__name__}")
    return payload


def from_dict(cls: type[P], data: object) -> P:
    """A payload from its JSON object (decoded already)."""
    result: P = _from_dict(cls, data, cls.kind)
    return result


def _from_dict(cls: type[Any], data: object, label: str) -> Any:
    if not isinstance(data, dict):
        raise PayloadError(f"{label}: a JSON object was expected")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue  # an older row: the field's default (a required one fails just below)
        try:
            values[f.name] = _decode(hints[f.name], data[f.name])
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"{label}.{f.name}: {exc}") from None
    try:
        return cls(**values)
    except TypeError as exc:  # a required key missing (a scrubbed "{}" row)
        raise PayloadError(f"{label}: {exc}") from None


def _fields_out(obj: Any) -> dict[str, Any]:
    hints = _hints(type(obj))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None and getattr(obj, "sparse", False):
            continue
        out[f.name] = _encode(hints[f.name], value)
    return out


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls, include_extras=True)
    return hints


def _encode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if get_origin(hint) is Annotated:
        return slot_minutes(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        (item, _) = get_args(hint)
        return [_encode(item, v) for v in value]
    if dataclasses.is_dataclass(value):
        return _fields_out(value)
    return value


# Scalars as JSON holds them; a date also reads from a datetime's ISO text.
_SCALARS: dict[Any, Callable[[Any], Any]] = {
    datetime: lambda raw: datetime.fromisoformat(str(raw)),
    date: lambda raw: date.fromisoformat(str(raw)[:10]),
    bool: bool,
    int: int,
    str: lambda raw: "" if raw is None else str(raw),
}


def _decode(hint: Any, raw: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return None if raw is None else _decode(inner, raw)
    if origin is Annotated:  # SlotTime
        return slot_start(int(raw))
    if origin is tuple:
        (item, _) = get_args(hint)
        return tuple(_decode(item, v) for v in raw)
    if origin is dict:
        if not isinstance(raw, dict):
            raise TypeError("a JSON object was expected")
        return dict(raw)
    if hint in _SCALARS:
        return _SCALARS[hint](raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _from_dict(hint, raw, hint.__name__)
    raise TypeError(f"no decoding for {hint!r}")
