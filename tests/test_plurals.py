"""Counts read naturally: each plural text picks the right Russian form (1, 2, 5 покупок)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from ui.formatting import format_number, format_percent
from ui.i18n import LOCALES, Texts, create_i18n, trn_in

COUNTS = (1, 2, 5, 11, 21, 22, 25)


def _plural_ids() -> list[str]:
    ids: list[str] = []
    for path in sorted((LOCALES / "ru" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            ids.extend(m.id[0] for m in read_po(po, locale="ru") if isinstance(m.id, tuple))
    return ids


def _params(template: str) -> dict[str, str]:
    return {name: "X" for name in re.findall(r"\{(\w+)\}", template) if name != "n"}


def test_there_are_plural_texts() -> None:
    assert len(_plural_ids()) >= 7


@pytest.mark.parametrize("key", _plural_ids())
def test_russian_picks_one_of_three_forms(key: str) -> None:
    i18n = create_i18n("ru")
    template = {n: i18n.gettext(key, key, n, locale="ru") for n in COUNTS}
    assert template[1] == template[21] != key
    assert template[2] == template[22]
    assert template[5] == template[11] == template[25]
    assert len({template[1], template[2], template[5]}) == 3, template
    for n in COUNTS:
        text = trn_in(i18n, "ru", key, n, **_params(template[n]))
        assert text.strip(), (key, n)
        assert str(n) in text, (key, n, text)


@pytest.mark.parametrize("key", _plural_ids())
def test_english_has_singular_and_plural(key: str) -> None:
    i18n = create_i18n("ru")
    template = {n: i18n.gettext(key, key, n, locale="en") for n in COUNTS}
    assert template[1] != key
    assert all(template[n] == template[2] for n in COUNTS if n != 1)
    for n in COUNTS:
        text = trn_in(i18n, "en", key, n, **_params(template[n]))
        assert text.strip() and str(n) in text, (key, n, text)


def test_numbers_follow_the_readers_language() -> None:
    assert format_number(4.654, 2, "ru") == "4,65"
    assert format_number(4.654, 2, "en") == "4.65"
    assert format_number(175000, 0, "ru") == "175\u00a0000"
    assert format_number(175000, 0, "en") == "175,000"
    assert format_number(-1234.5, 1, "ru") == "-1\u00a0234,5"
    assert format_number(None, 1, "ru") == "—"
    assert format_percent(0.2926, 1, "ru") == "29,3\u00a0%"
    assert format_percent(0.2926, 0, "en") == "29\u00a0%"


def test_texts_object_speaks_its_language() -> None:
    i18n = create_i18n("ru")
    key = _plural_ids()[0]
    params = _params(i18n.gettext(key, key, 21, locale="ru"))
    ru = Texts(i18n, "ru")
    assert ru.language == "ru"
    assert ru.plural(key, 21, **params) == trn_in(i18n, "ru", key, 21, **params)
    assert Texts(i18n, "en")("stats-verdict-good") == i18n.gettext(
        "stats-verdict-good", locale="en"
    )
