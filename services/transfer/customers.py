"""Importing customers: new ones created, matched ones given the fields the file fills in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.birthdays import SET_BY_OWNER
from services.customers import fold
from services.parsing import Birthday
from services.transfer import cells
from services.transfer.cells import attempt, show
from services.transfer.identities import Identities
from services.transfer.reading import Row, Table
from services.transfer.report import BadRows, ImportReport
from storage.repositories import Repositories
from storage.transfer import TransferRepository

_BATCH = 500  # matched customers compared with the database at a time


@dataclass(slots=True)
class _CustomerRow:
    external_id: str | None
    phone: str | None
    telegram_id: int | None
    name: str | None
    birthday: Birthday | None
    source: str | None
    consent: bool | None
    target: int | None = None  # the existing customer it updates


class _Checker:
    """Checks rows one by one against the database and the rows before them."""

    def __init__(self, known: Identities, errors: BadRows, now: datetime, zone: ZoneInfo) -> None:
        self.known = known
        self.errors = errors
        self.today = now.astimezone(zone).date()
        self.seen: dict[tuple[str, str | int], int] = {}  # (column, value) -> its line
        self.claimed: dict[int, int] = {}  # existing customer id -> the line that updates it

    def check(self, row: Row) -> _CustomerRow | None:
        reasons: list[str] = []
        ext = attempt(reasons, cells.external_id, row.get("external_id"))
        phone = attempt(reasons, cells.phone, row.get("phone"))
        telegram_id = attempt(reasons, cells.telegram_id, row.get("telegram_id"))
        name = attempt(reasons, cells.plain, row.get("name"), "name")
        birthday = attempt(reasons, cells.birthday, row.get("birthday"), self.today)
        source = attempt(reasons, cells.plain, row.get("source"), "source", cells.MAX_SOURCE)
        consent = attempt(reasons, cells.yes_no, row.get("consent"), "consent")
        if not reasons and ext is None and phone is None and telegram_id is None:
            reasons.append("needs at least one of external_id, phone, telegram_id")
        for label, value in (("external_id", ext), ("phone", phone), ("telegram_id", telegram_id)):
            if value is None:
                continue
            earlier = self.seen.setdefault((label, value), row.line)
            if earlier != row.line:
                shown = show(value) if isinstance(value, str) else value
                reasons.append(f"{label} {shown} is also on line {earlier}")
        target = self._target(row.line, ext, phone, telegram_id, reasons)
        if reasons:
            self.errors.add(row.line, reasons)
            return None
        return _CustomerRow(ext, phone, telegram_id, name, birthday, source, consent, target)

    def _target(
        self,
        line: int,
        ext: str | None,
        phone: str | None,
        telegram_id: int | None,
        reasons: list[str],
    ) -> int | None:
        """The existing customer the row updates, if any."""
        known = self.known
        matches = {
            label: found
            for label, found in (
                ("external_id", known.by_external.get(ext) if ext else None),
                ("phone", known.by_phone.get(phone) if phone else None),
                ("telegram_id", known.by_telegram.get(telegram_id) if telegram_id else None),
            )
            if found is not None
        }
        if len(set(matches.values())) > 1:
            how = ", ".join(f"#{found} by {label}" for label, found in matches.items())
            reasons.append(f"matches two different customers ({how})")
            return None
        if not matches:
            return None
        target = next(iter(matches.values()))
        if target in self.claimed:
            reasons.append(f"is the same customer as line {self.claimed[target]}")
        else:
            self.claimed[target] = line
        current = known.telegram_of.get(target)
        if telegram_id is not None and current is not None and current != telegram_id:
            reasons.append(f"the matching customer #{target} already has telegram_id {current}")
        return target


async def import_customers(
    repos: Repositories, table: Table, *, zone: ZoneInfo, now: datetime
) -> ImportReport:
    checker = _Checker(await Identities.load(repos.transfer), table.errors, now, zone)
    parsed = [item for row in table.rows if (item := checker.check(row)) is not None]
    table.errors.raise_if_any()

    new = [item for item in parsed if item.target is None]
    await repos.transfer.insert_customers([_new_customer(item, now) for item in new])
    updated = await _update_customers(repos.transfer, [item for item in parsed if item.target], now)
    return ImportReport("customers", len(new), updated, len(parsed) - len(new) - updated, notes=[])


def _new_customer(item: _CustomerRow, now: datetime) -> dict[str, Any]:
    birthday = item.birthday
    return {
        "external_id": item.external_id,
        "phone": item.phone,
        "telegram_id": item.telegram_id,
        "name": item.name,
        "search_name": fold(item.name) if item.name else None,
        "birth_day": birthday.day if birthday else None,
        "birth_month": birthday.month if birthday else None,
        "birth_year": birthday.year if birthday else None,
        "birthday_set_at": now if birthday else None,
        "birthday_set_by": SET_BY_OWNER if birthday else None,
        "source": item.source,
        "consent": item.consent,
        "created_at": now,
    }


async def _update_customers(
    transfer: TransferRepository, items: list[_CustomerRow], now: datetime
) -> int:
    """Set the given (non-empty) fields on matched customers; returns how many changed."""
    changed = 0
    for start in range(0, len(items), _BATCH):
        batch = {item.target: item for item in items[start : start + _BATCH] if item.target}
        # Rows that change the same columns are updated by one executemany.
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for current in await transfer.imported_fields(list(batch)):
            changes = _changes(batch[current["id"]], current, now)
            if changes:
                changes["id"] = current["id"]
                groups.setdefault(frozenset(changes), []).append(changes)
                changed += 1
        for group in groups.values():
            await transfer.update_customers(group)
    return changed


def _changes(item: _CustomerRow, current: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The columns the row changes on the customer as `current` has them."""
    wanted: dict[str, Any] = {
        "external_id": item.external_id,
        "phone": item.phone,
        "telegram_id": item.telegram_id,
        "name": item.name,
        "source": item.source,
        "consent": item.consent,
    }
    changes = {
        key: value for key, value in wanted.items() if value is not None and current[key] != value
    }
    birthday = item.birthday
    if birthday is not None and (
        (birthday.day, birthday.month) != (current["birth_day"], current["birth_month"])
        or birthday.year not in (None, current["birth_year"])
    ):
        # A birthday without the year keeps a known year only for the same day.
        changes["birth_day"], changes["birth_month"] = birthday.day, birthday.month
        changes["birth_year"] = birthday.year
    if "name" in changes:
        changes["search_name"] = fold(changes["name"])
    if "birth_day" in changes:
        changes["birthday_set_at"] = now
        changes["birthday_set_by"] = SET_BY_OWNER
    return changes
