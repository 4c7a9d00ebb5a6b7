"""Storage's own exceptions: what a constraint refused, in words services can catch.

Services never see the driver's errors (sqlalchemy's IntegrityError differs by engine and
carries no meaning); the repository that knows which constraint a write can hit turns it
into one of these.
"""

from __future__ import annotations


class StorageConflict(Exception):
    """A write refused by a uniqueness rule; the transaction must be rolled back."""


class CellsTaken(StorageConflict):
    """Another booking holds one of the master's time cells (their primary key)."""
