"""Data as people have it (issue 8): owner-entered birthdays, free visits, files from Excel,
and odd input from Telegram (a NUL in a name, a long language tag, strangers' deep links)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.birthdays import queue_birthdays
from services.customers import CustomerService
from services.parsing import Birthday
from services.ratelimit import RateLimiter
from services.transfer import ImportFailed, ImportReport, export_csv, import_csv
from storage.database import Database
from storage.models import Customer, OutboxMessage, Purchase
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings, register
from tests.fakes.telegram import FakeTelegram

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
async def shop(fake: FakeTelegram, db: Database, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """The production bot on the parametrised database (SQLite and PostgreSQL), with a fast
    limiter: the fake server has no flood limits, and a conversation is quicker that way."""
    settings = make_settings(fake, db)
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        yield RunningBot(fake, dp, bot, db, settings, clock)


async def import_bytes(db: Database, kind: str, data: bytes) -> ImportReport:
    return await import_csv(db, kind, io.BytesIO(data), zone=MSK, now=NOW)


async def export_text(db: Database, kind: str) -> str:
    out = io.StringIO()
    await export_csv(db, kind, out, zone=MSK)
    return out.getvalue()


async def all_customers(db: Database) -> list[Customer]:
    async with db.reading() as repos:
        return list(await repos.customers.all())


async def birthday_greetings(db: Database) -> list[OutboxMessage]:
    async with db.reading() as repos:
        rows = await repos.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "birthday")
        )
        return list(rows.all())


# ---------------------------------------------------------------- birthdays the owner entered


async def test_an_imported_birthday_in_five_days_is_greeted_this_year(db: Database) -> None:
    # 30.11 is five days after NOW; the gift goes out three days before (the default).
    await import_bytes(
        db,
        "customers",
        b"telegram_id,name,birthday,consent\n501,Anna,--11-30,yes\n",
    )
    assert await queue_birthdays(db, MSK, NOW) == 0  # not yet: five days ahead
    assert await queue_birthdays(db, MSK, NOW + timedelta(days=2)) == 1
    [greeting] = await birthday_greetings(db)
    assert greeting.dedup_key.endswith(":2026")
    [anna] = await all_customers(db)
    assert anna.birthday_set_by == "owner"


async def test_birthday_set_by_owner_is_greeted_but_the_customers_own_waits(
    db: Database,
) -> None:
    async with db.transaction() as repos:
        for telegram_id in (601, 602):
            await repos.customers.add(
                telegram_id=telegram_id,
                name=f"C{telegram_id}",
                consent=True,
                registered_at=NOW - timedelta(days=200),
                created_at=NOW - timedelta(days=200),
            )
    customers = CustomerService(db)
    [owners, own] = await all_customers(db)
    await customers.set_birthday_by_owner(owners.id, Birthday(28, 11), NOW)  # /birthday
    # The 30-day rule is for customers entering their own birthday just before it.
    await customers.set_birthday(602, Birthday(28, 11), NOW)

    assert await queue_birthdays(db, MSK, NOW) == 1
    [greeting] = await birthday_greetings(db)
    assert greeting.customer_id == owners.id
    assert own.id != owners.id


# ---------------------------------------------------------------- free visits


async def test_an_imported_free_visit_is_a_visit_not_revenue(db: Database) -> None:
    await import_bytes(db, "customers", b"external_id,name\nC-1,Anna\n")
    report = await import_bytes(
        db,
        "purchases",
        b"customer,date,amount,service\n"
        b"C-1,2026-10-01,2500,Manicure\n"
        b"C-1,2026-10-08,0,Manicure\n"  # a warranty fix
        b"C-1,2026-10-20,0.00,Repair\n",  # a service first seen free is priced at 0
    )
    assert report.created == 3
    customers = CustomerService(db)
    [anna] = await all_customers(db)
    totals = await customers.totals(anna.id)
    assert (totals.visits, totals.total) == (3, 250_000)
    async with db.reading() as repos:
        services = {s.name: s.price for s in await repos.catalogue.all()}
    assert services == {"Manicure": 250_000, "Repair": 0}


async def test_sale_of_zero_in_chat_asks_and_logs_a_free_visit(shop: RunningBot) -> None:
    await register(shop, 701, "Anna")
    owner = shop.owner

    await owner.send("/sale #1 0")
    assert "free visit" in (owner.last_text or "")
    await owner.click("No")
    assert "nothing logged" in (owner.last_text or "")

    await owner.send("/sale #1 0 Warranty fix")  # an unknown service is refused as before
    assert "No such service" in (owner.last_text or "")
    await owner.send("/sale #1 0 points:5")
    assert "without a promo code or points" in (owner.last_text or "")

    await owner.send("/sale #1 0")
    await owner.click("Yes, a free visit")
    async with shop.db.reading() as repos:
        rows = (await repos.session.scalars(select(Purchase))).all()
    assert [(p.amount, p.customer_id) for p in rows] == [(0, 1)]
    async with shop.db.reading() as repos:
        assert await repos.growth.balance(1) == 0  # no cashback on nothing paid


# ---------------------------------------------------------------- files as people have them


async def test_a_russian_excel_file_cp1251_with_semicolons(db: Database) -> None:
    text = (
        "Телефон;Имя;День рождения;Согласие\r\n"
        "8 (916) 123-45-67;Анна Петрова;05.03.1990;да\r\n"
        "+7 916 765-43-21;Ёлка;--12-31;нет\r\n"
    )
    data = text.replace("Телефон", "phone").replace("Имя", "name")
    data = data.replace("День рождения", "birthday").replace("Согласие", "consent")
    report = await import_bytes(db, "customers", data.encode("cp1251"))
    assert report.created == 2
    names = {c.name for c in await all_customers(db)}
    assert names == {"Анна Петрова", "Ёлка"}


async def test_a_bom_utf8_file_with_tabs(db: Database) -> None:
    data = "\ufeffname\tphone\tsource\nЗоя\t+79160000001\tвизитка\n".encode()
    assert data.startswith(b"\xef\xbb\xbf")
    report = await import_bytes(db, "customers", data)
    assert report.created == 1
    [zoya] = await all_customers(db)
    assert (zoya.name, zoya.phone, zoya.source) == ("Зоя", "+79160000001", "визитка")


async def test_utf16_from_excel_unicode_text(db: Database) -> None:
    data = "name\tphone\nЯна\t+79160000002\n".encode("utf-16")
    assert (await import_bytes(db, "customers", data)).created == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # the quote on line 3 is never closed: it would swallow lines 4 and 5
        ('phone,name\n+79160000001,Ann\n+79160000002,"Bob\n+79160000003,Cid\n', 3),
        # closed later, then more text: the same mistake, found where the quote opened
        ('phone,name\n+79160000001,"Ann\n+79160000002,"Bob"\n', 2),
    ],
)
async def test_an_unterminated_quote_names_its_line_and_imports_nothing(
    db: Database, text: str, line: int
) -> None:
    with pytest.raises(ImportFailed) as caught:
        await import_bytes(db, "customers", text.encode())
    [(bad_line, reason)] = caught.value.errors
    assert bad_line == line
    assert "quote" in reason
    assert await all_customers(db) == []


async def test_a_quote_closed_lines_later_is_refused_too(db: Database) -> None:
    text = 'phone,name\n+79160000001,"Ann\n+79160000002,Bob"\n+79160000003,Cid\n'
    with pytest.raises(ImportFailed) as caught:
        await import_bytes(db, "customers", text.encode())
    assert caught.value.errors == [(2, "a quoted cell runs over lines 2-3: is a quote not closed?")]
    assert await all_customers(db) == []


FORMULA_NAMES = [
    "=1+1",
    "+7 VIP",
    "-5",
    "@SUM(A1)",
    "x;=1+1",
    "x;=1+1;",  # a whole formula between two semicolons: quoting the cell cannot help
    "x,=1+1",
    "Smith; -1",
    "'=already marked",
    "'plain apostrophe",
    "''=two",
    'quote "=x" inside',
]


def _cells(text: str, separator: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]


async def test_formula_names_are_neutralised_for_any_separator_and_round_trip(
    db: Database, tmp_path: object
) -> None:
    async with db.transaction() as repos:
        for i, name in enumerate(FORMULA_NAMES):
            await repos.customers.add(
                external_id=f"=E{i}" if i % 2 else f"C-{i}", name=name, created_at=NOW
            )
        await repos.customers.add(phone="+79160000009", birth_day=5, birth_month=3, created_at=NOW)
    exported = await export_text(db, "customers")

    # Opened with any separator, no cell is a formula to the spreadsheet.
    for separator in (",", ";", "\t"):
        for cell in _cells(exported, separator):
            visible = cell.lstrip(' "')
            assert not visible.startswith(("=", "+", "-", "@", "\t", "\r")), (separator, cell)

    # And the file comes back as it was.
    other = Database(f"sqlite+aiosqlite:///{tmp_path}/other.db")
    await other.migrate()
    try:
        await import_bytes(other, "customers", exported.encode("utf-8"))
        assert await export_text(other, "customers") == exported
        names = sorted(c.name or "" for c in await all_customers(other))
        assert names == sorted([*FORMULA_NAMES, ""])
    finally:
        await other.dispose()


# ---------------------------------------------------------------- odd input


async def test_start_with_a_nul_in_the_name_and_a_long_language_tag(shop: RunningBot) -> None:
    person = shop.user(
        801, first_name="An\x00na\x07", last_name="\x1bP", language_code="sr-Latn-RS"
    )
    await person.send("/start")
    await person.share_contact("79160000801")
    await person.send("Skip")
    await person.click("Да, присылайте")  # Serbian is not spoken here: the shop's Russian
    [row] = await all_customers(shop.db)
    assert (row.name, row.language, row.phone) == ("Anna P", "sr", "+79160000801")
    assert row.registered_at == shop.clock.now


async def test_owner_typed_and_imported_names_lose_control_characters(
    shop: RunningBot,
) -> None:
    await shop.owner.send("/addcustomer Ma\x00ria +79160000901")
    await import_bytes(shop.db, "customers", b"external_id,name\nC-1,Ol\x00ga\x01\n")
    names = sorted(c.name or "" for c in await all_customers(shop.db))
    assert names == ["Maria", "Olga"]


async def test_strangers_deep_links_count_as_one_other_source(shop: RunningBot) -> None:
    async with shop.db.transaction() as repos:
        await repos.growth.add_link(name="insta", url="https://t.me/+insta", created_at=NOW)
    for i in range(50):
        payload = f"{i:02d}" + "x" * 62  # 64 characters, each one different
        stranger = shop.user(900 + i, first_name=f"S{i}", language_code="en")
        await stranger.send(f"/start {payload}")
    await register(shop, 990, "Lena", start="/start insta")
    await register(shop, 991, "Olga", start="/start channel")

    await shop.owner.send("/sources")
    report = shop.owner.last_text or ""
    assert len(report) < 1000
    sources = {line.split(":")[0] for line in report.splitlines()[1:]}
    assert sources == {"Other links", "insta", "Channel, no tracked link"}
    customers = await all_customers(shop.db)
    assert sum(c.source == "other" for c in customers) == 50
    assert OWNER_ID not in {c.telegram_id for c in customers}
