"""Importing services: new ones added to the catalogue, existing ones given what the file sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.catalogue import DEFAULT_DURATION
from services.transfer import cells
from services.transfer.cells import attempt, name_key, show
from services.transfer.reading import Row, Table
from services.transfer.report import ImportReport
from storage.models import Service
from storage.repositories import Repositories


class Catalogue:
    """All services by folded name; an active one wins over archived ones of that name."""

    def __init__(self, services: Sequence[Service]) -> None:
        self._by_name: dict[str, list[Service]] = {}
        for service in services:
            self._by_name.setdefault(name_key(service.name), []).append(service)

    def find(self, name: str, archived: bool | None = None) -> Service | None:
        candidates = self._by_name.get(name_key(name), [])
        if archived is not None:
            candidates = [s for s in candidates if s.archived == archived]
        else:
            candidates = [s for s in candidates if not s.archived] or candidates
        return max(candidates, key=lambda s: s.id) if candidates else None


@dataclass(slots=True)
class _ServiceRow:
    name: str
    price: int | None  # None: not given
    cycle_given: bool
    cycle_days: int | None
    duration: int | None  # None: not given
    archived: bool | None  # None: not given
    target: Service | None


async def import_services(repos: Repositories, table: Table, *, now: datetime) -> ImportReport:
    catalogue = Catalogue(await repos.catalogue.all())
    errors = table.errors
    parsed: list[_ServiceRow] = []
    claimed: dict[tuple[str, object], int] = {}  # the service a row writes -> its line
    for row in table.rows:
        reasons: list[str] = []
        item = _parse_service(row, table.columns, reasons)
        if item is not None:
            item.target = catalogue.find(item.name, item.archived)
            key = (
                ("id", item.target.id)
                if item.target
                else ("new", (name_key(item.name), bool(item.archived)))
            )
            earlier = claimed.setdefault(key, row.line)
            if earlier != row.line:
                reasons.append(f"service {show(item.name)} is also on line {earlier}")
            if item.target is None and item.price is None:
                reasons.append("price is empty (needed for a new service)")
        if reasons or item is None:
            errors.add(row.line, reasons)
            continue
        parsed.append(item)
    errors.raise_if_any()

    created = updated = 0
    for item in parsed:
        if item.target is None:
            await repos.catalogue.add(
                name=item.name,
                price=item.price,
                cycle_days=item.cycle_days,
                duration_minutes=item.duration or DEFAULT_DURATION,
                archived=bool(item.archived),
                created_at=now,
            )
            created += 1
            continue
        changes = _changes(item.target, item)
        if changes:
            await repos.transfer.update_service(item.target.id, changes)
            updated += 1
    return ImportReport("services", created, updated, len(parsed) - created - updated, notes=[])


def _parse_service(row: Row, columns: frozenset[str], reasons: list[str]) -> _ServiceRow | None:
    name = attempt(reasons, cells.label, row.get("name"), "name")
    if name is None and not reasons:
        reasons.append("name is empty")
    price = None
    if row.get("price"):  # empty: keep the price of an existing service
        price = attempt(reasons, cells.money, row.get("price"), "price", zero_ok=True)
    cycle = attempt(reasons, cells.cycle, row.get("cycle_days"))
    duration = None
    if "duration_minutes" in columns:
        duration = attempt(reasons, cells.duration, row.get("duration_minutes"))
    archived = attempt(reasons, cells.yes_no, row.get("archived"), "archived")
    if name is None:
        return None
    return _ServiceRow(
        name=name,
        price=price,
        cycle_given="cycle_days" in columns,
        cycle_days=cycle,
        duration=duration,
        archived=archived,
        target=None,
    )


def _changes(service: Service, item: _ServiceRow) -> dict[str, object]:
    """What the row sets that the service does not have yet."""
    wanted: dict[str, object] = {}
    if item.price is not None:
        wanted["price"] = item.price
    if item.cycle_given:
        wanted["cycle_days"] = item.cycle_days
    if item.duration is not None:
        wanted["duration_minutes"] = item.duration
    if item.archived is not None:
        wanted["archived"] = item.archived
    return {column: value for column, value in wanted.items() if getattr(service, column) != value}
