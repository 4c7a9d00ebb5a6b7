"""The Telegram Business scan (issue 11): a plain function of (database, zone, now).

1. Requests for a time the owner left unanswered for `business_delay_minutes` get the nearest
   free slots through the connection: at most once a client a day, only inside the sending
   window, only with the reply right and within Telegram's 24 hours of the client's message.
2. Once a day, from the opening of the sending window, each connected owner gets one digest:
   the people who wrote for the first time, and the customers whose cycle is due but whom the
   bot cannot write to, each with a ready text and a button to open their chat.
Both go through the outbox with dedup keys, so running the scan twice queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.business import (
    BOT_USERNAME_KEY,
    REPLY_WINDOW,
    Rights,
    book_link,
    owner_rebook_key,
)
from services.cycles import local_days, personal_cycle
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import (
    BusinessDigest,
    BusinessSlots,
    DigestPerson,
    DigestRebook,
)
from services.rebooking import due_window
from services.schedule import nearest_slots
from services.shop import ShopProfile, profile_from
from storage.business import BusinessRepository
from storage.database import Database
from storage.models import BusinessChat, Customer

# One digest stays under Telegram's 4096 characters: up to 15 names (≤ 100 characters each)
# and 8 ready texts (about 300 each). The rest wait for the next day's digest.
DIGEST_NEW_MAX = 15
DIGEST_REBOOK_MAX = 8
SLOTS_SHOWN = 4


async def business_scan(db: Database, zone: ZoneInfo, now: datetime) -> int:
    async with db.reading() as repos:
        values = await repos.settings.all()
    profile = profile_from(values)
    link = book_link(values.get(BOT_USERNAME_KEY))
    queued = await answer_requests(db, zone, now, profile, link)
    return queued + await queue_digests(db, zone, now, profile, link)


async def answer_requests(
    db: Database, zone: ZoneInfo, now: datetime, profile: ShopProfile, link: str
) -> int:
    if not profile.business_slots or not profile.in_window(now, zone):
        return 0  # a request made outside the window waits for its opening
    today = now.astimezone(zone).date().isoformat()
    cutoff = now - _minutes(profile.business_delay_minutes)
    async with db.reading() as repos:
        waiting = await BusinessRepository(repos.session).waiting_requests(cutoff)
    queued = 0
    for request in waiting:
        async with db.transaction() as repos:
            business = BusinessRepository(repos.session)
            chat = await business.chat(request.chat_id)
            if chat is None or chat.request_at is None:
                continue
            chat.request_at = None  # answered now, or not at all
            connection = await business.connection(chat.connection_id)
            if connection is None or not connection.is_enabled:
                continue
            if not Rights.from_json(connection.rights).can_reply:
                continue  # nothing goes out on the owner's behalf without the reply right
            if chat.slots_sent_on == today:
                continue  # once a client a day
            if chat.last_in_at is None or now - chat.last_in_at >= REPLY_WINDOW:
                continue  # Telegram refuses answers after 24 hours
            customer = await repos.customers.get(chat.customer_id)
            service_id = await business.last_service(chat.customer_id)
            if service_id is None:
                active = await repos.catalogue.active()
                service_id = active[0].id if active else None
            service = await repos.catalogue.get(service_id) if service_id is not None else None
        if service is None or customer is None:
            continue
        slots = await nearest_slots(db, service_id=service.id, around=now, now=now, zone=zone)
        if not slots:
            continue  # nothing to offer: the owner answers in person
        payload = BusinessSlots(
            connection_id=connection.id,
            service=service.name,
            link=link,
            slots=tuple(slots[:SLOTS_SHOWN]),
            name=customer.name or "",
        )
        async with db.transaction() as repos:
            chat = await BusinessRepository(repos.session).chat(request.chat_id)
            if chat is None:
                continue
            chat.slots_sent_on = today
            key = f"bslots:{chat.chat_id}:{today}"
            message = Outgoing(key, chat.chat_id, chat.customer_id, now, payload)
            if await enqueue(repos, message, now) is not None:
                queued += 1
    return queued


async def queue_digests(
    db: Database, zone: ZoneInfo, now: datetime, profile: ShopProfile, link: str
) -> int:
    local = now.astimezone(zone)
    if local.time() < profile.window_start:
        return 0  # one digest a day, from the morning
    today = local.date()
    async with db.reading() as repos:
        business = BusinessRepository(repos.session)
        connections = await business.enabled_connections()
        if not connections:
            return 0
        owners = sorted({c.user_chat_id for c in connections})
        if all([await repos.outbox.exists(_digest_key(o, today)) for o in owners]):
            return 0
        new = await business.unlisted(DIGEST_NEW_MAX)
        candidates = await business.unreachable_with_chat()
    rebook = await _due_by_hand(db, zone, now, today, candidates, link)
    people = tuple(
        DigestPerson(customer.id, customer.name or "", customer.username) for _, customer in new
    )
    if not people and not rebook:
        return 0
    queued = 0
    async with db.transaction() as repos:
        business = BusinessRepository(repos.session)
        for chat, _ in new:
            row = await business.chat(chat.chat_id)
            if row is not None:
                row.listed_at = now
        for owner in owners:
            payload = BusinessDigest(new=people, rebook=rebook)
            message = Outgoing(_digest_key(owner, today), owner, None, now, payload)
            if await enqueue(repos, message, now) is not None:
                queued += 1
    return queued


def _digest_key(owner_chat_id: int, day: date) -> str:
    return f"bdigest:{owner_chat_id}:{day.isoformat()}"


async def _due_by_hand(
    db: Database,
    zone: ZoneInfo,
    now: datetime,
    today: date,
    candidates: Sequence[tuple[BusinessChat, Customer]],
    link: str,
) -> tuple[DigestRebook, ...]:
    """Customers only the owner can remind: cycle due (the rebooking reminder's window), no
    future booking, not marked done for this due date."""
    by_customer = {customer.id: (chat, customer) for chat, customer in candidates}
    async with db.reading() as repos:
        profile = profile_from(await repos.settings.all())
        rows = await BusinessRepository(repos.session).cycles_of(list(by_customer))
    out: list[DigestRebook] = []
    for row in rows:
        if len(out) >= DIGEST_REBOOK_MAX:
            break
        cycle = row.cycle_days
        if row.purchases >= 3:
            async with db.reading() as repos:
                times = await repos.retention.purchase_times(row.customer_id, row.service_id)
            cycle = personal_cycle(local_days(times, zone), row.cycle_days)
        first, due, last = due_window(row.last_at.astimezone(zone).date(), cycle, profile.lead_days)
        if not first <= today <= last:
            continue
        async with db.reading() as repos:
            if await repos.outbox.exists(owner_rebook_key(row.customer_id, row.service_id, due)):
                continue
            if await repos.retention.has_future_booking(row.customer_id, now):
                continue
        chat, customer = by_customer[row.customer_id]
        around = datetime.combine(max(due, today), time(12, 0), tzinfo=zone)
        slots = await nearest_slots(
            db, service_id=row.service_id, around=around, now=now, zone=zone
        )
        out.append(
            DigestRebook(
                customer_id=customer.id,
                chat_id=chat.chat_id,
                service_id=row.service_id,
                service=row.service_name,
                due=due,
                link=link,
                name=customer.name or "",
                username=customer.username,
                slots=tuple(slots[:SLOTS_SHOWN]),
            )
        )
    return tuple(out)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
