"""A month in the life of a nail master's shop, end to end through the real bot (issue 14, "Done
when"): registrations (one through a referral deep link), one-line sales as people type them, a
rebooking reminder booked, seen in /me and moved, a question answered through the inbox, a low
rating with its reason, a win-back from the at-risk list, and /stats and /sources checked against
a count made here. Played twice: everyone speaking Russian, then everyone speaking English."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.jobs import run_job
from storage.models import Purchase
from tests.conftest import OWNER_ID, RunningBot, drained
from tests.fakes.telegram import TelegramUser
from ui.i18n import Texts, create_i18n

JSON = dict[str, Any]
START = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # Wednesday, 12:00 in Moscow
TODAY = date(2026, 12, 2)  # the last day of the story

# What each language types (service names are the owner's own words, kept as typed).
WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "pedicure": "Педикюр",
        "manicure": "Маникюр гель",
        "yesterday": "вчера",
        "two_days_ago": "позавчера",
        "olga": "Ольга Смирнова",
        "question": "Здравствуйте! А можно прийти с подругой?",
        "answer": "Конечно, приходите вдвоём",
        "reason": "Покрытие откололось через два дня",
    },
    "en": {
        "pedicure": "Pedicure",
        "manicure": "Gel manicure",
        "yesterday": "yesterday",
        "two_days_ago": "on monday",  # English has no one word for «позавчера»
        "olga": "Olga Smirnova",
        "question": "Hello! Can I bring a friend?",
        "answer": "Of course, come together",
        "reason": "The gel chipped after two days",
    },
}
DAY = {"ru": "Ср 25.11", "en": "Wed 25.11"}  # the day Anna moves her booking to
# What a person reads, by language, where no single text id gives it.
READS: dict[str, dict[str, str]] = {
    "ru": {
        "booked": "Вы записаны: Педикюр,",
        "moved": "Запись перенесена: Педикюр, теперь Ср 25.11 12:00.",
        "booking": "Ваша запись: Педикюр, Ср 25.11 12:00.",
        "low": "Низкая оценка 2/5",
        "winback": "мы по вам соскучились",
        "passed": "Сообщение передано мастеру",
        "answer": "Ответ мастера:",
        "customers": "Клиенты: {total} · покупали: {buying} · новых за 90 дней: {new}",
    },
    "en": {
        "booked": "Booked: Pedicure,",
        "moved": "Moved: Pedicure, now Wed 25.11 12:00.",
        "booking": "Your booking: Pedicure, Wed 25.11 12:00.",
        "low": "Low rating 2/5",
        "winback": "we miss you",
        "passed": "passed on to the master",
        "answer": "The master's answer:",
        "customers": "Customers: {total} · buying {buying} · new in 90 days {new}",
    },
}
INTERNAL_WORDS = ("direct", "offline", "referral", "margin_percent", "lead_days")
GENDER_CRUTCHES = ("(а)", "(ла)")
# Latin letters a Russian owner reads as the shop's terms, not as English.
LATIN_ALLOWED = frozenset({"LTV", "CAC", "ABC", "A", "B", "C", "RUB"})
I18N = create_i18n("ru")


def texts(language: str) -> Texts:
    return Texts(I18N, language)


@dataclass(frozen=True)
class Sale:
    customer: str
    day: date
    amount: int  # roubles


def plain(text: str) -> str:
    """Non-breaking and thin spaces as ordinary ones, to compare figures."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def ru_plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian rule, written out here so the bot's plural forms are checked, not copied."""
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


def bot_texts(app: RunningBot) -> list[str]:
    """Every text the bot sent or showed: messages, captions, edits, copies and alerts."""
    methods = {
        "sendmessage",
        "sendphoto",
        "editmessagetext",
        "editmessagecaption",
        "copymessage",
        "answercallbackquery",
    }
    found = []
    for call in app.fake.calls:
        if call.ok and call.method.lower() in methods:
            text = call.params.get("text") or call.params.get("caption")
            if text:
                found.append(str(text))
    return found


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
    await drained(app)  # the owner's "new customer" notice
    return person


@dataclass
class Story:
    """The shop, its people and the sales logged so far, handed from one part of the month on."""

    app: RunningBot
    language: str
    owner: TelegramUser
    anna: TelegramUser
    olga: TelegramUser
    maria: TelegramUser
    lena: TelegramUser
    sales: list[Sale] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=dict)  # messages each person had before a step

    @property
    def w(self) -> dict[str, str]:
        return WORDS[self.language]

    @property
    def t(self) -> Texts:
        return texts(self.language)

    @property
    def reads(self) -> dict[str, str]:
        return READS[self.language]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_month_of_a_nail_master(app: RunningBot, language: str) -> None:
    s = await open_the_shop(app, language)
    await log_first_sales(s)
    await low_rating(s)
    await book_from_the_reminder(s)
    await question_and_answer(s)
    await repeat_visits(s)
    await win_back(s)
    await check_stats(s)
    await check_sources(s)
    check_every_text(s)


async def open_the_shop(app: RunningBot, language: str) -> Story:
    """Services, and customers registering; Lena through Anna's referral deep link."""
    w, t = WORDS[language], texts(language)
    app.clock.now = START
    owner = app.user(OWNER_ID, first_name="Owner", language_code=language)
    await owner.send(f"/addservice {w['pedicure']}; 1800; 21; 60")
    await owner.send(f"/addservice {w['manicure']}; 2700; 21; 90")
    anna = await register_in(app, 501, "Анна", "79990000001", language)
    olga = await register_in(app, 502, w["olga"], "79990000002", language)
    maria = await register_in(app, 503, "Мария", "79990000003", language)
    me = (await anna.send("/me"))[0]["text"]
    code = re.search(r"\?start=(r_\S+)", me)
    assert code is not None, me
    lena = await register_in(
        app, 504, "Лена", "79990000004", language, start=f"/start {code.group(1)}"
    )
    notices = [m["text"] for m in owner.messages if "+79990000004" in m.get("text", "")]
    assert t("words-source-referral") in notices[0]

    return Story(app, language, owner, anna, olga, maria, lena)


async def log_first_sales(s: Story) -> None:
    """One-line sales as people type them."""
    app = s.app
    w = s.w
    owner = s.owner
    anna = s.anna
    sales = s.sales
    await owner.send(f"/sale +79990000001 1 800 ₽ {w['pedicure']} {w['yesterday']}")
    sales.append(Sale("anna", date(2026, 11, 3), 1800))
    await owner.send(f"/sale {w['olga']} 2700 {w['manicure']}")  # a name without quotes
    sales.append(Sale("olga", date(2026, 11, 4), 2700))
    await owner.send(f"/sale +79990000003 2700 {w['manicure']} 2026-09-01")
    sales.append(Sale("maria", date(2026, 9, 1), 2700))
    await owner.send(f"/sale +79990000004 2 700 ₽ {w['manicure']} {w['two_days_ago']}")
    sales.append(Sale("lena", date(2026, 11, 2), 2700))
    # An unknown phone: the customer is added with the sale in one tap.
    await owner.send(f"/sale +79990000009 2 500 ₽ {w['manicure']}")
    assert "+79990000009" in (owner.last_text or "")
    [add] = owner.inline_buttons()
    await owner.click(add["text"])
    sales.append(Sale("walk-in", date(2026, 11, 4), 2500))
    await deliver(app)
    async with app.db.reading() as repos:
        logged = sorted(
            (p.purchased_at.astimezone(app.settings.zone).date(), p.amount // 100)
            for p in await repos.session.scalars(select(Purchase))
        )
    assert logged == sorted((x.day, x.amount) for x in sales)
    # Lena's first purchase earned Anna the referral bonus.
    assert any("300" in m.get("text", "") and "Лена" in m["text"] for m in anna.messages)


async def low_rating(s: Story) -> None:
    """Three hours later: how was it? Olga rates low, with a reason."""
    app = s.app
    w = s.w
    reads = s.reads
    owner = s.owner
    olga = s.olga
    app.clock.advance(hours=3)
    assert await run_job("feedback", app.db, app.settings.zone, app.clock()) >= 1
    seen_olga = len(olga.messages)
    await deliver(app)
    question = await next_message(olga, seen_olga)
    owner_seen = len(owner.messages)
    await olga.click("⭐⭐", message=question)
    await olga.send(w["reason"])
    await deliver(app)
    alerts = [m["text"] for m in owner.messages[owner_seen:]]
    assert any(reads["low"] in a and w["reason"] in a for a in alerts), alerts


async def book_from_the_reminder(s: Story) -> None:
    """17 days after: rebooking reminders; Anna books from hers, sees it, moves it."""
    app = s.app
    w = s.w
    t = s.t
    reads = s.reads
    language = s.language
    anna = s.anna
    olga = s.olga
    maria = s.maria
    lena = s.lena
    seen = s.seen
    app.clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    seen.update({p.id: len(p.messages) for p in (anna, olga, maria, lena)})
    assert await run_job("rebooking", app.db, app.settings.zone, app.clock()) >= 2
    await deliver(app)
    reminder = await next_message(anna, seen[anna.id])
    assert w["pedicure"] in reminder["text"]
    others = {t("rb-button-other-time"), t("rb-button-not-now")}
    slots = [b["text"] for b in anna.inline_buttons(reminder) if b["text"] not in others]
    await anna.click(slots[0], message=reminder)
    assert (anna.last_text or "").startswith(reads["booked"])

    # She sees it in /me and moves it to Wednesday noon.
    replies = await anna.send("/me")
    [mine] = [
        r for r in replies if t("bk-button-move") in [b["text"] for b in anna.inline_buttons(r)]
    ]
    assert t("bk-button-cancel") in [b["text"] for b in anna.inline_buttons(mine)]
    await anna.click(t("bk-button-move"), message=mine)
    await anna.click(DAY[language])
    await anna.click("12:00")
    assert (anna.last_text or "").startswith(reads["moved"])
    replies = await anna.send("/me")
    assert replies[-1]["text"].startswith(reads["booking"])


async def question_and_answer(s: Story) -> None:
    """Olga answers her reminder with a question; the master answers by replying."""
    app = s.app
    w = s.w
    t = s.t
    reads = s.reads
    owner = s.owner
    olga = s.olga
    seen = s.seen
    olga_reminder = await next_message(olga, seen[olga.id])
    await drained(app)  # the notice of Anna's move is out before we count the owner's messages
    owner_seen = len(owner.messages)
    answered = await reply(olga, w["question"], olga_reminder)
    assert reads["passed"] in answered[-1]["text"]
    await deliver(app)
    copy = await next_message(owner, owner_seen)
    assert w["question"] in copy["text"] and w["olga"] in copy["text"]
    assert olga_reminder["text"].split("\n")[0][:40] in copy["text"]  # what it answers
    await owner.send("/inbox")
    assert w["question"] in (owner.last_text or "")
    await reply(owner, w["answer"], copy)
    await deliver(app)
    assert olga.last_text == f"{reads['answer']}\n\n{w['answer']}"
    await owner.send("/inbox")
    assert owner.last_text == t("inbox-list-empty")


async def repeat_visits(s: Story) -> None:
    """The month goes on: two repeat visits."""
    app = s.app
    w = s.w
    owner = s.owner
    sales = s.sales
    app.clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    await owner.send(f"/sale +79990000004 2 700 ₽ {w['manicure']} {w['yesterday']}")
    sales.append(Sale("lena", date(2026, 11, 25), 2700))
    await owner.send(f"/sale {w['olga']} 2700 {w['manicure']}")
    sales.append(Sale("olga", date(2026, 11, 26), 2700))
    await deliver(app)


async def win_back(s: Story) -> None:
    """December 2: a win-back from the at-risk list."""
    app = s.app
    t = s.t
    reads = s.reads
    language = s.language
    owner = s.owner
    maria = s.maria
    app.clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    await owner.send("/stats")
    await owner.click(t("button-stats-risk"))
    risk = plain(owner.last_text or "")
    assert "Мария" in risk and "Анна" not in risk
    seen_maria = len(maria.messages)
    await owner.click(t("button-winback", name="Мария"))
    await deliver(app)
    assert reads["winback"] in (await next_message(maria, seen_maria))["text"]
    if language == "ru":
        assert ru_plural((TODAY - date(2026, 9, 1)).days, "день", "дня", "дней") in risk


async def check_stats(s: Story) -> None:
    """/stats against a count made here."""
    reads = s.reads
    language = s.language
    owner = s.owner
    sales = s.sales
    await owner.send("/stats")
    stats = plain(owner.last_text or "")
    first_day: dict[str, date] = {}
    for sale in sorted(sales, key=lambda x: x.day):
        first_day.setdefault(sale.customer, sale.day)
    window = [x for x in sales if TODAY - timedelta(days=90) < x.day <= TODAY]
    firsts = [x for x in window if first_day[x.customer] == x.day]
    repeats = len(window) - len(firsts)
    new = sum(TODAY - timedelta(days=90) < day <= TODAY for day in first_day.values())
    line = reads["customers"].format(total=5, buying=len(first_day), new=new)
    assert line in stats, stats
    assert (len(first_day), new, len(window), repeats) == (5, 4, 6, 2)
    share = f"{round(100 * repeats / len(window))} %"
    assert f"({share})" in stats
    aov = sum(x.amount for x in sales) / len(sales)
    per_customer = len(sales) / len(first_day)
    if language == "ru":
        assert ru_plural(len(window), "покупка", "покупки", "покупок") in stats
        assert ru_plural(1, "покупка", "покупки", "покупок") in stats  # the 90 days before
        assert f"Средний чек: {aov:,.2f} ₽".replace(",", " ").replace(".", ",") in stats
        assert f"Покупок на клиента: {per_customer:.2f}".replace(".", ",") in stats
    else:
        assert f"Purchases per customer: {per_customer:.2f}" in stats


async def check_sources(s: Story) -> None:
    """/sources: who came from where, counted here."""
    t = s.t
    owner = s.owner
    sales = s.sales
    await owner.send("/sources")
    sources = plain(owner.last_text or "")
    revenue = {
        "direct": sum(x.amount for x in sales if x.customer in {"anna", "olga", "maria"}),
        "referral": sum(x.amount for x in sales if x.customer == "lena"),
        "offline": sum(x.amount for x in sales if x.customer == "walk-in"),
    }
    counts = {"direct": (3, 3), "referral": (1, 1), "offline": (0, 1)}
    for source, (registered, buyers) in counts.items():
        money = f"{revenue[source]:,} ₽".replace(",", " ")
        expected = f"{t(f'words-source-{source}')}: 0 · {registered} · {buyers} · {money}"
        assert expected in sources, sources


def check_every_text(s: Story) -> None:
    """Every message of the month, read as the owner and the customers read it."""
    app = s.app
    language = s.language
    everything = bot_texts(app)
    assert len(everything) > 60
    for text in everything:
        assert "{" not in text, text
        assert len(text) <= 4096
        if language == "ru":
            assert not any(crutch in text for crutch in GENDER_CRUTCHES), text
            assert not any(word in text for word in INTERNAL_WORDS), text
            assert latin_words(text) <= LATIN_ALLOWED, text


def latin_words(text: str) -> set[str]:
    """Latin words left once links, commands and usernames are taken out."""
    text = re.sub(r"https?://\S+|/[a-z_]+|@\w+", " ", text)
    return set(re.findall(r"[A-Za-z]+", text))
