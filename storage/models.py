"""SQLAlchemy models: the tables of the foundation. Later features add theirs by migration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    # SQLite's lower() folds ASCII only, so a casefolded copy makes Cyrillic names searchable.
    search_name: Mapped[str | None] = mapped_column(String(100), index=True)
    username: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Many clients share day and month but not the year, so the year is optional.
    birth_day: Mapped[int | None] = mapped_column(Integer)
    birth_month: Mapped[int | None] = mapped_column(Integer)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birthday_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "customer" | "owner" (/birthday, an import): only a customer's own entry waits 30 days.
    birthday_set_by: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[bool | None] = mapped_column(Boolean)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the person blocked the bot (403 or my_chat_member "kicked"); cleared on unblock.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Growth: the personal code in t.me/<bot>?start=<code>, who brought them, channel joins.
    referral_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    joined_channel_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # /forget: personal data erased; the row stays so purchases count, anonymised.
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Service(Base):
    """An entry of the shop's catalogue (a manicure, a haircut, a coffee)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)  # minor units
    cycle_days: Mapped[int | None] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # issue 13: a deposit to book it: an amount (minor units) or a share of the price
    deposit_amount: Mapped[int | None] = mapped_column(BigInteger)
    deposit_percent: Mapped[int | None] = mapped_column(Integer)


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        Index("ix_purchases_customer_time", "customer_id", "purchased_at", "id"),
        Index("ix_purchases_customer_time_amount", "customer_id", "purchased_at", "amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Before a promo code or points: amount is what was paid.
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ShopSetting(Base):
    """Business knobs the owner edits in chat (currency, margin …), as text by key."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


# --- retention: outbox, bookings, schedule, promo codes, ratings ---------------------------


class OutboxMessage(Base):
    """One logical message to one chat. The dedup key makes every scan idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # What to say, as data (JSON); the bot renders it per `kind` in the reader's language
    # when it sends, so services decide who and when without formatting text.
    payload: Mapped[str] = mapped_column(Text)
    # pending → sending → sent | blocked | failed; a crash leaves "sending" → uncertain
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who holds the claim (an instance id: host-pid-random) and until when; the holder renews
    # the lease while it sends. A `sending` row whose lease ran out lost its holder: uncertain.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was first tried (set on its first retry): the give-up age counts from here.
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # What the person did with it: booked | declined | rated …; campaign results read this.
    reaction: Mapped[str | None] = mapped_column(String(16))
    reacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # booked | done | no_show | cancelled
    status: Mapped[str] = mapped_column(String(16), default="booked")
    source: Mapped[str] = mapped_column(String(16))  # rebook | book | owner
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # issue 13: when it was cancelled, and whether that came after the shop's cut-off (the
    # knob at that moment: changing the knob later does not rewrite history).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_cancel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BookingCell(Base):
    """The master's time in 15-minute cells; a unique start makes double booking impossible.

    A booking inserts one row per cell it covers in the same transaction as itself, so two
    people tapping overlapping slots race on this constraint, not on a read-then-write.
    """

    __tablename__ = "booking_cells"

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )


class TimeBlock(Base):
    """Time the master is not available (a day off, a dentist appointment)."""

    __tablename__ = "time_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PromoCode(Base):
    __tablename__ = "promo_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # birthday
    percent: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CrossSell(Base):
    """The owner's own suggestion: after `service_id`, offer `suggested_id`."""

    __tablename__ = "cross_sells"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    suggested_id: Mapped[int] = mapped_column(ForeignKey("services.id"))


# --- growth: channel links, loyalty points, referrals, campaigns, channel posts ------------


class InviteLink(Base):
    """A tracked invite link to the shop's channel: one per source (an ad, a blogger)."""

    __tablename__ = "invite_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)  # the source name
    url: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointsEntry(Base):
    """The loyalty ledger: every change of a balance, with its reason; the balance is the sum."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    delta: Mapped[int] = mapped_column(BigInteger)  # points are minor units of the currency
    reason: Mapped[str] = mapped_column(String(16))  # cashback | redeem | referral | adjust
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    # A referral bonus names the friend; the unique key makes the bonus impossible to pay twice.
    referral_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A promo the owner sent to a segment; its messages are outbox rows with its id."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(255))  # a Telegram file_id
    segment: Mapped[str] = mapped_column(Text)  # JSON: {"kind": ..., "value": ...}
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_language: Mapped[str | None] = mapped_column(String(8))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelPost(Base):
    """A post for the shop's channel, now or at a time; kept here so restarts lose nothing."""

    __tablename__ = "channel_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(255))
    with_button: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- idempotency: buttons that act once (migration 0005) ------------------------------------


class OnceClaim(Base):
    """A button press that was acted on: its chat, message and callback data.

    The primary key is the whole claim, so of two presses of one button (a double tap, two
    processes) the database lets exactly one insert through; the other is "already done".
    """

    __tablename__ = "once_claims"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[str] = mapped_column(String(64), primary_key=True)  # Telegram: ≤ 64 bytes
    # Old claims can be pruned: a button weeks old is stale anyway.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- inbox: what customers wrote to the shop and what the owner answered -------------------


class InboxMessage(Base):
    """A customer's message to the shop ("in") or the owner's answer to it ("out").

    The unique (chat, message) pair makes handling a redelivered update a no-op.
    """

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "telegram_message_id"),
        Index("ix_inbox_messages_open", "direction", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    chat_id: Mapped[int] = mapped_column(BigInteger)  # where it was written
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[str] = mapped_column(String(16))  # text | photo | voice | … | other
    text: Mapped[str | None] = mapped_column(Text)  # the text or the caption
    # The bot's message it answers: a Telegram reply to it, or the latest one before it.
    about_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "in" rows: when the owner answered the conversation; NULL while it waits.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- issue 11: Telegram Business (the owner's own chats) ------------------------------------


class BusinessConnection(Base):
    """The owner's Telegram account connected to the bot (Telegram Business → Chatbots).

    Only connections made by an account in OWNER_IDS are kept; `rights` is the JSON of the
    BusinessBotRights fields that are true (Bot API 9.0), so the features can check them.
    """

    __tablename__ = "business_connections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # business_connection_id
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the owner's account
    user_chat_id: Mapped[int] = mapped_column(BigInteger)  # the owner's chat with the bot
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    rights: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BusinessChat(Base):
    """One client's private chat with the owner, as seen through a connection.

    Only who and when: never the words. `last_in_at` is the client's latest message (the
    24-hour window for answering through the connection), `request_at` a message that asked
    for a time and waits for the owner's answer, `slots_sent_on` the local day the bot last
    answered one with free slots (once a day per client).
    """

    __tablename__ = "business_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    connection_id: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_owner_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slots_sent_on: Mapped[str | None] = mapped_column(String(10))
    # Set when the owner's daily digest named this person as new (NULL: not yet).
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- issue 13: the waitlist for freed time ----------------------------------------------------


class WaitlistEntry(Base):
    """A customer waiting for a service on one of a range of shop-local days.

    Offers of freed time are outbox rows keyed `waitoffer:<slot minutes>:<entry id>`, so one
    slot is offered to each entry once, and the offers of a slot that got taken can be withdrawn.
    """

    __tablename__ = "waitlist"
    __table_args__ = (Index("ix_waitlist_open", "status", "last_day", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | booked | left
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- issue 13: deposits ---------------------------------------------------------------------


class Deposit(Base):
    """A deposit asked for one booking: the slot is held until `hold_until`, then released.

    held → paid (successful_payment) → used (the sale at the counter deducts it)
                                      → refund_asked (cancelled in time: the owner refunds it
                                        in the provider's cabinet) | kept (late / no-show)
    held → released (not paid in time: the booking is cancelled, its time offered to the waitlist)
    """

    __tablename__ = "deposits"
    __table_args__ = (Index("ix_deposits_held", "status", "hold_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    hold_until: Mapped[datetime] = mapped_column(UTCDateTime)
    telegram_charge_id: Mapped[str | None] = mapped_column(String(255))
    provider_charge_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # used, refund asked, released
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
