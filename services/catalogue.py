"""The shop's services: what it sells, at what price, how often people need it again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.dto import ServiceItem
from services.errors import InputError
from services.parsing import clean_text
from storage.database import Database
from storage.models import Service
from storage.repositories import Repositories

DEFAULT_DURATION = 60


class CatalogueService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def active(self) -> list[ServiceItem]:
        async with self._db.reading() as repos:
            return [ServiceItem.of(row) for row in await repos.catalogue.active()]

    async def get(self, service_id: int) -> ServiceItem | None:
        async with self._db.reading() as repos:
            row = await repos.catalogue.get(service_id)
            return ServiceItem.of(row) if row else None

    async def by_name(self, name: str) -> ServiceItem | None:
        """An active service by name, ignoring case and extra spaces."""
        async with self._db.reading() as repos:
            row = _named(await repos.catalogue.active(), name)
            return ServiceItem.of(row) if row else None

    async def require_by_name(self, name: str) -> ServiceItem:
        async with self._db.reading() as repos:
            return ServiceItem.of(await require_service_by_name(repos, name))

    async def pair(self, text: str) -> tuple[str, str | None]:
        """`Manicure > Cuticle oil` suggests oil after a manicure; `Manicure > -` removes it."""
        first, sep, second = text.partition(">")
        if not sep or not first.strip() or not second.strip():
            raise InputError("error-pair-usage")
        async with self._db.transaction() as repos:
            after = await require_service_by_name(repos, first)
            suggested = (
                None if second.strip() == "-" else await require_service_by_name(repos, second)
            )
            if suggested is not None and suggested.id == after.id:
                raise InputError("error-pair-same")
            await repos.catalogue.set_cross_sell(after.id, suggested.id if suggested else None)
            return after.name, suggested.name if suggested else None

    async def add(
        self,
        *,
        name: str,
        price: int,
        cycle_days: int | None,
        duration_minutes: int | None,
        now: datetime,
    ) -> ServiceItem:
        clean = clean_text(name, error="error-service-name")
        async with self._db.transaction() as repos:
            await _refuse_duplicate(repos, clean, exclude_id=None)
            row = await repos.catalogue.add(
                name=clean,
                price=price,
                cycle_days=cycle_days,
                duration_minutes=duration_minutes or DEFAULT_DURATION,
                archived=False,
                created_at=now,
            )
            return ServiceItem.of(row)

    async def change(self, service_id: int, field: str, value: int | bool | None) -> ServiceItem:
        """Set one of price, cycle_days, duration_minutes or archived."""
        if field not in _EDITABLE:
            raise ValueError(f"not an editable field: {field}")
        async with self._db.transaction() as repos:
            row = await repos.catalogue.get(service_id)
            if row is None:
                raise InputError("error-service-unknown")
            setattr(row, field, value)
            return ServiceItem.of(row)


_EDITABLE = frozenset({"price", "cycle_days", "duration_minutes", "archived"})


async def require_service_by_name(repos: Repositories, name: str) -> Service:
    """The active service so named, or an error listing the names there are."""
    active = await repos.catalogue.active()
    found = _named(active, name)
    if found is None:
        names = ", ".join(row.name for row in active) or "—"
        raise InputError("error-service-not-found", names=names)
    return found


def _named(rows: Sequence[Service], name: str) -> Service | None:
    wanted = " ".join(name.casefold().split())
    return next((row for row in rows if row.name.casefold() == wanted), None)


async def _refuse_duplicate(repos: Repositories, name: str, exclude_id: int | None) -> None:
    wanted = name.casefold()
    for row in await repos.catalogue.active():
        if row.name.casefold() == wanted and row.id != exclude_id:
            raise InputError("error-service-exists", name=row.name)
