"""The Mini App API's JSON: plain dicts from the services' data (the contract in the README's
"Mini App" section and briefs' webapp_api.md). Times carry the shop's offset; money is minor
units with its text written the shop's way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from services.bookings import BookingItem
from services.customer_list import CustomerDetail, CustomerListItem
from services.dto import ServiceItem
from services.money import format_money
from services.webapp_calendar import DayView

Json = dict[str, Any]


def money(amount: float | None, currency: str) -> Json | None:
    if amount is None:
        return None
    minor = round(amount)
    return {"amount": minor, "currency": currency, "text": format_money(minor, currency)}


def moment(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat()


def clock(value: time) -> str:
    return value.strftime("%H:%M")


def booking(item: BookingItem, zone: ZoneInfo, currency: str) -> Json:
    return {
        "id": item.id,
        "start": moment(item.starts_at, zone),
        "end": moment(item.ends_at, zone),
        "status": item.status,
        "confirmed": item.confirmed,
        "customer": {
            "id": item.customer.id,
            "name": item.customer.name or "",
            "phone": item.customer.phone,
        },
        "service": {"id": item.service.id, "name": item.service.name},
        "price": money(item.service.price, currency),
    }


def slots(values: Sequence[datetime], zone: ZoneInfo) -> list[str]:
    return [moment(v, zone) for v in values]


def day(view: DayView, zone: ZoneInfo, currency: str) -> Json:
    return {
        "date": view.day.isoformat(),
        "day_off": view.day_off,
        "hours": (
            [{"start": clock(view.hours[0]), "end": clock(view.hours[1])}]
            if view.hours is not None and not view.day_off
            else []
        ),
        "bookings": [booking(b, zone, currency) for b in view.bookings],
        "free": [{"start": moment(s, zone), "end": moment(e, zone)} for s, e in view.free],
        "blocks": [{"start": moment(s, zone), "end": moment(e, zone)} for s, e in view.blocks],
    }


def service(item: ServiceItem, currency: str) -> Json:
    return {
        "id": item.id,
        "name": item.name,
        "price": money(item.price, currency),
        "minutes": item.duration_minutes,
    }


def customer_item(item: CustomerListItem, currency: str) -> Json:
    return {
        "id": item.id,
        "name": item.name or "",
        "phone": item.phone,
        "last_visit": _day(item.last_visit),
        "visits": item.visits,
        "total": money(item.total, currency),
        "predicted": money(item.predicted, currency),
        "at_risk": item.at_risk,
    }


def customer_detail(detail: CustomerDetail, currency: str) -> Json:
    birthday = detail.birthday
    return {
        **customer_item(detail.item, currency),
        "points": detail.points,
        "birthday": f"{birthday.day:02d}.{birthday.month:02d}" if birthday else None,
        "source": detail.card.source,
        "consent": bool(detail.card.consent),
        "no_shows": detail.lost.no_shows,  # issue 13
        "late_cancels": detail.lost.late_cancels,
        "history": [
            {
                "date": p.day.isoformat(),
                "service": p.service or "",
                "amount": money(p.amount, currency),
            }
            for p in detail.history
        ],
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
