"""Money as integer minor units, shown the way the shop's currency is written."""

from __future__ import annotations

_SYMBOLS = {"RUB": "₽", "EUR": "€", "USD": "$", "KZT": "₸", "UAH": "₴", "GBP": "£"}
_PREFIXED = {"USD", "GBP"}


def currency_symbol(currency: str) -> str:
    return _SYMBOLS.get(currency, currency)


def format_money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = _SYMBOLS.get(currency, currency)
    if currency in _PREFIXED:  # $2,500.50
        number = f"{whole:,}" + (f".{cents:02d}" if cents else "")
        return f"{sign}{symbol}{number}"
    # 2 500,50 ₽ (a no-break space keeps the number on one line)
    number = f"{whole:,}".replace(",", "\u00a0") + (f",{cents:02d}" if cents else "")
    return f"{sign}{number}\u00a0{symbol}"
