"""What people type: amounts, phones, dates, birthdays, the one-line sale."""

from __future__ import annotations

from datetime import date

import pytest

from services.errors import InputError
from services.money import format_money
from services.parsing import (
    Birthday,
    parse_birthday,
    parse_date,
    parse_money,
    parse_optional_days,
    parse_phone,
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
