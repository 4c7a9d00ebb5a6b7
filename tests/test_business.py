"""Telegram Business (issue 11), end to end against the fake Bot API: the owner's connection,
clients captured from the owner's own chats, a sale typed in a client's chat, free slots on
request through the connection, the daily digest with its rebooking list, privacy."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from sqlalchemy import select

from services.bookings import BookingService
from services.business import BusinessService
from services.business_phrases import DEFAULT_PHRASES, asks_for_time, parse_phrases
from services.business_scan import business_scan
from services.campaign_results import CampaignResults
from services.catalogue import CatalogueService
from services.customers import TelegramPerson
from services.errors import InputError
from services.privacy import PrivacyService
from services.schedule import nearest_slots
from services.transfer.export import export_csv
from storage.database import Database
from storage.models import (
    BusinessChat,
    BusinessConnection,
    Customer,
    OutboxMessage,
    Purchase,
)
from tests.conftest import OWNER_ID, RunningBot, drained, register
from tests.fakes.business import PEER_USAGE_MISSING

CLIENT = 4242
READ_ONLY = ("can_read_messages",)


async def handled(app: RunningBot, update: dict[str, Any]) -> None:
    await app.fake.wait_until_handled(update)


async def connect(app: RunningBot, rights: tuple[str, ...] | None = None, **kw: Any) -> None:
    if rights is None:
        await handled(app, app.fake.business.connect(OWNER_ID, **kw))
    else:
        await handled(app, app.fake.business.connect(OWNER_ID, rights=rights, **kw))


async def rows(app: RunningBot, model: Any, *where: Any) -> list[Any]:
    async with app.db.reading() as repos:
        return list((await repos.session.scalars(select(model).where(*where))).all())


def owner_texts(app: RunningBot) -> list[str]:
    return [m.get("text", "") for m in app.fake.sent_messages(OWNER_ID)]


async def add_service(app: RunningBot, name: str = "Маникюр", cycle: int | None = 21) -> int:
    item = await CatalogueService(app.db).add(
        name=name, price=250000, cycle_days=cycle, duration_minutes=60, now=app.clock.now
    )
    return item.id


async def scan(app: RunningBot) -> int:
    queued = await business_scan(app.db, app.settings.zone, app.clock.now)
    await drained(app)
    return queued


async def slot_rows(app: RunningBot) -> int:
    """Scan, then count the free-slots answers queued so far (the digest is counted apart)."""
    await scan(app)
    return len(await rows(app, OutboxMessage, OutboxMessage.kind == "business_slots"))


# --- 1. the connection ------------------------------------------------------------------------


async def test_owner_connection_is_stored_and_the_rights_explained(app: RunningBot) -> None:
    await connect(app)
    [row] = await rows(app, BusinessConnection)
    assert row.user_id == OWNER_ID and row.is_enabled
    assert "can_reply" in json.loads(row.rights)
    [text] = owner_texts(app)
    assert "подключён" in text
    assert "«+2500 маникюр»" in text  # the sale marker, as /settings has it
    assert "сразу удалит" in text  # may delete the owner's line
    assert "выключен" in text  # may reply, but free slots are off until /settings


async def test_without_the_reply_right_the_owner_hears_nothing_is_sent(app: RunningBot) -> None:
    await connect(app, READ_ONLY)
    [text] = owner_texts(app)
    assert "ничего не отправляет" in text
    assert "удалять строку с продажей из чата бот не может" in text.lower()


async def test_a_connection_by_someone_else_is_ignored(app: RunningBot) -> None:
    await handled(app, app.fake.business.connect(555, connection_id="stranger"))
    assert await rows(app, BusinessConnection) == []
    assert app.fake.sent_messages(555) == []
    # Their clients' messages are none of this shop's business either.
    await handled(app, app.fake.business.client_writes(CLIENT, "hi", connection_id="stranger"))
    assert await rows(app, Customer) == []


async def test_a_disabled_connection_is_stored_and_the_owner_told(app: RunningBot) -> None:
    await connect(app)
    await connect(app, enabled=False)
    [row] = await rows(app, BusinessConnection)
    assert not row.is_enabled
    assert "отключён" in owner_texts(app)[-1]
    await handled(app, app.fake.business.client_writes(CLIENT, "hi"))
    assert await rows(app, Customer) == []


def test_business_updates_are_asked_for(app: RunningBot) -> None:
    used = set(app.dp.resolve_used_update_types())
    assert {"business_connection", "business_message"} <= used


# --- 2. capture --------------------------------------------------------------------------------


async def test_a_new_person_becomes_a_customer_without_consent(app: RunningBot) -> None:
    await connect(app)
    await handled(
        app,
        app.fake.business.client_writes(
            CLIENT, "Добрый день", first_name="Анна", last_name="Петрова", username="anna_p"
        ),
    )
    await handled(app, app.fake.business.client_writes(CLIENT, "Вы тут?", first_name="Анна"))
    [customer] = await rows(app, Customer)
    assert (customer.telegram_id, customer.name, customer.username) == (
        CLIENT,
        "Анна Петрова",
        "anna_p",
    )
    assert customer.source == "business" and customer.consent is None
    [chat] = await rows(app, BusinessChat)
    assert chat.customer_id == customer.id and chat.last_in_at is not None
    # Nothing was said to anybody: no message per person.
    assert len(owner_texts(app)) == 1  # the connection notice only
    assert app.fake.business.sent_on_behalf(CLIENT) == []


async def test_staff_and_bots_writing_to_the_owner_are_no_customers(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(OWNER_ID, "заметка себе"))
    await handled(app, app.fake.business.client_writes(777, "бот", first_name="Bot", is_bot=True))
    assert await rows(app, Customer) == []


async def test_a_customer_who_started_the_bot_is_matched(app: RunningBot) -> None:
    person = app.user(CLIENT, first_name="Анна", language_code="ru")
    await person.send("/start")
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "привет", first_name="Анна"))
    [customer] = await rows(app, Customer)
    assert customer.source != "business"
    [chat] = await rows(app, BusinessChat)
    assert chat.listed_at is not None  # known already: not "new" in the digest


async def test_a_shared_phone_matches_the_owners_record(app: RunningBot) -> None:
    await app.owner.send("/addcustomer Анна +79161112233")
    await connect(app)
    contact = {"phone_number": "+79161112233", "first_name": "Анна", "user_id": CLIENT}
    await handled(app, app.fake.business.client_writes(CLIENT, None, contact=contact))
    [customer] = await rows(app, Customer)
    assert customer.telegram_id == CLIENT and customer.phone == "+79161112233"


# --- 3. a sale in the client's chat --------------------------------------------------------


async def test_a_sale_line_is_logged_deleted_and_receipted(app: RunningBot) -> None:
    await add_service(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Спасибо!", first_name="Анна"))
    line = app.fake.business.owner_writes(CLIENT, "+2 500 маникюр")
    await handled(app, line)
    [purchase] = await rows(app, Purchase)
    [customer] = await rows(app, Customer)
    assert (purchase.customer_id, purchase.amount) == (customer.id, 250000)
    deleted = [m["message_id"] for m in app.fake.business.deleted]
    assert deleted == [line["business_message"]["message_id"]]
    receipt = owner_texts(app)[-1]
    assert "Анна" in receipt and "2" in receipt
    await drained(app)
    # The client never started the bot: no thank-you the bot could not deliver anyway.
    assert await rows(app, OutboxMessage, OutboxMessage.kind == "thanks") == []
    assert app.fake.sent_messages(CLIENT) == []


async def test_a_redelivered_sale_line_logs_once(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    line = app.fake.business.owner_writes(CLIENT, "+1800")
    await handled(app, line)
    # A webhook retried after a crash, or a second instance: the same message again.
    await handled(app, app.fake.enqueue({"business_message": line["business_message"]}))
    assert len(await rows(app, Purchase)) == 1
    assert sum("Продажа #" in t for t in owner_texts(app)) == 1


async def test_a_bad_sale_line_gets_the_sale_answer_and_changes_nothing(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "+2500 педикюр"))
    assert await rows(app, Purchase) == []
    assert app.fake.business.deleted == []  # the owner sees what to correct
    text = owner_texts(app)[-1]
    assert "«+2500 педикюр»" in text and "не записал" in text
    assert app.fake.business.sent_on_behalf(CLIENT) == []


async def test_a_corrected_line_is_read_again(app: RunningBot) -> None:
    await add_service(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    line = app.fake.business.owner_writes(CLIENT, "+2500 маникур")
    await handled(app, line)
    assert await rows(app, Purchase) == []
    await handled(app, app.fake.business.edit(line, "+2500 маникюр"))
    assert len(await rows(app, Purchase)) == 1
    await handled(app, app.fake.business.edit(line, "+2600 маникюр"))  # logged already
    assert len(await rows(app, Purchase)) == 1


async def test_without_the_delete_right_the_line_stays(app: RunningBot) -> None:
    await connect(app, ("can_reply", "can_delete_sent_messages"))
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "+1500"))
    assert len(await rows(app, Purchase)) == 1
    assert app.fake.business.deleted == []


async def test_ordinary_owner_messages_are_no_sales(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    for text in ("До встречи!", "+ жду вас", "++", "2500"):
        await handled(app, app.fake.business.owner_writes(CLIENT, text))
    assert await rows(app, Purchase) == []
    assert len(owner_texts(app)) == 1


async def test_the_marker_is_the_owners_choice(app: RunningBot) -> None:
    await app.owner.send("/settings sale_marker $")
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "+900"))
    assert await rows(app, Purchase) == []
    await handled(app, app.fake.business.owner_writes(CLIENT, "$900"))
    assert len(await rows(app, Purchase)) == 1


async def test_a_zero_sale_asks_in_the_bots_chat(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "+0"))
    assert await rows(app, Purchase) == []
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    buttons = [b["text"] for b in owner.inline_buttons()]
    assert buttons  # the free-visit question, answered with a tap in the bot's chat
    await owner.click(buttons[0])
    assert len(await rows(app, Purchase)) == 1


# --- 4. free slots on request --------------------------------------------------------------


async def slots_on(app: RunningBot) -> None:
    await app.owner.send("/settings business_slots вкл")
    await app.owner.send("/settings business_delay_minutes 15")


async def test_an_unanswered_request_gets_free_slots_on_the_owners_behalf(
    app: RunningBot,
) -> None:
    await add_service(app)
    await slots_on(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Есть окошко на завтра?"))
    assert await slot_rows(app) == 0  # the owner has 15 minutes to answer
    app.clock.advance(minutes=16)
    assert await slot_rows(app) == 1
    [sent] = app.fake.business.sent_on_behalf(CLIENT)
    assert "Маникюр" in sent["text"]
    assert "https://t.me/test_retention_bot?start=business" in sent["text"]
    # Once a client a day: another request the same day gets nothing.
    await handled(app, app.fake.business.client_writes(CLIENT, "А можно записаться?"))
    app.clock.advance(minutes=30)
    assert await slot_rows(app) == 1
    assert len(app.fake.business.sent_on_behalf(CLIENT)) == 1


async def test_the_owners_answer_cancels_the_slots(app: RunningBot) -> None:
    await add_service(app)
    await slots_on(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "when are you free?"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "Завтра в 12 подойдёт?"))
    app.clock.advance(minutes=20)
    assert await slot_rows(app) == 0


async def test_no_slots_without_the_reply_right_or_when_switched_off(app: RunningBot) -> None:
    await add_service(app)
    await connect(app)  # business_slots is off by default
    await handled(app, app.fake.business.client_writes(CLIENT, "есть время?"))
    app.clock.advance(minutes=20)
    assert await slot_rows(app) == 0
    await slots_on(app)
    await connect(app, READ_ONLY)
    await handled(app, app.fake.business.client_writes(CLIENT + 1, "есть время?"))
    app.clock.advance(minutes=20)
    assert await slot_rows(app) == 0
    assert app.fake.business.sent_on_behalf(CLIENT + 1) == []


async def test_a_request_at_night_waits_for_the_window(app: RunningBot) -> None:
    await add_service(app)
    await slots_on(app)
    await connect(app)
    app.clock.advance(hours=10)  # 22:00 in Moscow: outside 10:00-20:00
    await handled(app, app.fake.business.client_writes(CLIENT, "Можно записаться?"))
    app.clock.advance(minutes=30)
    assert await slot_rows(app) == 0
    app.clock.advance(hours=11)  # 09:30 + a bit: the window opens at 10:00
    app.clock.advance(minutes=40)
    assert await slot_rows(app) == 1


async def test_after_24_hours_telegram_refuses_and_the_row_fails(app: RunningBot) -> None:
    await add_service(app)
    await slots_on(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Есть окошко?"))
    app.fake.business.age(CLIENT, hours=25)  # Telegram's clock, not the bot's
    app.clock.advance(minutes=20)
    assert await slot_rows(app) == 1
    [row] = await rows(app, OutboxMessage, OutboxMessage.kind == "business_slots")
    assert row.status == "failed" and "BUSINESS_PEER_USAGE_MISSING" in (row.last_error or "")
    [customer] = await rows(app, Customer)
    assert customer.blocked_at is None  # a closed window is no block
    with pytest.raises(TelegramBadRequest, match="BUSINESS_PEER_USAGE_MISSING"):
        await app.bot.send_message(CLIENT, "hi", business_connection_id="bc-1")
    assert PEER_USAGE_MISSING.endswith("BUSINESS_PEER_USAGE_MISSING")


async def test_the_bot_skips_a_request_older_than_24_hours(app: RunningBot) -> None:
    await add_service(app)
    await slots_on(app)
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Есть окошко?"))
    app.clock.advance(hours=25)
    assert await slot_rows(app) == 0


# --- 2 and 5. the daily digest ---------------------------------------------------------------


async def test_one_digest_a_day_names_the_new_people(app: RunningBot) -> None:
    await connect(app)
    for number, name in enumerate(("Анна", "Борис"), start=1):
        await handled(
            app, app.fake.business.client_writes(CLIENT + number, "Привет", first_name=name)
        )
    assert await scan(app) == 1
    text = owner_texts(app)[-1]
    assert "написали 2 человека" in text and "Анна" in text and "Борис" in text
    assert await scan(app) == 0  # one a day
    app.clock.advance(days=1)
    assert await scan(app) == 0  # nobody new: no digest
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    digest = app.fake.sent_messages(OWNER_ID)[-1]
    await owner.click("Карточка: Анна", message=digest)
    assert "Анна" in owner_texts(app)[-1]


async def test_the_digest_lists_customers_only_the_owner_can_remind(app: RunningBot) -> None:
    service = await add_service(app)
    await connect(app)
    await handled(
        app,
        app.fake.business.client_writes(CLIENT, "Привет", first_name="Анна", username="anna_p"),
    )
    await handled(app, app.fake.business.client_writes(CLIENT + 1, "Привет", first_name="Вера"))
    for client in (CLIENT, CLIENT + 1):
        await handled(app, app.fake.business.owner_writes(client, "+2500 маникюр"))
    await scan(app)  # today's digest: Анна and Вера are new
    app.clock.advance(days=18)  # 21-day cycle, reminded 4 days before
    assert await scan(app) == 1
    digest = app.fake.sent_messages(OWNER_ID)[-1]
    assert "2 клиента ждут" in digest["text"]
    assert "Анна, здравствуйте!" in digest["text"] and "Маникюр" in digest["text"]
    assert "Вера (чат — в ваших личных сообщениях)" in digest["text"]
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    urls = [b["url"] for b in owner.inline_buttons(digest) if "url" in b]
    assert urls == ["https://t.me/anna_p"]  # no tg://user?id= button: privacy can refuse it
    await owner.click("1. Готово", message=digest)
    assert owner.alerts[-1].startswith("Отмечено")
    [row] = await rows(app, OutboxMessage, OutboxMessage.kind == "owner_rebook")
    assert row.status == "sent" and row.sent_at is not None
    # She starts the bot and books: the booking counts for the reminder.
    await register(app, CLIENT, "Анна")
    slots = await nearest_slots(
        app.db, service_id=service, around=app.clock.now, now=app.clock.now, zone=app.settings.zone
    )
    await BookingService(app.db, app.settings.zone).book(
        telegram_id=CLIENT, service_id=service, starts_at=slots[0], now=app.clock.now
    )
    # The sale that follows counts for the reminder, like the bot's own.
    app.clock.advance(days=2)
    await handled(app, app.fake.business.client_writes(CLIENT, "Спасибо"))
    await handled(app, app.fake.business.owner_writes(CLIENT, "+2500 маникюр"))
    results = {
        r.group: r for r in await CampaignResults(app.db).campaigns(app.clock.now + timedelta(1))
    }
    rebooking = results["rebooking"]
    assert (rebooking.sent, rebooking.booked, rebooking.bought) == (1, 1, 1)  # Анна's
    # The next digest: Анна is done (and now the bot's own), Вера still waits.
    app.clock.advance(days=1)
    await scan(app)
    latest = owner_texts(app)[-1]
    assert "1 клиент ждёт" in latest and "Вера" in latest and "Анна" not in latest
    # Done for Вера too: nobody is listed again for this due date, so no digest at all.
    await owner.click("1. Готово", message=app.fake.sent_messages(OWNER_ID)[-1])
    before = len(owner_texts(app))
    app.clock.advance(days=1)
    await scan(app)
    assert len(owner_texts(app)) == before


# --- 6. privacy -------------------------------------------------------------------------------


async def test_forget_and_export_cover_captured_customers(app: RunningBot) -> None:
    await connect(app)
    await handled(app, app.fake.business.client_writes(CLIENT, "Привет", first_name="Анна"))
    await scan(app)
    out = io.StringIO()
    await export_csv(app.db, "customers", out, zone=app.settings.zone)
    assert "Анна" in out.getvalue() and "business" in out.getvalue()
    person = app.user(CLIENT, first_name="Анна", language_code="ru")
    await person.send("/start")
    await person.send("/forget")
    await person.click(person.inline_buttons()[0]["text"])
    assert await rows(app, BusinessChat) == []
    [digest] = await rows(app, OutboxMessage, OutboxMessage.kind == "business_digest")
    assert "Анна" not in digest.payload


# --- settings and phrases --------------------------------------------------------------------


async def test_wrong_business_settings_are_explained_and_change_nothing(app: RunningBot) -> None:
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    for command, expected in (
        ("/settings business_slots может быть", "«вкл» или «выкл»"),
        ("/settings sale_marker abc", "Метка продажи"),
        ("/settings business_phrases ,", "через запятую"),
        ("/settings business_delay_minutes 0", "1"),
    ):
        replies = await owner.send(command)
        assert expected in replies[-1]["text"]
    profile = await app.dp["shop"].profile()
    assert (profile.business_slots, profile.sale_marker) == (0, "+")
    assert profile.business_phrases == DEFAULT_PHRASES


@pytest.mark.parametrize(
    "text",
    [
        "Есть окошко на завтра?",
        "есть окошечко в субботу",
        "Можно записаться на маникюр?",
        "Запишите меня, пожалуйста",
        "Когда можно прийти?",
        "у вас есть время в пятницу?",
        "When are you free this week?",
        "Do you have a free slot tomorrow?",
        "I'd like to book an appointment",
    ],
)
def test_requests_for_a_time_are_recognised(text: str) -> None:
    assert asks_for_time(text, DEFAULT_PHRASES)


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо, всё отлично!",
        "Добрый вечер",
        "Thanks, see you!",
        "I saw you on facebook",
        None,
        "",
    ],
)
def test_other_messages_are_no_requests(text: str | None) -> None:
    assert not asks_for_time(text, DEFAULT_PHRASES)


def test_the_owners_phrases() -> None:
    stored = parse_phrases(" Окошко ,  СВОБОДНО , окошко")
    assert stored == "окошко, свободно"
    assert asks_for_time("Есть ОКОШКО?", stored)
    assert not asks_for_time("можно записаться", stored)
    for bad in (",", "a, b", "x" * 300):
        with pytest.raises(InputError):
            parse_phrases(bad)


# --- 7. the fake Bot API itself ----------------------------------------------------------------


async def test_the_fake_checks_rights_and_the_window(app: RunningBot) -> None:
    business = app.fake.business
    await connect(app, ("can_read_messages", "can_delete_sent_messages"))
    await handled(app, business.client_writes(CLIENT, "Привет"))
    with pytest.raises(TelegramForbiddenError, match="BOT_ACCESS_FORBIDDEN"):
        await app.bot.send_message(CLIENT, "hi", business_connection_id="bc-1")
    with pytest.raises(TelegramBadRequest, match="BUSINESS_CONNECTION_INVALID"):
        await app.bot.send_message(CLIENT, "hi", business_connection_id="nope")
    line = business.owner_writes(CLIENT, "+100")
    await handled(app, line)  # logged as a sale; the line stays: no right to delete it
    # The owner's own message needs "delete all messages"; this connection only has "sent".
    with pytest.raises(TelegramBadRequest, match="can't be deleted"):
        await app.bot.delete_business_messages(
            business_connection_id="bc-1",
            message_ids=[line["business_message"]["message_id"]],
        )
    await connect(app)  # all rights now
    sent = await app.bot.send_message(CLIENT, "hi", business_connection_id="bc-1")
    assert sent.sender_business_bot is not None and sent.business_connection_id == "bc-1"
    assert await app.bot.delete_business_messages(
        business_connection_id="bc-1", message_ids=[sent.message_id]
    )
    assert [m["text"] for m in business.deleted] == ["hi"]
    # Our own send comes back as a business message too: the bot learns nothing from it.
    echo = dict(business.chat_messages(CLIENT)[0], sender_business_bot=app.fake.bot_user)
    echo["message_id"] += 1000
    await handled(app, app.fake.enqueue({"business_message": echo}))


# --- storage on both engines ---------------------------------------------------------------------


async def test_capture_match_and_forget_on_both_databases(db: Database) -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    service = BusinessService(db, [OWNER_ID])
    assert (
        await service.connection_changed(
            connection_id="bc-1",
            user_id=555,
            user_chat_id=555,
            is_enabled=True,
            rights={"can_reply": True},
            bot_username="b",
            now=now,
        )
        is None
    )
    news = await service.connection_changed(
        connection_id="bc-1",
        user_id=OWNER_ID,
        user_chat_id=OWNER_ID,
        is_enabled=True,
        rights={"can_reply": True, "can_edit_bio": False},
        bot_username="b",
        now=now,
    )
    assert news is not None and news.rights.can_reply and not news.rights.can_delete_owner_lines
    person = TelegramPerson(telegram_id=CLIENT, first_name="Анна", username="anna")
    first = await service.client_wrote(connection_id="bc-1", person=person, text="x", now=now)
    again = await service.client_wrote(connection_id="bc-1", person=person, text="y", now=now)
    assert first is not None and again is not None
    assert first.created and not again.created and first.customer_id == again.customer_id
    await PrivacyService(db).forget(CLIENT, now)
    async with db.reading() as repos:
        assert await repos.session.get(BusinessChat, CLIENT) is None


async def test_business_knobs_by_buttons(app: RunningBot) -> None:
    owner = app.user(OWNER_ID, first_name="Owner", language_code="ru")
    replies = await owner.send("/settings")
    assert "Метка продажи в чате клиента: +" in replies[-1]["text"]
    assert "Отвечать свободным временем: выкл" in replies[-1]["text"]
    replies = await owner.click("Отвечать свободным временем")
    assert "вкл или выкл" in replies[-1]["text"]
    replies = await owner.send("вкл")
    assert "вкл" in replies[-1]["text"]
    assert (await app.dp["shop"].profile()).business_slots == 1
