"""The owner's business knobs kept in the database, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database

DEFAULT_CURRENCY = "RUB"


@dataclass(frozen=True, slots=True)
class ShopProfile:
    currency: str = DEFAULT_CURRENCY


class ShopService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def profile(self) -> ShopProfile:
        async with self._db.reading() as repos:
            values = await repos.settings.all()
        return ShopProfile(currency=values.get("currency", DEFAULT_CURRENCY))
