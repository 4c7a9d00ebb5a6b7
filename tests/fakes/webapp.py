"""Mini App launch data signed the way Telegram signs it, for API and browser tests.

Telegram hands a Mini App ``initData``: a query string with ``user`` (JSON), ``auth_date``,
``query_id`` and ``hash``, where ``hash`` is HMAC-SHA256 over the other fields sorted by
name and joined with newlines, keyed with HMAC-SHA256("WebAppData", bot token)
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-web-app).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode


def signed_init_data(
    bot_token: str,
    user: dict[str, Any],
    *,
    auth_date: int | None = None,
    query_id: str = "AAH",
) -> str:
    """An ``initData`` string for ``user`` that the bot's token validates.

    ``auth_date`` is Unix seconds (default: now by the wall clock); tests that run on a
    fake clock pass it from that clock.
    """
    fields = {
        "query_id": query_id,
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
    }
    check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def forged_init_data(bot_token: str, user: dict[str, Any], *, auth_date: int | None = None) -> str:
    """Init data for ``user`` signed with the wrong token (what an impostor could make)."""
    return signed_init_data(bot_token + "x", user, auth_date=auth_date)
