"""Russian without machine traces (issue 14, item 3): names stand alone in the nominative, no
internal names on the owner's screen, chart axes written the Russian way."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from services.charts import revenue_chart
from services.outbox_payloads import ReferralBonus, ReferralFriend
from tests.conftest import OWNER_ID, RunningBot, register
from ui.formatting import money_tick
from ui.i18n import LOCALES, Texts, create_i18n, tr_in
from ui.messages.base import RenderContext
from ui.messages.growth import referral_bonus, referral_friend
from ui.words import BUILT_IN_SOURCES, source_name

NAMES = ("Светлана Андреева", "Дарья", "Анна")
PERSON = r"\{(name|customer|friend|referrer|who)\}"
# A person's name right after a word that governs a case («для Анны», «от Анны», «у Анны»).
INFLECTING = re.compile(r"(для|от|у|по рекомендации|клиента|клиенту|друга)\s+" + PERSON)
INTERNAL = ("direct", "offline", "referral", "margin_percent", "lead_days")


def _russian_templates() -> list[str]:
    texts: list[str] = []
    for path in sorted((LOCALES / "ru" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="ru"):
                strings = message.string if isinstance(message.string, tuple) else [message.string]
                texts.extend(s for s in strings if s)
    return texts


def test_no_russian_text_puts_a_person_into_a_case() -> None:
    offenders = [text for text in _russian_templates() if INFLECTING.search(text)]
    assert offenders == []


@pytest.mark.parametrize("name", NAMES)
def test_names_appear_exactly_as_given(name: str) -> None:
    i18n = create_i18n("ru")
    texts = [
        tr_in(i18n, "ru", "winback-queued", name=name, when="завтра в 10:00"),
        tr_in(i18n, "ru", "winback-already", name=name),
        tr_in(i18n, "ru", "rb-owner-low-rating", stars=2, customer=name, comment="—"),
        tr_in(i18n, "ru", "sale-code-offer", customer=name, code="BDAY", percent=10),
        tr_in(i18n, "ru", "birthday-set-by-owner", customer=name, birthday="05.03"),
        tr_in(i18n, "ru", "error-phone-taken", who=name),
    ]
    for text in texts:
        assert f": {name}" in text, text  # after a colon: a label, never a case ending


@pytest.mark.parametrize(
    ("points", "word"), [(1, "балл"), (2, "балла"), (5, "баллов"), (21, "балл"), (300, "баллов")]
)
def test_referral_messages_name_the_person_and_count_the_points(points: int, word: str) -> None:
    context = RenderContext(create_i18n("ru"), "ru", 1, "RUB", ZoneInfo("Europe/Moscow"))
    bonus = referral_bonus(ReferralBonus(points, 900, friend="Дарья"), context).text
    assert bonus == (f"Первая покупка по вашей ссылке: Дарья. +{points} {word}! Ваш баланс: 900.")
    thanks = referral_friend(ReferralFriend(points, 0, referrer="Анна"), context).text
    assert f"{points} {word}. Кому: Анна." in thanks
    assert not re.search(r"\b(он|она) получил", thanks)


def test_hours_question_needs_no_case_for_the_weekday() -> None:
    i18n = create_i18n("ru")
    saturday = tr_in(i18n, "ru", "bk-weekday-long-5")
    assert tr_in(i18n, "ru", "bk-hours-ask", day=saturday).startswith(f"Часы работы — {saturday}:")


def test_every_built_in_source_has_words_in_both_languages() -> None:
    i18n = create_i18n("ru")
    for language in ("ru", "en"):
        for source in BUILT_IN_SOURCES:
            name = source_name(Texts(i18n, language), source)
            assert name != source and not name.startswith("words-")
    # A link the owner named stays as typed.
    assert source_name(Texts(i18n, "ru"), "insta_ads") == "insta_ads"


async def test_russian_owner_sees_words_not_keys(app: RunningBot) -> None:
    await register(app, 501, "Lena")  # came straight to the bot
    await app.user(502, first_name="Stranger", language_code="en").send("/start nobody_made_this")
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    await owner.send("/addcustomer Ivan +79160000001")  # added by hand

    await owner.send("/sources")
    sources = owner.last_text or ""
    assert "Сами нашли бота: " in sources and "Добавлены вручную: " in sources
    await owner.send("/settings")
    settings = owner.last_text or ""
    assert "Маржа" in settings
    await owner.send("/settings lead_days 5")  # the one-line form still takes the key
    saved = owner.last_text or ""
    await owner.send("/settings colour blue")
    unknown = owner.last_text or ""
    for text in (sources, settings, saved, unknown):
        for key in INTERNAL:
            assert key not in text, (key, text)
    assert "5" in saved


def test_chart_money_ticks_are_written_the_readers_way() -> None:
    assert money_tick(175000, "RUB", "ru") == "175\u00a0000\u00a0₽"
    assert money_tick(2500.0, "USD", "ru") == "2\u00a0500\u00a0$"
    assert money_tick(175000, "USD", "en") == "$175,000"
    png = revenue_chart(
        ["2026-10", "2026-11"],
        [100000.0, 150000.0],
        [50000.0, 25000.0],
        title="Выручка",
        first_label="первые",
        repeat_label="повторные",
        value_label=lambda value: money_tick(value, "RUB", "ru"),
    )
    assert png.startswith(b"\x89PNG")
