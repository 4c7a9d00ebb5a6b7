"""The repositories of one transaction, handed to services together."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.analytics import AnalyticsQueries
from storage.bookings import BookingRepository
from storage.catalogue import CatalogueRepository
from storage.customer_list import CustomerListQueries
from storage.customers import CustomerRepository
from storage.growth import GrowthRepository
from storage.inbox import InboxRepository
from storage.once import OnceRepository
from storage.outbox import OutboxRepository
from storage.purchases import PurchaseRepository
from storage.reachability import ReachabilityRepository
from storage.retention import RetentionRepository
from storage.shop_settings import ShopSettingsRepository
from storage.transfer import TransferRepository


class Repositories:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.customers = CustomerRepository(session)
        self.purchases = PurchaseRepository(session)
        self.catalogue = CatalogueRepository(session)
        self.settings = ShopSettingsRepository(session)
        self.outbox = OutboxRepository(session)
        self.retention = RetentionRepository(session)
        self.growth = GrowthRepository(session)
        self.inbox = InboxRepository(session)
        self.bookings = BookingRepository(session)
        self.once = OnceRepository(session)
        self.transfer = TransferRepository(session)
        self.reachability = ReachabilityRepository(session)
        self.analytics = AnalyticsQueries(session)
        # issue 12: the Mini App's customer list
        self.customer_list = CustomerListQueries(session)
