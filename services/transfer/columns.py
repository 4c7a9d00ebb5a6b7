"""What each kind of file holds: its columns, which are required, how a customer is named."""

from __future__ import annotations

KINDS = ("customers", "purchases", "services")

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("external_id", "name", "phone", "telegram_id", "birthday", "source", "consent"),
    "purchases": ("customer", "date", "amount", "service"),
    # `archived` is ours: without it an archived service would come back as an active one.
    "services": ("name", "price", "cycle_days", "duration_minutes", "archived"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": (),
    "purchases": ("customer", "date", "amount"),
    "services": ("name", "price"),
}
IDENTITIES = ("external_id", "phone", "telegram_id")  # a customers file needs one of them


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")


def listed(kind: str) -> str:
    """The columns of `kind` as an error message lists them."""
    return ", ".join(COLUMNS[kind])
