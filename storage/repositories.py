"""The repositories of one transaction, handed to services together."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.catalogue import CatalogueRepository
from storage.customers import CustomerRepository
from storage.outbox import OutboxRepository
from storage.purchases import PurchaseRepository
from storage.shop_settings import ShopSettingsRepository


class Repositories:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.customers = CustomerRepository(session)
        self.purchases = PurchaseRepository(session)
        self.catalogue = CatalogueRepository(session)
        self.settings = ShopSettingsRepository(session)
        self.outbox = OutboxRepository(session)
