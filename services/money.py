"""Money as integer minor units, shown the way the shop's currency is written."""

from __future__ import annotations

_SYMBOLS = {"RUB": "₽", "EUR": "€", "USD": "$", "KZT": "₸", "UAH": "₴", "GBP": "£"}
_PREFIXED = {"USD", "GBP"}


def format_money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    number = f"{whole:,}".replace(",", "\u00a0")
    if cents:
        number += f",{cents:02d}"
    symbol = _SYMBOLS.get(currency, currency)
    if currency in _PREFIXED:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number}\u00a0{symbol}"
