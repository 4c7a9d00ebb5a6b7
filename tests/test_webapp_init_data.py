"""The test helper signs Mini App init data exactly as aiogram (and Telegram) check it."""

from __future__ import annotations

import pytest
from aiogram.utils.web_app import safe_parse_webapp_init_data

from tests.fakes.webapp import forged_init_data, signed_init_data

TOKEN = "123456:TEST-TOKEN"
ANNA = {"id": 42, "first_name": "Анна", "language_code": "ru"}


def test_signed_init_data_is_accepted_by_aiogram() -> None:
    data = safe_parse_webapp_init_data(
        TOKEN, signed_init_data(TOKEN, ANNA, auth_date=1_800_000_000)
    )
    assert data.user is not None
    assert (data.user.id, data.user.first_name) == (42, "Анна")
    assert int(data.auth_date.timestamp()) == 1_800_000_000
    assert data.query_id == "AAH"


def test_init_data_signed_with_another_token_is_refused() -> None:
    with pytest.raises(ValueError):
        safe_parse_webapp_init_data(TOKEN, forged_init_data(TOKEN, ANNA))


def test_changed_user_breaks_the_signature() -> None:
    raw = signed_init_data(TOKEN, ANNA).replace("42", "43")
    with pytest.raises(ValueError):
        safe_parse_webapp_init_data(TOKEN, raw)
