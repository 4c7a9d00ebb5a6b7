"""The Mini App's JSON API under /app/api: thin handlers that read the request, call a service
and shape its answer (bot/webapp/views.py). No SQL here; the rules live in services/.

Each route declares who may call it: anyone with valid launch data (`me`), owners only, or
customers only. A customer reaches only their own bookings: someone else's id answers 404,
like an id that does not exist, so ids do not leak. Errors a person can cause answer 4xx with
{"error": code, "message": text in their language} and write nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.config import Settings
from bot.webapp import views
from bot.webapp.auth import Caller, Role, Unauthorized, authorization, check_init_data
from bot.webapp.texts import AppTexts
from handlers.customer.deposits import send_deposit_invoice
from services.analytics import AnalyticsService
from services.bookings import AlreadyBooked, BookingService, SlotTaken
from services.catalogue import CatalogueService
from services.customer_list import CustomerList, Unreachable
from services.customers import CustomerService
from services.deposits import DepositService
from services.errors import InputError
from services.model_cache import load_profile
from services.no_shows import NoShowService
from services.once import OnceService, Press
from services.owner_notices import OwnerNotices
from services.parsing import MAX_AMOUNT_MINOR
from services.schedule import SEARCH_DAYS, ScheduleService, group_by_day, local_bounds
from services.webapp_calendar import OwnerCalendar
from storage.database import Database
from ui.messages.no_shows import stats_line

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_FOUND = frozenset({"error-booking-unknown", "error-customer-gone"})
# A POST with this header acts once however often it arrives (a double tap, a retry after a
# lost answer): the key is claimed like a chat button's press (services/once.py).
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,56}")

Json = dict[str, Any]


@dataclass
class WebApp:
    """What the API's handlers use: the dispatcher's services and the bot (for its username)."""

    bot: Bot
    token: str
    owner_ids: frozenset[int]
    max_age: timedelta
    db: Database
    zone: ZoneInfo
    clock: Callable[[], datetime]
    texts: AppTexts
    bookings: BookingService
    schedule: ScheduleService
    catalogue: CatalogueService
    customers: CustomerService
    analytics: AnalyticsService
    owner_notices: OwnerNotices
    calendar: OwnerCalendar
    customer_list: CustomerList
    once: OnceService
    # issue 13: a booking that needs a deposit gets its invoice in the customer's chat
    settings: Settings
    deposits: DepositService
    no_shows: NoShowService  # /stats' share of booked visits lost

    def now(self) -> datetime:
        return self.clock()


class ApiError(Exception):
    def __init__(self, status: int, error: str, key: str, **params: object) -> None:
        super().__init__(error)
        self.status, self.error, self.key, self.params = status, error, key, params


@dataclass(frozen=True, slots=True)
class Call:
    """One API request: who asked, and the request."""

    app: WebApp
    caller: Caller
    request: web.Request

    @property
    def now(self) -> datetime:
        return self.app.now()

    def param(self, name: str) -> str:
        return self.request.query.get(name, "").strip()

    def int_param(self, name: str, default: int | None = None) -> int:
        return _int(self.param(name), name, default)

    def id(self, name: str = "id") -> int:
        return _int(self.request.match_info[name], name, None)

    async def body(self) -> Json:
        if self.request.content_length is not None and self.request.content_length > MAX_BODY:
            raise ApiError(400, "bad_request", "wa-error-json")
        raw = await self.request.read()
        if len(raw) > MAX_BODY:
            raise ApiError(400, "bad_request", "wa-error-json")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "bad_request", "wa-error-json") from None
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "wa-error-json")
        return data


Endpoint = Callable[[Call], Awaitable[web.StreamResponse | Json]]


def _int(text: str, name: str, default: int | None) -> int:
    """A whole number from the query or the path."""
    if text == "" and default is not None:
        return default
    if re.fullmatch(r"\d{1,12}", text):
        return int(text)
    raise ApiError(400, "bad_request", "wa-error-number", name=name)


def body_int(value: object, name: str) -> int:
    """A whole number from a JSON body: a JSON number, not a string or true/false."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**15:
        raise ApiError(400, "bad_request", "wa-error-number", name=name)
    return value


def parse_date(text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ApiError(400, "bad_request", "wa-error-date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "bad_request", "wa-error-date") from None


def parse_moment(value: object) -> datetime:
    """An ISO 8601 time with its offset, as the API hands them out."""
    if not isinstance(value, str) or len(value) > 40:
        raise ApiError(400, "bad_request", "wa-error-moment")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_request", "wa-error-moment") from None
    if moment.tzinfo is None:
        raise ApiError(400, "bad_request", "wa-error-moment")
    return moment


# --- the wrapper every route goes through ---------------------------------------------------


def route(app: WebApp, allowed: tuple[Role, ...] | None, endpoint: Endpoint) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        language = app.texts.default
        try:
            caller = await identify(app, request)
            language = caller.language
            if allowed is not None and caller.role not in allowed:
                if "customer" in allowed and caller.role == "guest":
                    raise ApiError(403, "not_registered", "wa-error-not-registered")
                raise ApiError(403, "forbidden", "wa-error-forbidden")
            press = await _claim(app, caller, request)
            try:
                result = await endpoint(Call(app, caller, request))
            except BaseException:
                if press is not None:  # nothing was done: the same key may be tried again
                    await app.once.release(press)
                raise
        except ApiError as error:
            return _error(app, language, error.status, error.error, error.key, error.params)
        except Unauthorized as reason:
            log.info("mini app request refused: %s", reason)
            return _error(app, language, 401, "unauthorized", "wa-error-unauthorized", {})
        except InputError as error:
            status, code = _status_of(error)
            return _error(app, language, status, code, error.code, error.params)
        except Exception:
            # Our fault, not the person's: logged with the route, a short apology for them.
            log.exception("mini app %s %s failed", request.method, request.path)
            return _error(app, language, 500, "internal", "error-internal", {})
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result, headers={"Cache-Control": "no-store"})

    return handle


async def _claim(app: WebApp, caller: Caller, request: web.Request) -> Press | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if request.method != "POST" or key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "bad_request", "wa-error-json")
    # Message id 0: no Telegram message has it, so app keys never meet a button's press.
    press = Press(caller.user.id, 0, "app:" + key)
    if not await app.once.claim(press, app.now()):
        raise ApiError(409, "already_done", "once-already-done")
    return press


def _status_of(error: InputError) -> tuple[int, str]:
    if isinstance(error, SlotTaken):
        return 409, "slot_taken"
    if isinstance(error, AlreadyBooked):
        return 409, "already_booked"
    if isinstance(error, Unreachable):
        return 409, "unreachable"
    if error.code in _NOT_FOUND:
        return 404, "not_found"
    return 400, "bad_request"


def _error(
    app: WebApp, language: str, status: int, error: str, key: str, params: dict[str, object]
) -> web.Response:
    message = app.texts.text(language, key, **params)
    return web.json_response(
        {"error": error, "message": message}, status=status, headers={"Cache-Control": "no-store"}
    )


async def identify(app: WebApp, request: web.Request) -> Caller:
    raw = authorization(request.headers.get("Authorization"))
    _, user = check_init_data(app.token, raw, app.now(), app.max_age)
    language = app.texts.language_of(user.language_code)
    card = await app.customers.card_by_telegram(user.id)
    role: Role = "owner" if user.id in app.owner_ids else "customer" if card else "guest"
    return Caller(user, role, language, card)


# --- everyone ---------------------------------------------------------------------------------


async def me(call: Call) -> Json:
    user, caller = call.caller.user, call.caller
    profile = await load_profile(call.app.db)
    return {
        "role": caller.role,
        "language": caller.language,
        "name": " ".join(p for p in (user.first_name, user.last_name) if p),
        "customer_id": caller.customer.id if caller.customer else None,
        "currency": profile.currency,
        "texts": call.app.texts.app_texts(caller.language),
    }


# --- the owner --------------------------------------------------------------------------------


async def _currency(call: Call) -> str:
    return (await load_profile(call.app.db)).currency


async def owner_week(call: Call) -> Json:
    text = call.param("start")
    start = parse_date(text) if text else call.app.calendar.today(call.now)
    days = await call.app.calendar.week(start, call.now)
    currency = await _currency(call)
    zone = call.app.zone
    return {"start": start.isoformat(), "days": [views.day(d, zone, currency) for d in days]}


async def _free_for(call: Call, duration_minutes: int, moving: int | None = None) -> list[datetime]:
    """Free starts in the next two weeks; a booking being moved may overlap its own time."""
    now = call.now
    return await call.app.schedule.free_slots(
        duration_minutes=duration_minutes,
        start=now,
        end=now + timedelta(days=SEARCH_DAYS),
        now=now,
        ignore_booking=moving,
    )


async def owner_booking(call: Call) -> Json:
    item = await call.app.bookings.get(call.id())
    if item is None:
        raise InputError("error-booking-unknown")
    free = await _free_for(call, item.service.duration_minutes, item.id)
    return {
        **views.booking(item, call.app.zone, await _currency(call)),
        "slots": views.slots(free, call.app.zone),
    }


async def owner_move(call: Call) -> Json:
    body = await call.body()
    starts_at = parse_moment(body.get("start"))
    moved = await call.app.calendar.move(call.id(), starts_at, call.now)
    await call.app.owner_notices.booking("moved", moved.booking, call.now, was=moved.was)
    return views.booking(moved.booking, call.app.zone, await _currency(call))


async def owner_done(call: Call) -> Json:
    body = await call.body()
    amount = None
    if body.get("amount") is not None:
        amount = body_int(body.get("amount"), "amount")
        if amount <= 0:
            raise ApiError(400, "bad_request", "wa-error-number", name="amount")
        if amount > MAX_AMOUNT_MINOR:  # checked before the booking closes: all or nothing
            raise InputError("error-money-too-large")
    now = call.now
    closed = await call.app.bookings.mark_done(call.id(), now)
    if amount is not None and amount != closed.sale.amount:
        # The same correction as chat's "Change amount" (cashback and thank-you follow it).
        whole, cents = divmod(amount, 100)
        await call.app.bookings.change_amount(closed.sale.purchase_id, f"{whole}.{cents:02d}", now)
    return views.booking(closed.booking, call.app.zone, await _currency(call))


async def owner_no_show(call: Call) -> Json:
    item = await call.app.bookings.mark_no_show(call.id(), call.now)
    return views.booking(item, call.app.zone, await _currency(call))


async def owner_cancel(call: Call) -> Json:
    item = await call.app.calendar.cancel(call.id(), call.now)
    await call.app.owner_notices.booking("cancelled", item, call.now, refund=item.deposit_refund)
    return views.booking(item, call.app.zone, await _currency(call))


async def owner_customers(call: Call) -> Json:
    page = await call.app.customer_list.page(
        query=call.param("q"),
        sort=call.param("sort") or "last_visit",
        offset=call.int_param("offset", 0),
        limit=call.int_param("limit", 50),
        now=call.now,
    )
    currency = await _currency(call)
    return {"total": page.total, "items": [views.customer_item(i, currency) for i in page.items]}


async def owner_customer(call: Call) -> Json:
    detail = await call.app.customer_list.detail(call.id(), call.now)
    return views.customer_detail(detail, await _currency(call))


async def owner_message(call: Call) -> Json:
    body = await call.body()
    text = body.get("text")
    if not isinstance(text, str):
        raise InputError("wa-error-message-empty")
    send_at = await call.app.customer_list.message(call.id(), text, call.now)
    return {"queued": True, "send_at": views.moment(send_at, call.app.zone)}


async def owner_stats(call: Call) -> Json:
    analytics = call.app.analytics
    now = call.now
    cutoff = analytics.cutoff_for(None, now)
    report = await analytics.report(cutoff)
    cohorts = await analytics.cohorts(now)
    texts = call.app.texts.texts(call.caller.language)
    figures = call.app.texts.stats_figures(texts, report)
    # issue 13: the line /stats ends with, when anything was booked
    lost = stats_line(texts, await call.app.no_shows.visits(cutoff))
    if lost:
        figures.append({"key": "lost", "label": texts("wa-figure-lost"), "text": lost})
    return {
        "figures": figures,
        "charts": {
            "revenue": [
                {
                    "month": m.month.strftime("%Y-%m"),
                    "first": m.first_revenue,
                    "repeat": m.repeat_revenue,
                }
                for m in report.months
            ],
            "cohorts": [
                {"cohort": month.strftime("%Y-%m"), "sizes": size, "retention": list(shares)}
                for month, size, shares in zip(
                    cohorts.months, cohorts.sizes, cohorts.shares, strict=True
                )
                if size
            ],
        },
    }


# --- the customer -----------------------------------------------------------------------------


async def _active_service_minutes(call: Call, service_id: int) -> int:
    service = await call.app.catalogue.get(service_id)
    if service is None or service.archived:
        raise InputError("error-service-unknown")
    return service.duration_minutes


async def services(call: Call) -> Json:
    currency = await _currency(call)
    items = await call.app.catalogue.active()
    return {"services": [views.service(s, currency) for s in items]}


async def days(call: Call) -> Json:
    minutes = await _active_service_minutes(call, call.int_param("service_id"))
    found = group_by_day(await _free_for(call, minutes), call.app.zone)
    return {"days": [d.isoformat() for d in found]}


async def day_slots(call: Call) -> Json:
    minutes = await _active_service_minutes(call, call.int_param("service_id"))
    day = parse_date(call.param("day"))
    today = call.app.calendar.today(call.now)
    if not today <= day <= today + timedelta(days=SEARCH_DAYS):
        raise ApiError(400, "bad_request", "wa-error-day-range", days=SEARCH_DAYS)
    start, end = local_bounds(day, call.app.zone)
    free = await call.app.schedule.free_slots(
        duration_minutes=minutes, start=start, end=end, now=call.now
    )
    return {"slots": views.slots(free, call.app.zone)}


async def book(call: Call) -> web.Response:
    body = await call.body()
    service_id = body_int(body.get("service_id"), "service_id")
    starts_at = parse_moment(body.get("start"))
    item = await call.app.bookings.book(
        telegram_id=call.caller.user.id, service_id=service_id, starts_at=starts_at, now=call.now
    )
    await call.app.owner_notices.booking("booked", item, call.now)
    currency = await _currency(call)
    shown = views.booking(item, call.app.zone, currency)
    if item.deposit_due:
        # The slot is held until the deposit is paid: the invoice goes to the chat, as for a
        # booking made there, and the page says so. (Paying inside the page would take
        # createInvoiceLink + openInvoice: not built.)
        app = call.app
        t = app.texts.texts(call.caller.language)
        await send_deposit_invoice(
            app.bot, call.caller.user.id, t, app.deposits, item, app.settings
        )
        shown["deposit"] = views.money(item.deposit_due, currency)
    return web.json_response(shown, status=201, headers={"Cache-Control": "no-store"})


async def my(call: Call) -> Json:
    caller = call.caller
    assert caller.customer is not None
    upcoming = await call.app.bookings.upcoming(caller.user.id, call.now)
    loyalty = await call.app.customers.loyalty(caller.customer.id)
    me = await call.app.bot.me()
    currency = await _currency(call)
    return {
        "bookings": [views.booking(b, call.app.zone, currency) for b in upcoming],
        "points": loyalty.balance,
        "referral_link": f"https://t.me/{me.username}?start={loyalty.referral_code}",
    }


async def my_booking(call: Call) -> Json:
    item = await call.app.bookings.own(
        telegram_id=call.caller.user.id, booking_id=call.id(), now=call.now
    )
    free = await _free_for(call, item.service.duration_minutes, item.id)
    return {
        **views.booking(item, call.app.zone, await _currency(call)),
        "slots": views.slots(free, call.app.zone),
    }


async def my_move(call: Call) -> Json:
    body = await call.body()
    starts_at = parse_moment(body.get("start"))
    who, booking_id, now = call.caller.user.id, call.id(), call.now
    current = await call.app.bookings.own(telegram_id=who, booking_id=booking_id, now=now)
    item = await call.app.bookings.reschedule(
        telegram_id=who, booking_id=booking_id, starts_at=starts_at, now=now
    )
    await call.app.owner_notices.booking("moved", item, now, was=current.starts_at)
    return views.booking(item, call.app.zone, await _currency(call))


async def my_cancel(call: Call) -> Json:
    item = await call.app.bookings.cancel(
        telegram_id=call.caller.user.id, booking_id=call.id(), now=call.now
    )
    await call.app.owner_notices.booking("cancelled", item, call.now, refund=item.deposit_refund)
    return views.booking(item, call.app.zone, await _currency(call))


# --- the table of routes ----------------------------------------------------------------------

OWNER: tuple[Role, ...] = ("owner",)
CUSTOMER: tuple[Role, ...] = ("customer",)

ROUTES: tuple[tuple[str, str, tuple[Role, ...] | None, Endpoint], ...] = (
    ("GET", "/app/api/me", None, me),
    ("GET", "/app/api/owner/week", OWNER, owner_week),
    ("GET", "/app/api/owner/bookings/{id}", OWNER, owner_booking),
    ("POST", "/app/api/owner/bookings/{id}/move", OWNER, owner_move),
    ("POST", "/app/api/owner/bookings/{id}/done", OWNER, owner_done),
    ("POST", "/app/api/owner/bookings/{id}/no_show", OWNER, owner_no_show),
    ("POST", "/app/api/owner/bookings/{id}/cancel", OWNER, owner_cancel),
    ("GET", "/app/api/owner/customers", OWNER, owner_customers),
    ("GET", "/app/api/owner/customers/{id}", OWNER, owner_customer),
    ("POST", "/app/api/owner/customers/{id}/message", OWNER, owner_message),
    ("GET", "/app/api/owner/stats", OWNER, owner_stats),
    ("GET", "/app/api/services", CUSTOMER, services),
    ("GET", "/app/api/days", CUSTOMER, days),
    ("GET", "/app/api/slots", CUSTOMER, day_slots),
    ("POST", "/app/api/bookings", CUSTOMER, book),
    ("GET", "/app/api/my", CUSTOMER, my),
    ("GET", "/app/api/my/bookings/{id}", CUSTOMER, my_booking),
    ("POST", "/app/api/my/bookings/{id}/move", CUSTOMER, my_move),
    ("POST", "/app/api/my/bookings/{id}/cancel", CUSTOMER, my_cancel),
)


def add_api_routes(app: web.Application, webapp: WebApp) -> None:
    for method, path, allowed, endpoint in ROUTES:
        app.router.add_route(method, path, route(webapp, allowed, endpoint))
