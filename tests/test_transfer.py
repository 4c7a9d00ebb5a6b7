"""CSV import and export (services/transfer/): round trips, spreadsheet quirks, bad rows."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.transfer import (
    KINDS,
    MAX_ERRORS,
    ImportFailed,
    ImportReport,
    export_csv,
    import_csv,
)
from storage.database import Database
from storage.transfer import TransferRepository

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
async def other_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A second, empty database to import into (the `db` fixture is the first)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await database.migrate()
    yield database
    await database.dispose()


async def run_import(
    db: Database, kind: str, text: str, *, zone: ZoneInfo = MOSCOW, now: datetime = NOW
) -> ImportReport:
    return await import_csv(db, kind, io.StringIO(text), zone=zone, now=now)


async def run_export(db: Database, kind: str, *, zone: ZoneInfo = MOSCOW) -> str:
    out = io.StringIO()
    rows = await export_csv(db, kind, out, zone=zone)
    text = out.getvalue()
    assert rows == len(text.splitlines()) - 1
    return text


async def failure(db: Database, kind: str, text: str, **kwargs: Any) -> list[tuple[int, str]]:
    with pytest.raises(ImportFailed) as caught:
        await run_import(db, kind, text, **kwargs)
    return caught.value.errors


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """What a round trip must keep, without database ids."""
    async with db.reading() as repos:
        customers = await repos.customers.all()
        services = await repos.catalogue.all()
        rows = await repos.purchases.all_rows()
        identity = {c.id: (c.external_id, c.phone, c.telegram_id) for c in customers}
        return {
            "customers": [
                (
                    c.external_id,
                    c.phone,
                    c.telegram_id,
                    c.name,
                    c.search_name,
                    (c.birth_day, c.birth_month, c.birth_year),
                    c.consent,
                    c.source,
                )
                for c in customers
            ],
            "services": [
                (s.name, s.price, s.cycle_days, s.duration_minutes, s.archived) for s in services
            ],
            "purchases": [
                (
                    identity[r.customer_id],
                    r.purchased_at.replace(microsecond=0),
                    r.amount,
                    r.service_name,
                )
                for r in rows
            ],
        }


async def seed(db: Database) -> None:
    """A shop as the bot fills it: Telegram customers, offline ones, sales with microseconds."""
    async with db.transaction() as repos:
        manicure = await repos.catalogue.add(
            name="Маникюр",
            price=250_000,
            cycle_days=21,
            duration_minutes=90,
            archived=False,
            created_at=NOW,
        )
        coffee = await repos.catalogue.add(
            name="Coffee",
            price=0,
            cycle_days=None,
            duration_minutes=60,
            archived=False,
            created_at=NOW,
        )
        await repos.catalogue.add(
            name="Old peeling",
            price=100_050,
            cycle_days=None,
            duration_minutes=45,
            archived=True,
            created_at=NOW,
        )
        anna = await repos.customers.add(
            telegram_id=42,
            name="Анна Петрова",
            search_name="анна петрова",
            phone="+79161234567",
            birth_day=5,
            birth_month=3,
            birth_year=None,
            birthday_set_at=NOW,
            source="insta_promo",
            consent=True,
            username="anna",
            created_at=NOW,
        )
        bob = await repos.customers.add(
            telegram_id=5123456789,
            name="🌸",
            search_name="🌸",
            consent=False,
            created_at=NOW,
        )
        crm = await repos.customers.add(
            external_id="C-17",
            name="=HYPERLINK(1)",
            search_name="=hyperlink(1)",
            phone="+15551234567",
            birth_day=29,
            birth_month=2,
            birth_year=1996,
            birthday_set_at=NOW,
            source="offline",
            created_at=NOW,
        )
        dash = await repos.customers.add(
            external_id="-7", name="Dash", search_name="dash", created_at=NOW
        )
        moment = datetime(2026, 3, 5, 9, 15, 30, 123456, tzinfo=UTC)
        for customer, service, amount, at in (
            (anna.id, manicure.id, 250_000, moment),
            (anna.id, None, 150_050, moment + timedelta(days=40)),
            (bob.id, coffee.id, 30_000, moment),
            (bob.id, coffee.id, 30_000, moment),  # two coffees in the same second
            (crm.id, None, 99, datetime(2025, 12, 31, 21, 0, tzinfo=UTC)),  # local midnight
            (dash.id, manicure.id, 1_000_000_000, moment - timedelta(days=400)),
        ):
            await repos.purchases.add(
                customer_id=customer,
                service_id=service,
                amount=amount,
                purchased_at=at,
                created_at=NOW,
            )


# ---------------------------------------------------------------- round trip and format


async def test_round_trip_of_all_three_kinds_into_an_empty_database(
    db: Database, other_db: Database
) -> None:
    await seed(db)
    files = {kind: await run_export(db, kind) for kind in KINDS}

    reports = {
        kind: await run_import(other_db, kind, files[kind])
        for kind in ("services", "customers", "purchases")
    }

    assert await snapshot(other_db) == await snapshot(db)
    assert [(r.created, r.updated, r.skipped) for r in reports.values()] == [
        (3, 0, 0),
        (4, 0, 0),
        (6, 0, 0),
    ]
    assert reports["purchases"].notes == []  # every customer and service was found
    # And the second database exports the very same files.
    assert {kind: await run_export(other_db, kind) for kind in KINDS} == files


async def test_export_format(db: Database) -> None:
    await seed(db)

    assert await run_export(db, "services") == (
        "name,price,cycle_days,duration_minutes,archived\n"
        "Маникюр,2500.00,21,90,no\n"
        "Coffee,0.00,,60,no\n"
        "Old peeling,1000.50,,45,yes\n"
    )
    assert await run_export(db, "customers") == (
        "external_id,name,phone,telegram_id,birthday,source,consent\n"
        # A phone is a formula to a spreadsheet too; a birthday without the year is DD.MM.
        ',Анна Петрова,"\'+79161234567",42,05.03,insta_promo,yes\n'
        ",🌸,,5123456789,,,no\n"
        # not run as a formula
        'C-17,"\'=HYPERLINK(1)","\'+15551234567",,1996-02-29,offline,\n'
        '"\'-7",Dash,,,,,\n'
    )
    assert await run_export(db, "purchases") == (
        "customer,date,amount,service\n"
        '"\'-7",2025-01-29 12:15:30,10000000.00,Маникюр\n'
        "C-17,2026-01-01 00:00:00,0.99,\n"
        '"\'+79161234567",2026-03-05 12:15:30,2500.00,Маникюр\n'  # external_id, else phone,
        "5123456789,2026-03-05 12:15:30,300.00,Coffee\n"  # else telegram_id
        "5123456789,2026-03-05 12:15:30,300.00,Coffee\n"
        '"\'+79161234567",2026-04-14 12:15:30,1500.50,\n'
    )


async def test_export_of_an_empty_database_is_a_header(db: Database) -> None:
    assert await run_export(db, "purchases") == "customer,date,amount,service\n"


async def test_the_repeated_hour_of_a_dst_change_round_trips(
    db: Database, other_db: Database
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    async with db.transaction() as repos:
        customer = await repos.customers.add(phone="+491711234567", created_at=NOW)
        for at in (  # 02:30 local twice on 2025-10-26: first +02:00, then +01:00
            datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
            datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
        ):
            await repos.purchases.add(
                customer_id=customer.id,
                service_id=None,
                amount=100,
                purchased_at=at,
                created_at=NOW,
            )
    files = {kind: await run_export(db, kind, zone=berlin) for kind in KINDS}
    assert files["purchases"].splitlines()[1:] == [
        '"\'+491711234567",2025-10-26 02:30:00,1.00,',
        '"\'+491711234567",2025-10-26 02:30:00+01:00,1.00,',
    ]
    for kind in ("services", "customers", "purchases"):
        await run_import(other_db, kind, files[kind], zone=berlin)
    assert await snapshot(other_db) == await snapshot(db)


# ---------------------------------------------------------------- spreadsheet quirks


async def test_semicolons_bom_extra_columns_and_loose_headers(db: Database) -> None:
    customers = (
        "\ufeff Phone ;NAME;Комментарий;External-ID;Birthday;Consent\r\n"
        "8 (916) 123-45-67;Анна;постоянная;;05.03.1990;да\r\n"
        "+1 555 123 4567;Bob;;C-9;--12-31;НЕТ\r\n"
        ";;;;;\r\n"  # the empty rows Excel leaves behind
    )
    purchases = (
        "\ufeffДата;Customer;Amount;Service;Note\r\n"
        "2026-03-05;C-9;2 500,50 ₽;;first visit\r\n"
        "05.03.2026 18:30;89161234567;1000;;\r\n"
    )

    report = await run_import(db, "customers", customers)
    assert (report.created, report.updated, report.skipped) == (2, 0, 0)
    errors = await failure(db, "purchases", purchases)
    assert errors == [
        (1, "the header has no date column (expected: customer, date, amount, service)")
    ]
    report = await run_import(db, "purchases", purchases.replace("Дата", " DATE "))
    assert report.created == 2

    snap = await snapshot(db)
    assert snap["customers"] == [
        (None, "+79161234567", None, "Анна", "анна", (5, 3, 1990), True, None),
        ("C-9", "+15551234567", None, "Bob", "bob", (31, 12, None), False, None),
    ]
    assert snap["purchases"] == [
        # a date without a time is local noon; Moscow is UTC+3
        (("C-9", "+15551234567", None), datetime(2026, 3, 5, 9, 0, tzinfo=UTC), 250_050, None),
        ((None, "+79161234567", None), datetime(2026, 3, 5, 15, 30, tzinfo=UTC), 100_000, None),
    ]


async def test_a_quoted_cell_over_two_lines_keeps_line_numbers_right(db: Database) -> None:
    text = 'phone,name\n+79161234567,"Anna\nPetrova"\nnot a phone,Bob\n'
    assert await failure(db, "customers", text) == [
        # No imported cell holds a line break: more likely a quote left open.
        (2, "a quoted cell runs over lines 2-3: is a quote not closed?"),
        (4, "phone 'not a phone' is not a phone number (+ and 10 to 15 digits)"),
    ]


async def test_a_comma_file_with_semicolons_inside_quotes(db: Database) -> None:
    report = await run_import(
        db, "services", 'name,price,"notes; more"\n"Brows; lashes","1,500.00",x\n'
    )
    assert report.created == 1
    assert (await snapshot(db))["services"] == [("Brows; lashes", 150_000, None, 60, False)]


# ---------------------------------------------------------------- all or nothing


async def test_bad_rows_are_all_reported_and_nothing_is_written(db: Database) -> None:
    await run_import(db, "customers", "external_id,name\nC-1,Anna\n")
    before = await snapshot(db)
    text = (
        "external_id,phone,telegram_id,birthday,name,consent\n"
        "C-2,+79160000001,,,Fine,yes\n"  # line 2: good, but must not be written
        "C-3,12345,,,Short phone,\n"
        "C-4,,abc,,Letters,\n"
        "C-5,,,31.02.1990,Impossible,\n"
        ",,,,Nobody,\n"
        "C-6,,,2030-01-01,Future,maybe\n"
        "C-2,,,,Again,\n"
    )

    errors = await failure(db, "customers", text)

    assert errors == [
        (3, "phone '12345' is not a phone number (+ and 10 to 15 digits)"),
        (4, "telegram_id 'abc' is not a Telegram user id (a positive number)"),
        (5, "birthday '31.02.1990' is not a real date"),
        (6, "needs at least one of external_id, phone, telegram_id"),
        (7, "birthday '2030-01-01' is in the future; consent 'maybe' is not yes or no"),
        (8, "external_id 'C-2' is also on line 2"),
    ]
    assert await snapshot(db) == before


async def test_a_write_failing_midway_leaves_nothing_behind(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import is one transaction: customers and services it created before the purchases'
    insert failed are rolled back with it."""
    await run_import(db, "customers", "external_id\nC-1\n")
    before = await snapshot(db)

    async def broken(self: TransferRepository, rows: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(TransferRepository, "insert_purchases", broken)
    text = "customer,date,amount,service\nC-1,2026-11-01,100,Tea\nC-9,2026-11-02,200,Cake\n"

    with pytest.raises(RuntimeError, match="the disk is full"):
        await run_import(db, "purchases", text)

    assert await snapshot(db) == before


async def test_bad_purchase_rows(db: Database) -> None:
    await run_import(db, "customers", "external_id\nC-1\n")
    before = await snapshot(db)
    text = (
        "customer,date,amount,service\n"
        "C-1,2026-02-30,100,\n"
        "C-1,2026-03-05,abc,\n"
        ",2026-03-05,100,\n"
        "C-1,5 March,100,\n"
        "C-1,2026-11-26,100,\n"  # tomorrow in Moscow
        "C-1,2026-03-05 25:00,-5,\n"
        "C-1,2026-03-05,0 x,Brand new service\n"
        "C-1,2026-11-25 23:59,100,!!!\n"
    )
    assert await failure(db, "purchases", text) == [
        (2, "date '2026-02-30' is not a real date or time"),
        (3, "amount 'abc' is not an amount of money (like 2500.50)"),
        (4, "customer is empty"),
        (5, "date '5 March' is not YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]"),
        (6, "date '2026-11-26' is in the future"),
        (7, "date '2026-03-05 25:00' is not a real date or time; amount '-5' is negative"),
        (8, "amount '0 x' is not an amount of money (like 2500.50)"),
        (9, "service must have a letter or digit and at most 100 characters"),
    ]
    assert await snapshot(db) == before  # neither purchases nor "Brand new service"


async def test_customers_matching_two_different_people_or_one_twice(db: Database) -> None:
    await run_import(db, "customers", "external_id,phone,telegram_id\nC-1,+79160000001,\nC-2,,77\n")
    text = (
        "external_id,phone,telegram_id\n"
        "C-1,,77\n"
        "C-2,+79160000002,\n"
        ",,77\n"
        "C-1,+79160000009,78\n"  # C-1 already has no telegram id: fine on its own
    )
    assert await failure(db, "customers", text) == [
        (2, "matches two different customers (#1 by external_id, #2 by telegram_id)"),
        (4, "telegram_id 77 is also on line 2; is the same customer as line 3"),
        (5, "external_id 'C-1' is also on line 2"),
    ]


async def test_a_telegram_account_is_never_swapped_by_an_import(db: Database) -> None:
    await run_import(db, "customers", "phone,telegram_id\n+79160000001,77\n")
    assert await failure(db, "customers", "phone,telegram_id\n+79160000001,78\n") == [
        (2, "the matching customer #1 already has telegram_id 77"),
    ]


async def test_header_without_identity_columns(db: Database) -> None:
    errors = await failure(db, "customers", "name,birthday\nAnna,05.03\n")
    assert errors == [
        (
            1,
            "the header needs an external_id, phone or telegram_id column (expected: "
            "external_id, name, phone, telegram_id, birthday, source, consent)",
        )
    ]
    assert await failure(db, "customers", "phone,Phone\n") == [
        (1, "column 'phone' appears twice in the header")
    ]


async def test_empty_file_is_an_error_and_a_header_only_file_does_nothing(db: Database) -> None:
    for empty in ("", "\ufeff", "\n \n", ";;;\r\n,,\n"):
        assert await failure(db, "purchases", empty) == [
            (1, "the file is empty: expected a header line")
        ]
    for kind, header in (
        ("customers", "external_id,name,phone\n"),
        ("purchases", "customer;date;amount\r\n"),
        ("services", "name,price"),
        ("services", "\n;;\nname;price;\n;;\n"),
    ):
        assert await run_import(db, kind, header) == ImportReport(kind, 0, 0, 0, [])


async def test_errors_are_capped_and_readable(db: Database) -> None:
    text = "phone\n" + "nope\n" * (MAX_ERRORS + 10)
    with pytest.raises(ImportFailed) as caught:
        await run_import(db, "customers", text)
    failed = caught.value
    assert len(failed.errors) == MAX_ERRORS
    assert failed.total == MAX_ERRORS + 10
    message = str(failed).splitlines()
    assert message[0] == f"{MAX_ERRORS + 10} bad rows:"
    assert message[1] == "  line 2: phone 'nope' is not a phone number (+ and 10 to 15 digits)"
    assert message[-1] == "  … and 10 more"


# ---------------------------------------------------------------- re-import and updates


async def test_reimporting_purchases_skips_what_is_already_there(db: Database) -> None:
    await seed(db)  # sales logged by the bot carry microseconds
    exported = await run_export(db, "purchases")
    before = await snapshot(db)

    report = await run_import(db, "purchases", exported)

    assert (report.created, report.updated, report.skipped) == (0, 0, 6)
    assert report.notes == ["skipped 6 purchase(s) already in the database"]
    assert await snapshot(db) == before

    # A file holding one more of the two identical coffees adds exactly that one.
    coffee = "5123456789,2026-03-05 12:15:30,300.00,Coffee\n"
    report = await run_import(db, "purchases", "customer,date,amount,service\n" + coffee * 3)
    assert (report.created, report.skipped) == (1, 2)


async def test_identical_rows_of_one_file_are_all_imported_once(db: Database) -> None:
    text = "customer,date,amount\nC-1,2026-03-05,300\nC-1,2026-03-05,300\n"
    first = await run_import(db, "purchases", text)
    again = await run_import(db, "purchases", text)
    assert (first.created, first.skipped, again.created, again.skipped) == (2, 0, 0, 2)


async def test_unknown_purchase_customers_and_services_are_created(db: Database) -> None:
    await run_import(db, "services", "name,price\nManicure,2500\n")
    text = (
        "customer,date,amount,service\n"
        "+7 916 000-00-01,2026-03-05,2500,MANICURE\n"
        "89160000001,2026-03-06,900.5,Brow tint\n"  # the same new customer, by another spelling
        "C-77,2026-03-07,1200,brow  tint\n"
        "1042,2026-03-08,100,\n"  # a short number is a CRM number, not a phone
    )

    report = await run_import(db, "purchases", text)

    assert (report.created, report.updated, report.skipped) == (4, 0, 0)
    assert report.notes == [
        "created 3 customer(s) the database did not have: '+7 916 000-00-01', 'C-77', '1042'",
        "created service 'Brow tint' (price 900.50, no cycle, 60 minutes): "
        "check it in the catalogue",
    ]
    snap = await snapshot(db)
    assert [c[:3] for c in snap["customers"]] == [
        (None, "+79160000001", None),
        ("C-77", None, None),
        ("1042", None, None),
    ]
    assert snap["services"] == [
        ("Manicure", 250_000, None, 60, False),
        ("Brow tint", 90_050, None, 60, False),
    ]
    assert [(p[0], p[3]) for p in snap["purchases"]] == [
        ((None, "+79160000001", None), "Manicure"),
        ((None, "+79160000001", None), "Brow tint"),
        (("C-77", None, None), "Brow tint"),
        (("1042", None, None), None),
    ]


async def test_purchase_customers_are_matched_by_external_id_phone_or_telegram_id(
    db: Database,
) -> None:
    await run_import(
        db,
        "customers",
        "external_id,phone,telegram_id\nC-1,,\n,+79160000001,\n,,5123456789\n",
    )
    report = await run_import(
        db,
        "purchases",
        "customer,date,amount\nC-1,2026-03-05,1\n8 916 000 00 01,2026-03-05,2\n"
        "5123456789,2026-03-05,3\n",
    )
    assert report.created == 3
    assert report.notes == []
    snap = await snapshot(db)
    assert [(p[0], p[2]) for p in snap["purchases"]] == [
        (("C-1", None, None), 100),
        ((None, "+79160000001", None), 200),
        ((None, None, 5123456789), 300),
    ]


async def test_customer_import_updates_the_given_fields_only(db: Database) -> None:
    await seed(db)
    text = (
        "phone,external_id,name,birthday,consent,source\n"
        "+79161234567,A-1,Anna P.,1990-03-05,,\n"  # gains an external id and a birth year
        "+15551234567,,,,no,\n"  # consent only; C-17 keeps the rest
    )
    report = await run_import(db, "customers", text)
    assert (report.created, report.updated, report.skipped) == (0, 2, 0)
    snap = await snapshot(db)
    assert snap["customers"][0] == (
        "A-1",
        "+79161234567",
        42,
        "Anna P.",
        "anna p.",
        (5, 3, 1990),
        True,
        "insta_promo",
    )
    assert snap["customers"][2] == (
        "C-17",
        "+15551234567",
        None,
        "=HYPERLINK(1)",
        "=hyperlink(1)",
        (29, 2, 1996),
        False,
        "offline",
    )

    again = await run_import(db, "customers", text)
    assert (again.created, again.updated, again.skipped) == (0, 0, 2)


async def test_a_new_birthday_is_stamped_with_now(db: Database) -> None:
    await run_import(db, "customers", "phone,birthday\n+79160000001,05.03\n+79160000002,\n")
    later = NOW + timedelta(days=1)
    await run_import(db, "customers", "phone,birthday\n+79160000001,05.03\n", now=later)
    await run_import(db, "customers", "phone,birthday\n+79160000002,07.04\n", now=later)
    async with db.reading() as repos:
        first, second = await repos.customers.all()
    assert first.birthday_set_at == NOW  # the same birthday again changes nothing
    assert second.birthday_set_at == later
    assert first.created_at == NOW


async def test_services_are_updated_by_name_not_duplicated(db: Database) -> None:
    await run_import(
        db, "services", "name,price,cycle_days,duration_minutes\nManicure,2500,21,90\n"
    )
    report = await run_import(
        db,
        "services",
        "name,price,cycle_days,duration_minutes\n"
        " manicure ,2600,,\n"  # empty cycle: none; empty duration: 60
        "Pedicure,3000,нет,45\n",
    )
    assert (report.created, report.updated, report.skipped) == (1, 1, 0)
    assert (await snapshot(db))["services"] == [
        ("Manicure", 260_000, None, 60, False),
        ("Pedicure", 300_000, None, 45, False),
    ]
    assert await failure(
        db,
        "services",
        "name,price,duration_minutes\nPEDICURE,1,\npedicure,2,\nMassage,,\nNails,5,3\n",
    ) == [
        (3, "service 'pedicure' is also on line 2"),
        (4, "price is empty (needed for a new service)"),
        (5, "duration_minutes '3' is not a number from 5 to 720"),
    ]


async def test_unknown_kind_is_a_value_error(db: Database) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        await run_export(db, "orders")
    with pytest.raises(ValueError, match="unknown kind"):
        await run_import(db, "orders", "a,b\n")


async def test_a_birthday_without_the_year_round_trips_as_dd_mm(
    db: Database, other_db: Database
) -> None:
    await run_import(db, "customers", "phone,birthday\n+79160000001,05.03\n")
    exported = await run_export(db, "customers")
    assert ",05.03," in exported and "--" not in exported
    await run_import(other_db, "customers", exported)
    async with other_db.reading() as repos:
        [customer] = await repos.customers.all()
    assert (customer.birth_day, customer.birth_month, customer.birth_year) == (5, 3, None)
