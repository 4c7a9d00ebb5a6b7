"""What people type: amounts, phones, dates, birthdays, the one-line sale."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.errors import InputError
from services.money import format_money
from services.parsing import (
    Birthday,
    parse_birthday,
    parse_clock,
    parse_date,
    parse_day,
    parse_local_moment,
    parse_money,
    parse_optional_days,
    parse_phone,
    parse_time_range,
    parse_weekday,
    split_name_and_phone,
    split_sale_command,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("typed", "minor"),
    [
        ("2500", 250000),
        ("2 500", 250000),
        ("2\u00a0500", 250000),
        ("2500,50", 250050),
        ("2500.5", 250050),
        ("2 500,50", 250050),
        ("2 500 ₽", 250000),
        ("2500₽", 250000),
        ("2500 руб.", 250000),
        ("2500 р", 250000),
        ("$12.99", 1299),
        ("2,500", 250000),
        ("1,250,000.75", 125000075),
        ("0,5", 50),
        ("  700  ", 70000),
        ("10000000", 1_000_000_000),
    ],
)
def test_amounts_people_type(typed: str, minor: int) -> None:
    assert parse_money(typed) == minor


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "error-money-empty"),
        ("   ", "error-money-empty"),
        ("abc", "error-money-format"),
        ("25OO", "error-money-format"),
        ("0", "error-money-zero"),
        ("0,00", "error-money-zero"),
        ("-500", "error-money-negative"),
        ("−500", "error-money-negative"),
        ("10000000,01", "error-money-too-large"),
        ("1e9", "error-money-format"),
        ("2500,505", "error-money-format"),
        ("25 00", "error-money-format"),
        ("2.500.000", "error-money-format"),
        ("9" * 4000, "error-money-format"),
    ],
)
def test_amounts_refused(typed: str, code: str) -> None:
    with pytest.raises(InputError) as error:
        parse_money(typed)
    assert error.value.code == code


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("+7 916 123-45-67", "+79161234567"),
        ("8 (916) 123-45-67", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones(typed: str, phone: str) -> None:
    assert parse_phone(typed) == phone


@pytest.mark.parametrize(
    "typed", ["", "12345", "phone", "+7 916 abc", "+1234567890123456", "1" * 4000, "++79161234567"]
)
def test_phones_refused(typed: str) -> None:
    with pytest.raises(InputError):
        parse_phone(typed)


def test_dates() -> None:
    assert parse_date("2026-11-20", today=TODAY) == date(2026, 11, 20)
    assert parse_date("20.11.2026", today=TODAY) == date(2026, 11, 20)
    assert parse_date("вчера", today=TODAY) == date(2026, 11, 24)
    for typed, code in [
        ("2026-02-30", "error-date-impossible"),
        ("2026-11-26", "error-date-future"),
        ("20/11", "error-date-format"),
        ("soon", "error-date-format"),
    ]:
        with pytest.raises(InputError) as error:
            parse_date(typed, today=TODAY)
        assert error.value.code == code
    with pytest.raises(InputError) as error:
        parse_date("2020-01-01", today=TODAY, earliest=date(2021, 11, 25))
    assert error.value.code == "error-date-too-old"


def test_birthdays() -> None:
    assert parse_birthday("05.03", today=TODAY) == Birthday(5, 3)
    assert parse_birthday("5/3/1990", today=TODAY) == Birthday(5, 3, 1990)
    assert parse_birthday("1990-03-05", today=TODAY) == Birthday(5, 3, 1990)
    assert parse_birthday("--03-05", today=TODAY) == Birthday(5, 3)
    assert parse_birthday("29.02", today=TODAY) == Birthday(29, 2)
    assert parse_birthday("29.02.2000", today=TODAY) == Birthday(29, 2, 2000)
    assert Birthday(5, 3).iso() == "--03-05"
    assert Birthday(5, 3, 1990).as_text() == "05.03.1990"
    for typed, code in [
        ("29.02.2001", "error-birthday-impossible"),
        ("32.01", "error-birthday-impossible"),
        ("01.13", "error-birthday-impossible"),
        ("01.01.2027", "error-birthday-future"),
        ("01.01.1900", "error-birthday-too-old"),
        ("March 5", "error-birthday-format"),
    ]:
        with pytest.raises(InputError) as error:
            parse_birthday(typed, today=TODAY)
        assert error.value.code == code, typed


def test_cycle_days() -> None:
    assert parse_optional_days("21") == 21
    assert parse_optional_days("-") is None
    assert parse_optional_days("нет") is None
    for typed in ("0.5", "366", "abc", "9" * 50):
        with pytest.raises(InputError):
            parse_optional_days(typed)


def test_one_line_sale() -> None:
    cmd = split_sale_command("+79161234567 2 500,50 ₽ Gel manicure 2026-11-01")
    assert (cmd.customer, cmd.amount, cmd.service, cmd.day) == (
        "+79161234567",
        250050,
        "Gel manicure",
        "2026-11-01",
    )
    cmd = split_sale_command('"Anna Petrova" 900')
    assert (cmd.customer, cmd.amount, cmd.service, cmd.day) == ("Anna Petrova", 90000, None, None)
    cmd = split_sale_command("#3 1500, haircut")
    assert (cmd.amount, cmd.service) == (150000, "haircut")
    for bad in ("#3", '"Anna 900', "#3 haircut"):
        with pytest.raises(InputError):
            split_sale_command(bad)


def test_name_and_phone() -> None:
    assert split_name_and_phone("Maria Ivanova +7 (916) 555-44-33") == (
        "Maria Ivanova",
        "+7 (916) 555-44-33",
    )
    for bad in ("Maria", "+79165554433", "Maria 123"):
        with pytest.raises(InputError):
            split_name_and_phone(bad)


def test_money_is_shown_the_shops_way() -> None:
    assert format_money(250000, "RUB") == "2\u00a0500\u00a0₽"
    assert format_money(250050, "RUB") == "2\u00a0500,50\u00a0₽"
    assert format_money(250050, "USD") == "$2,500.50"


# --- days and names as people type them (issue 14, item 6); TODAY is a Wednesday -----------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("сегодня", date(2026, 11, 25)),
        ("Today", date(2026, 11, 25)),
        ("вчера", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 24)),
        ("позавчера", date(2026, 11, 23)),
        # A weekday is the most recent such day within the last seven: today's is today.
        ("ср", date(2026, 11, 25)),
        ("в среду", date(2026, 11, 25)),
        ("wednesday", date(2026, 11, 25)),
        ("вт", date(2026, 11, 24)),
        ("во вторник", date(2026, 11, 24)),
        ("пн", date(2026, 11, 23)),
        ("понедельник", date(2026, 11, 23)),
        ("в понедельник", date(2026, 11, 23)),
        ("mon", date(2026, 11, 23)),
        ("Monday", date(2026, 11, 23)),
        ("on monday", date(2026, 11, 23)),
        ("Пн.", date(2026, 11, 23)),
        ("вс", date(2026, 11, 22)),
        ("воскресенье", date(2026, 11, 22)),
        ("в субботу", date(2026, 11, 21)),
        ("sat", date(2026, 11, 21)),
        ("пятница", date(2026, 11, 20)),
        ("fri", date(2026, 11, 20)),
        ("чт", date(2026, 11, 19)),
        ("thursday", date(2026, 11, 19)),
        # DD.MM is the most recent such day: this year, or last year when it is still ahead.
        ("20.11", date(2026, 11, 20)),
        ("25.11", date(2026, 11, 25)),
        ("26.11", date(2025, 11, 26)),
        ("31.12", date(2025, 12, 31)),
        ("5.3", date(2026, 3, 5)),
        ("05.03.2026", date(2026, 3, 5)),
        ("05/03/2026", date(2026, 3, 5)),
        ("2026-03-05", date(2026, 3, 5)),
    ],
)
def test_days_people_type(typed: str, day: date) -> None:
    assert parse_date(typed, today=TODAY) == day


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("вчерашний", "salephrase-day-unknown"),
        ("сегодняшняя", "salephrase-day-unknown"),
        ("пятнца", "salephrase-day-unknown"),
        ("понедельнк", "salephrase-day-unknown"),
        ("в субботy", "salephrase-day-unknown"),  # a Latin y
        ("mondy", "salephrase-day-unknown"),
        ("firday", "salephrase-day-unknown"),
        ("31.02", "error-date-impossible"),
        ("29.02", "error-date-impossible"),  # 2026 has no 29 February
        ("32.01", "error-date-impossible"),
        ("01.01.2027", "error-date-future"),
        ("в", "error-date-format"),
    ],
)
def test_days_refused(typed: str, code: str) -> None:
    with pytest.raises(InputError) as error:
        parse_date(typed, today=TODAY)
    assert error.value.code == code, typed


def test_the_backdating_limit_holds_for_every_form() -> None:
    earliest = date(2026, 11, 22)
    assert parse_date("вс", today=TODAY, earliest=earliest) == earliest
    for typed in ("пт", "friday", "20.11", "2026-11-20"):
        with pytest.raises(InputError) as error:
            parse_date(typed, today=TODAY, earliest=earliest)
        assert error.value.code == "error-date-too-old", typed


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        # The three lines of the issue.
        ("+79990000000 1 800 ₽ Педикюр вчера", ("+79990000000", 180000, "Педикюр", "вчера")),
        ("Ольга Смирнова 2700 Маникюр гель", ("Ольга Смирнова", 270000, "Маникюр гель", None)),
        ("+79990000001 2500", ("+79990000001", 250000, None, None)),
        # A day anywhere: first, after the customer, inside the service, last.
        ("вчера Ольга 2700 Маникюр", ("Ольга", 270000, "Маникюр", "вчера")),
        ("Ольга вчера 2700 Маникюр", ("Ольга", 270000, "Маникюр", "вчера")),
        ("#1 2 500 в пятницу Маникюр", ("#1", 250000, "Маникюр", "в пятницу")),
        ("#1 2500 Маникюр 20.11 гель", ("#1", 250000, "Маникюр гель", "20.11")),
        ("#1 20.11.2026 2500", ("#1", 250000, None, "20.11.2026")),
        (
            "Anna Petrova 2500 gel manicure on Monday",
            ("Anna Petrova", 250000, "gel manicure", "on monday"),
        ),
        ("Anna 2500, manicure, yesterday", ("Anna", 250000, "manicure", "yesterday")),
        ("@anna 2500 пн", ("@anna", 250000, None, "пн")),
        # Amounts with spaces and signs belong together.
        ("Ольга 2 500 Маникюр", ("Ольга", 250000, "Маникюр", None)),
        ("Ольга 1 800 ₽", ("Ольга", 180000, None, None)),
        ("Ольга 800₽ Маникюр", ("Ольга", 80000, "Маникюр", None)),
        ("Anna $12.99 coffee", ("Anna", 1299, "coffee", None)),
        ("Anna 2 500,50 руб. manicure", ("Anna", 250050, "manicure", None)),
        # 12.05 with no other number is the amount; with one, it is the day; before ₽, money.
        ("Anna 12.05", ("Anna", 1205, None, None)),
        ("Anna 12.05 ₽ coffee", ("Anna", 1205, "coffee", None)),
        ("Anna 12.05 2500", ("Anna", 250000, None, "12.05")),
        # A name with a number is quoted; a name near a day word is still a name.
        ('"Кабинет 5" 2500', ("Кабинет 5", 250000, None, None)),
        ('"Ольга Вчера" 2500 вчера', ("Ольга Вчера", 250000, None, "вчера")),
        ("Frida 2500", ("Frida", 250000, None, None)),
        ("Anna 300 sundae", ("Anna", 30000, "sundae", None)),
    ],
)
def test_one_line_sale_as_people_type_it(
    typed: str, parts: tuple[str, int, str | None, str | None]
) -> None:
    cmd = split_sale_command(typed)
    assert (cmd.customer, cmd.amount, cmd.service, cmd.day) == parts


def test_one_line_sale_keeps_codes_and_points_anywhere() -> None:
    cmd = split_sale_command("Ольга Смирнова BD-7KQ2ZX вчера 2700 points:100 Маникюр")
    assert (cmd.customer, cmd.amount, cmd.service, cmd.day) == (
        "Ольга Смирнова",
        270000,
        "Маникюр",
        "вчера",
    )
    assert (cmd.code, cmd.points) == ("BD-7KQ2ZX", 100)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        # A name followed by numbers that do not read as one amount: refused, never guessed.
        ("Ольга 2 2700 Маникюр", "salephrase-amount-unclear"),
        ("Кабинет 5 25 00", "salephrase-amount-unclear"),
        ("#1 2500 3 Маникюр", "salephrase-amount-unclear"),
        # Two days in one line.
        ("#1 2500 вчера 20.11", "salephrase-two-days"),
        ("#1 в пятницу 2500 2026-11-20", "salephrase-two-days"),
        ("Anna today 2500 yesterday", "salephrase-two-days"),
        # A day meant but not written as one we read.
        ("#1 2500 вчерашний Маникюр", "salephrase-day-unknown"),
        ("#1 2500 Маникюр пятнца", "salephrase-day-unknown"),
        ("Anna 2500 mondy", "salephrase-day-unknown"),
        # No amount, or nothing after the customer.
        ("Ольга Смирнова Маникюр", "error-sale-usage"),
        ("Ольга вчера", "error-sale-usage"),
        ("#1 Маникюр 2500", "error-money-format"),
    ],
)
def test_one_line_sale_refused(typed: str, code: str) -> None:
    with pytest.raises(InputError) as error:
        split_sale_command(typed)
    assert error.value.code == code, typed


def test_an_impossible_day_in_the_line_is_refused_when_read() -> None:
    cmd = split_sale_command("#1 2500 31.02")
    assert cmd.day == "31.02"
    with pytest.raises(InputError) as error:
        parse_date(cmd.day, today=TODAY)
    assert error.value.code == "error-date-impossible"


# --- the day and time family: one set of day formats for every reader ----------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("31.12.2026", date(2026, 12, 31)),
        ("31/12/2026", date(2026, 12, 31)),
        ("31.12", date(2026, 12, 31)),  # this year, although it is still to come
        ("05.03", date(2026, 3, 5)),
        ("Сегодня", TODAY),
        ("завтра", date(2026, 11, 26)),
        ("tomorrow", date(2026, 11, 26)),
        ("вчера", date(2026, 11, 24)),
    ],
)
def test_any_calendar_day(typed: str, day: date) -> None:
    assert parse_day(typed, today=TODAY) == day


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("31.02.2026", "error-date-impossible"),
        ("someday", "error-date-format"),
        ("", "error-date-format"),
    ],
)
def test_days_that_are_no_days(typed: str, code: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_day(typed, today=TODAY)
    assert raised.value.code == code


def test_a_past_day_reads_the_same_formats_but_never_the_future() -> None:
    assert parse_date("05.03", today=TODAY) == parse_day("05/03", today=TODAY) == date(2026, 3, 5)
    with pytest.raises(InputError) as raised:
        parse_date("31.12.2026", today=TODAY)
    assert raised.value.code == "error-date-future"


def test_clocks_and_ranges() -> None:
    assert [parse_clock(t) for t in ("9", "09:30", "9.30", " 23:59 ")] == [
        time(9), time(9, 30), time(9, 30), time(23, 59)
    ]  # fmt: skip
    for bad in ("24", "10:60", "ten", "10:5", ""):
        with pytest.raises(InputError) as raised:
            parse_clock(bad, error="error-x")
        assert raised.value.code == "error-x"
    assert parse_time_range("9 – 21:30", error="e") == (time(9), time(21, 30))
    cases = [("21-9", "order"), ("9", "format"), ("25-26", "clock"), ("9-" + "1" * 300, "format")]
    for typed, code in cases:
        with pytest.raises(InputError) as raised:
            parse_time_range(typed, error="format", order_error="order", clock_error="clock")
        assert raised.value.code == code


def test_weekdays_on_their_own() -> None:
    words = ("пн", "Понедельник", "mon", "mo", "ср.", "среду", "вс", "su")
    assert [parse_weekday(w) for w in words] == [0, 0, 0, 0, 2, 2, 6, 6]
    with pytest.raises(InputError):
        parse_weekday("someday")


def test_a_local_moment() -> None:
    zone = ZoneInfo("Europe/Moscow")
    expected = datetime(2026, 12, 1, 18, 30, tzinfo=zone)
    for typed in ("2026-12-01 18:30", " 01.12.2026   18:30 ", "1.12.2026 18:30"):
        assert parse_local_moment(typed, zone=zone, error="e") == expected
    for bad in ("01.12 18:30", "2026-12-01", "2026-12-01 18", "31.02.2026 10:00", "soon"):
        with pytest.raises(InputError) as raised:
            parse_local_moment(bad, zone=zone, error="e")
        assert raised.value.code == "e"
