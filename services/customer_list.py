"""The owner's customer list and a customer's card for the Mini App (issue 12).

Search, sorting by last visit or money and paging run in SQL (storage/customer_list.py);
predicted value and "at risk" come from the same fitted model as /stats (services/model_cache.py),
so the list and the chat never disagree. A message to a customer goes through the outbox,
inside the sending window, as an owner's answer in /inbox does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services import prediction
from services.customers import fold
from services.dto import CustomerCard
from services.errors import InputError
from services.model_cache import MODEL_WAIT_SECONDS, ModelCache, load_profile
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import InboxAnswer
from services.parsing import MAX_TEXT, Birthday, strip_controls
from services.shop import profile_from
from services.stats_calendar import StatsCalendar
from storage.customer_list import SQL_SORTS, CustomerSummary
from storage.database import Database
from storage.no_shows import LostCounts

SORTS = (*SQL_SORTS, "predicted", "risk")
PAGE_LIMIT = 100
HISTORY_LIMIT = 50
MESSAGE_LIMIT = 2000  # a personal note, well inside Telegram's 4,096 characters


@dataclass(frozen=True, slots=True)
class CustomerListItem:
    id: int
    name: str | None
    phone: str | None
    last_visit: date | None  # shop-local day
    visits: int
    total: int
    predicted: float | None  # 12-month CLV in minor units; None without a fitted model
    at_risk: bool


@dataclass(frozen=True, slots=True)
class CustomerPage:
    total: int
    items: list[CustomerListItem]


@dataclass(frozen=True, slots=True)
class Purchase:
    day: date
    service: str | None
    amount: int


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    item: CustomerListItem
    card: CustomerCard
    points: int
    history: list[Purchase]
    lost: LostCounts  # issue 13: no-shows and late cancellations, as /today shows them

    @property
    def birthday(self) -> Birthday | None:
        return self.card.birthday


@dataclass(frozen=True, slots=True)
class _Model:
    predicted: dict[int, float]
    risk_order: list[int]  # at-risk customers, most valuable first
    risky: frozenset[int]


class CustomerList:
    def __init__(self, db: Database, zone: ZoneInfo, models: ModelCache) -> None:
        self._db = db
        self._zone = zone
        self._models = models
        self._calendar = StatsCalendar(zone)

    async def page(
        self, *, query: str, sort: str, offset: int, limit: int, now: datetime
    ) -> CustomerPage:
        if sort not in SORTS:
            raise InputError("wa-error-sort")
        if not 0 <= offset <= 10**9 or not 1 <= limit <= PAGE_LIMIT:
            raise InputError("wa-error-paging", limit=PAGE_LIMIT)
        folded, digits, customer_id = _search_terms(query)
        model = await self._model(now)
        async with self._db.reading() as repos:
            lists = repos.customer_list
            if sort in SQL_SORTS:
                total, rows = await lists.page(
                    folded=folded,
                    digits=digits,
                    sort=sort,
                    offset=offset,
                    limit=limit,
                    customer_id=customer_id,
                )
            else:
                ids = await lists.matching_ids(
                    folded=folded, digits=digits, customer_id=customer_id
                )
                ordered = _model_order(ids, model, sort)
                total = len(ordered)
                chosen = ordered[offset : offset + limit]
                found = await lists.summaries(chosen)
                rows = [found[i] for i in chosen if i in found]
        return CustomerPage(total, [self._item(row, model) for row in rows])

    async def detail(self, customer_id: int, now: datetime) -> CustomerDetail:
        model = await self._model(now)
        async with self._db.reading() as repos:
            row = await repos.customers.get(customer_id)
            if row is None or row.forgotten_at is not None:
                raise InputError("error-customer-gone")
            summary = (await repos.customer_list.summaries([customer_id]))[customer_id]
            history = await repos.customer_list.history(customer_id, HISTORY_LIMIT)
            points = await repos.growth.balance(customer_id)
            card = CustomerCard.of(row)
            lost = (await repos.no_shows.of_customers([customer_id])).get(customer_id)
        return CustomerDetail(
            self._item(summary, model),
            card,
            points,
            [Purchase(self._day(h.purchased_at), h.service, h.amount) for h in history],
            lost or LostCounts(),
        )

    async def message(self, customer_id: int, text: str, now: datetime) -> datetime:
        """Queue the owner's words to the customer; when they will go (the sending window)."""
        words = strip_controls(text).strip()
        if not words:
            raise InputError("wa-error-message-empty")
        if len(words) > MESSAGE_LIMIT:
            raise InputError("wa-error-message-long", limit=MESSAGE_LIMIT)
        async with self._db.transaction() as repos:
            row = await repos.customers.get(customer_id)
            if row is None or row.forgotten_at is not None:
                raise InputError("error-customer-gone")
            if row.telegram_id is None or row.blocked_at is not None:
                raise Unreachable("wa-error-unreachable")
            profile = profile_from(await repos.settings.all())
            send_at = profile.next_send_time(now, self._zone)
            # The moment names the message: two different notes in one second stay two.
            key = f"webapp_message:{customer_id}:{int(now.timestamp() * 1_000_000)}"
            payload = InboxAnswer(text=words)
            await enqueue(repos, Outgoing(key, row.telegram_id, row.id, send_at, payload), now)
            # The owner wrote to them: what they wrote before leaves /inbox's waiting list.
            await repos.inbox.mark_answered(row.id, now)
            return send_at

    async def _model(self, now: datetime) -> _Model:
        """Predicted values and the at-risk order of the model /stats uses (cached there)."""
        profile = await load_profile(self._db)
        fitted = await self._models.model(now, profile, wait=MODEL_WAIT_SECONDS)
        if fitted is None:
            return _Model({}, [], frozenset())
        outcome, rows = fitted
        predicted: dict[int, float] = {}
        if isinstance(outcome, prediction.ModelFit):
            predicted = {
                int(i): float(v) for i, v in zip(outcome.customer_ids, outcome.clv, strict=True)
            }
        end_day = prediction.day_number(self._calendar.local_day(now))
        risky = prediction.at_risk(rows, end_day, outcome, len(rows.customer_ids))
        order = [r.customer_id for r in risky]
        return _Model(predicted, order, frozenset(order))

    def _item(self, row: CustomerSummary, model: _Model) -> CustomerListItem:
        return CustomerListItem(
            id=row.id,
            name=row.name,
            phone=row.phone,
            last_visit=self._day(row.last_visit) if row.last_visit else None,
            visits=row.visits,
            total=row.total,
            predicted=model.predicted.get(row.id),
            at_risk=row.id in model.risky,
        )

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self._zone).date()


class Unreachable(InputError):
    """The bot cannot write to this customer (not on Telegram, or they blocked it)."""


def _search_terms(query: str) -> tuple[str | None, str | None, int | None]:
    """(name or username, phone digits, #id): what the owner typed, as chat's search reads it."""
    text = " ".join(strip_controls(query).split())
    if len(text) > MAX_TEXT:
        raise InputError("error-customer-query-long")
    if not text:
        return None, None, None
    if re.fullmatch(r"#\d{1,9}", text):
        return None, None, int(text[1:])
    digits = re.sub(r"\D", "", text)
    # A phone is searched by its digits ("916 123" finds +79161234567), a name by its letters.
    if digits and re.fullmatch(r"[+\d\s\-().]+", text):
        return None, digits, None
    return fold(text.removeprefix("@")), None, None


def _model_order(ids: list[int], model: _Model, sort: str) -> list[int]:
    if sort == "predicted":
        # Customers the model could not value come last, by id.
        return sorted(ids, key=lambda i: (i not in model.predicted, -model.predicted.get(i, 0), i))
    rank = {customer_id: n for n, customer_id in enumerate(model.risk_order)}
    return sorted(ids, key=lambda i: (rank.get(i, len(rank)), i))
