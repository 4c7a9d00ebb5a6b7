"""A month in the life of a nail master's shop, end to end through the real bot (issue 14, "Done
when"): registrations (one through a referral deep link), one-line sales as people type them, a
rebooking reminder booked, seen in /me and moved, a question answered through the inbox, a low
rating with its reason, a win-back from the at-risk list, and /stats and /sources checked against
a count made here. Played twice: everyone speaking Russian, then everyone speaking English."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.i18n import Texts, create_i18n
from scheduler.jobs import run_job
from tests.conftest import OWNER_ID, RunningBot
from tests.fakes.telegram import TelegramUser

JSON = dict[str, Any]
START = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # Wednesday, 12:00 in Moscow

# What each language types (service names are the owner's own words, kept as typed).
WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "pedicure": "Педикюр",
        "manicure": "Маникюр гель",
        "yesterday": "вчера",
        "before_yesterday": "позавчера",
        "olga": "Ольга Смирнова",
        "question": "Здравствуйте! А можно прийти с подругой?",
        "answer": "Конечно, приходите вдвоём",
        "reason": "Покрытие откололось через два дня",
    },
    "en": {
        "pedicure": "Pedicure",
        "manicure": "Gel manicure",
        "yesterday": "yesterday",
        "before_yesterday": "the day before yesterday",
        "olga": "Olga Smirnova",
        "question": "Hello! Can I bring a friend?",
        "answer": "Of course, come together",
        "reason": "The gel chipped after two days",
    },
}
INTERNAL_WORDS = ("direct", "offline", "referral", "margin_percent", "lead_days")
TEXTS = Texts(create_i18n("ru"), "ru")


def texts(language: str) -> Texts:
    return Texts(TEXTS.i18n, language)


async def next_message(user: TelegramUser, after: int, seconds: float = 10.0) -> JSON:
    """The first bot message in the user's chat beyond the first `after` ones."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(user.messages) <= after:
        if loop.time() > deadline:
            raise AssertionError(f"no new message for {user}; last: {user.last_text!r}")
        await asyncio.sleep(0.02)
    return user.messages[after]


async def reply(person: TelegramUser, text: str, to: JSON) -> list[JSON]:
    """A Telegram reply to the bot's message `to`; the bot's answers in this chat."""
    mark = len(person.fake.calls)
    update = person.fake.user_message(
        person.id,
        text,
        first_name=person.first_name,
        last_name=person.last_name,
        language_code=person.language_code,
        reply_to_message=dict(to),
    )
    return await person._conversation_turn(update, mark, True, f"reply {text!r}")


async def deliver(app: RunningBot) -> None:
    await app.dp["delivery"].run_once(app.clock())


async def register_in(
    app: RunningBot, user_id: int, name: str, phone: str, language: str, start: str = "/start"
) -> TelegramUser:
    """/start, share the phone, skip the birthday, agree to offers — in the person's language."""
    t = texts(language)
    first, _, last = name.partition(" ")
    person = app.user(user_id, first_name=first, last_name=last or None, language_code=language)
    await person.send(start)
    await person.share_contact(phone)
    await person.send(t("button-skip"))
    await person.click(t("button-consent-yes"))
    return person


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_month_of_a_nail_master(app: RunningBot, language: str) -> None:
    w, t = WORDS[language], texts(language)
    app.clock.now = START
    owner = app.user(OWNER_ID, first_name="Owner", language_code=language)
    await owner.send(f"/addservice {w['pedicure']}; 1800; 21; 60")
    await owner.send(f"/addservice {w['manicure']}; 2700; 21; 90")

    # --- customers register; one through Anna's referral deep link ------------------------------
    anna = await register_in(app, 501, "Анна", "79990000001", language)
    olga = await register_in(app, 502, w["olga"], "79990000002", language)
    maria = await register_in(app, 503, "Мария", "79990000003", language)
    me = (await anna.send("/me"))[0]["text"]
    code = re.search(r"\?start=(r_\S+)", me)
    assert code is not None, me
    lena = await register_in(
        app, 504, "Лена", "79990000004", language, start=f"/start {code.group(1)}"
    )

    # --- one-line sales as people type them ------------------------------------------------------
    await owner.send(f"/sale +79990000001 1 800 ₽ {w['pedicure']} {w['yesterday']}")
    await owner.send(f"/sale {w['olga']} 2700 {w['manicure']}")
    await owner.send(f"/sale +79990000003 2700 {w['manicure']} 2026-09-01")
    await owner.send(f"/sale +79990000004 2 700 ₽ {w['manicure']} {w['before_yesterday']}")
    await owner.send(f"/sale +79990000009 2 500 ₽ {w['manicure']}")
    print(owner.last_text)
    await owner.click(owner.inline_buttons()[0]["text"])
    await deliver(app)

    # --- three hours later: how was it? Olga rates low, with a reason ---------------------------
    app.clock.advance(hours=3)
    queued = await run_job("feedback", app.db, app.settings.zone, app.clock())
    print("feedback", queued)
    seen = len(olga.messages)
    await deliver(app)
    question = await next_message(olga, seen)
    owner_seen = len(owner.messages)
    await olga.click("⭐⭐", message=question)
    await olga.send(w["reason"])
    await deliver(app)
    print("ALERTS", [m.get("text") for m in owner.messages[owner_seen:]])

    # --- 17 days on: rebooking reminders ---------------------------------------------------------
    app.clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    seen = {p.id: len(p.messages) for p in (anna, olga, maria, lena)}
    print("rebooking", await run_job("rebooking", app.db, app.settings.zone, app.clock()))
    await deliver(app)
    reminder = await next_message(anna, seen[anna.id])
    assert w["pedicure"] in reminder["text"]
    others = {t("rb-button-other-time"), t("rb-button-not-now")}
    slots = [b["text"] for b in anna.inline_buttons(reminder) if b["text"] not in others]
    await anna.click(slots[0], message=reminder)
    print("BOOKED", anna.last_text)

    # She sees it in /me and moves it.
    replies = await anna.send("/me")
    print("ME", [r["text"] for r in replies])
    [mine] = [r for r in replies if t("bk-button-move") in {b["text"] for b in anna.inline_buttons(r)}]
    await anna.click(t("bk-button-move"), message=mine)
    print("PICK", anna.last_text, [b["text"] for b in anna.inline_buttons()])

    # --- Olga answers her reminder with a question; the master answers by replying --------------
    olga_reminder = await next_message(olga, seen[olga.id])
    owner_seen = len(owner.messages)
    await reply(olga, w["question"], olga_reminder)
    print("OLGA", olga.last_text)
    await deliver(app)
    copy = await next_message(owner, owner_seen)
    print("COPY", copy["text"])
    await owner.send("/inbox")
    print("INBOX", owner.last_text)
    await reply(owner, w["answer"], copy)
    print("ANS", owner.last_text)
    await deliver(app)
    print("OLGA GOT", olga.last_text)
    await owner.send("/inbox")
    print("INBOX", owner.last_text)

    for person in (owner, anna, olga, maria, lena):
        for m in person.messages:
            print(person.id, "|", m.get("text") or m.get("caption"))
