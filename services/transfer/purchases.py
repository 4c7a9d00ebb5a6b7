"""Importing purchases: customers and services the file names but the database lacks are
created, and a purchase already in the database is skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.catalogue import DEFAULT_DURATION
from services.transfer import cells
from services.transfer.catalogue import Catalogue
from services.transfer.cells import DIGITS, MAX_EXTERNAL_ID, Bad, attempt, name_key, show
from services.transfer.identities import Identities
from services.transfer.reading import Row, Table
from services.transfer.report import ImportReport
from services.transfer.writing import money_text
from storage.repositories import Repositories
from storage.transfer import TransferRepository

_NewCustomer = tuple[str, str]  # ("phone", "+7...") or ("external_id", "C-17")
_Key = tuple[int, int | None, int, datetime]  # customer, service, amount, moment to the second


@dataclass(slots=True)
class _PurchaseRow:
    customer: int | _NewCustomer
    cell: str  # the customer as the file writes it
    service: int | str | None  # an id, the folded name of a service to create, or none
    service_name: str | None
    amount: int
    purchased_at: datetime


def _new_identity(value: str) -> _NewCustomer:
    """How a customer the database does not know is created from a purchase's cell.

    A phone when it reads as one; a bare number of 10 digits or fewer is not trusted as a
    phone (a Telegram id or a CRM number looks the same), so it and anything else become the
    external_id. A Telegram id is never guessed: that would tie a stranger's account to it.
    """
    phone = cells.maybe_phone(value)
    if phone and (not DIGITS.match(value) or len(value) > 10):
        return ("phone", phone)
    if len(value) > MAX_EXTERNAL_ID:
        raise Bad(f"customer {show(value)} is unknown and too long for an external_id")
    return ("external_id", value)


def _parse_purchase(
    row: Row,
    reasons: list[str],
    *,
    known: Identities,
    catalogue: Catalogue,
    zone: ZoneInfo,
    today: date,
) -> _PurchaseRow | None:
    customer: int | _NewCustomer | None = None
    cell = row.get("customer")
    if not cell:
        reasons.append("customer is empty")
    else:
        customer = known.find(cell)
        if customer is None:
            customer = attempt(reasons, _new_identity, cell)
    moment = attempt(reasons, cells.moment, row.get("date"), zone, today)
    # 0 is a free visit (a warranty fix): a visit for cycles and counts, no revenue.
    amount = attempt(reasons, cells.money, row.get("amount"), "amount", zero_ok=True)
    name = attempt(reasons, cells.label, row.get("service"), "service")
    if reasons or customer is None or moment is None or amount is None:
        return None
    service: int | str | None = None
    if name is not None:
        found = catalogue.find(name)
        service = found.id if found is not None else name_key(name)
    return _PurchaseRow(customer, cell, service, name, amount, moment)


async def import_purchases(
    repos: Repositories, table: Table, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    today = now.astimezone(zone).date()
    known = await Identities.load(repos.transfer)
    catalogue = Catalogue(await repos.catalogue.all())
    errors = table.errors
    parsed: list[_PurchaseRow] = []
    for row in table.rows:
        reasons: list[str] = []
        item = _parse_purchase(
            row, reasons, known=known, catalogue=catalogue, zone=zone, today=today
        )
        if item is None:
            errors.add(row.line, reasons)
        else:
            parsed.append(item)
    errors.raise_if_any()

    notes: list[str] = []
    customer_ids = await _create_customers(repos.transfer, parsed, now, notes)
    service_ids = await _create_services(repos, parsed, now, notes)
    keys: list[_Key] = []
    for item in parsed:
        customer_id = (
            item.customer if isinstance(item.customer, int) else customer_ids[item.customer]
        )
        service_id = service_ids[item.service] if isinstance(item.service, str) else item.service
        keys.append((customer_id, service_id, item.amount, item.purchased_at))
    created = await _insert_new_purchases(repos.transfer, keys, now)
    skipped = len(keys) - created
    if skipped:
        notes.append(f"skipped {skipped} purchase(s) already in the database")
    return ImportReport("purchases", created, 0, skipped, notes)


async def _create_customers(
    transfer: TransferRepository, parsed: list[_PurchaseRow], now: datetime, notes: list[str]
) -> dict[_NewCustomer, int]:
    """The customers the file names but the database does not have, by their identity."""
    wanted: dict[_NewCustomer, str] = {}
    for item in parsed:
        if not isinstance(item.customer, int):
            wanted.setdefault(item.customer, item.cell)
    if not wanted:
        return {}
    ids = await transfer.insert_customers_returning_ids(
        [
            {
                "external_id": value if kind == "external_id" else None,
                "phone": value if kind == "phone" else None,
                "created_at": now,
            }
            for kind, value in wanted
        ]
    )
    shown = ", ".join(show(cell) for cell in list(wanted.values())[:5])
    more = ", …" if len(wanted) > 5 else ""
    notes.append(f"created {len(wanted)} customer(s) the database did not have: {shown}{more}")
    return dict(zip(wanted, ids, strict=True))


async def _create_services(
    repos: Repositories, parsed: list[_PurchaseRow], now: datetime, notes: list[str]
) -> dict[str, int]:
    """Services the file names but the catalogue lacks: priced at their first paid sale."""
    prices: dict[str, int] = {}
    for item in parsed:
        if isinstance(item.service, str) and not prices.get(item.service):
            prices[item.service] = item.amount  # a free visit (0) gives way to a paid one
    ids: dict[str, int] = {}
    for item in parsed:
        if not isinstance(item.service, str) or item.service in ids:
            continue
        name = item.service_name or item.service
        price = prices[item.service]
        service = await repos.catalogue.add(
            name=name,
            price=price,
            cycle_days=None,
            duration_minutes=DEFAULT_DURATION,
            archived=False,
            created_at=now,
        )
        ids[item.service] = service.id
        notes.append(
            f"created service {show(name)} (price {money_text(price)}, no cycle, "
            f"{DEFAULT_DURATION} minutes): check it in the catalogue"
        )
    return ids


async def _insert_new_purchases(
    transfer: TransferRepository, keys: list[_Key], now: datetime
) -> int:
    """Insert the rows not already in the database; returns how many were inserted.

    A row counts as already there when the database has a purchase of the same customer,
    service and amount in the same second; a file may rightly hold two identical sales (two
    coffees the same day), so occurrences are counted, not just looked up.
    """
    already = await _existing_purchases(transfer, keys)
    seen: Counter[_Key] = Counter()
    fresh: list[dict[str, object]] = []
    for key in keys:
        seen[key] += 1
        if seen[key] > already[key]:
            customer_id, service_id, amount, purchased_at = key
            fresh.append(
                {
                    "customer_id": customer_id,
                    "service_id": service_id,
                    "amount": amount,
                    "purchased_at": purchased_at,
                    "created_at": now,
                }
            )
    await transfer.insert_purchases(fresh)
    return len(fresh)


async def _existing_purchases(transfer: TransferRepository, keys: list[_Key]) -> Counter[_Key]:
    """How many purchases the database already has for each key, to the second.

    Not repos.purchases.exists_exact: sales logged in the bot keep microseconds while a CSV
    has whole seconds, and one query over the file's time span is much faster than a query
    per row.
    """
    found: Counter[_Key] = Counter()
    if not keys:
        return found
    wanted = set(keys)
    low = min(key[3] for key in keys)
    high = max(key[3] for key in keys) + timedelta(seconds=1)
    async for purchase in transfer.purchase_keys_between(low, high):
        key = (
            purchase.customer_id,
            purchase.service_id,
            purchase.amount,
            purchase.purchased_at.replace(microsecond=0),
        )
        if key in wanted:
            found[key] += 1
    return found
