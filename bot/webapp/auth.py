"""Who is calling the Mini App's API: Telegram's launch data, checked, and the caller's role.

Every request carries `Authorization: tma <initData>`. The signature is checked with aiogram's
`safe_parse_webapp_init_data` (HMAC-SHA256 keyed with the bot token, as Telegram signs it:
https://core.telegram.org/bots/webapps#validating-data-received-via-the-web-app); `auth_date`
must be younger than WEBAPP_AUTH_MAX_AGE_HOURS and not in the future (a little clock skew is
forgiven). The role: an owner (OWNER_IDS), a customer (a customer row with that Telegram id,
as chat's /book accepts), else a guest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiogram.utils.web_app import WebAppInitData, WebAppUser, safe_parse_webapp_init_data
from pydantic import ValidationError

from services.dto import CustomerCard

SCHEME = "tma "
CLOCK_SKEW = timedelta(minutes=5)
MAX_INIT_DATA = 4096  # Telegram's launch data is a few hundred bytes

Role = Literal["owner", "customer", "guest"]


class Unauthorized(Exception):
    """The request's launch data is missing, forged or too old (the reason is for the log)."""


@dataclass(frozen=True, slots=True)
class Caller:
    user: WebAppUser
    role: Role
    language: str
    customer: CustomerCard | None  # the caller's own record (an owner may have one too)


def authorization(header: str | None) -> str:
    """The raw init data of an `Authorization: tma <initData>` header."""
    if not header or not header.startswith(SCHEME):
        raise Unauthorized("no tma authorization header")
    raw = header[len(SCHEME) :].strip()
    if not raw or len(raw) > MAX_INIT_DATA:
        raise Unauthorized("empty or oversized init data")
    return raw


def check_init_data(
    token: str, raw: str, now: datetime, max_age: timedelta
) -> tuple[WebAppInitData, WebAppUser]:
    """The launch data and its user when the signature holds and `auth_date` is fresh."""
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except (ValueError, ValidationError) as exc:  # a bad signature or unreadable fields
        raise Unauthorized(f"init data rejected: {type(exc).__name__}") from None
    if data.user is None:
        raise Unauthorized("init data without a user")
    signed = data.auth_date if data.auth_date.tzinfo else data.auth_date.replace(tzinfo=UTC)
    if signed > now + CLOCK_SKEW:
        raise Unauthorized("auth_date in the future")
    if now - signed > max_age:
        raise Unauthorized("auth_date too old")
    return data, data.user
