"""`python -m bot stats` and `python -m bot clv`, run as the owner would run them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_config_and_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "tests" / "data" / "cdnow_transactions.csv"


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """A migrated SQLite shop with a few sales, in tmp_path/data/bot.db."""
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(tmp_path / "data" / "bot.db") as conn:
        for i in range(3):
            conn.execute(
                "INSERT INTO customers (id, name, created_at) VALUES (?, ?, ?)",
                (i + 1, f"C{i}", str(now - timedelta(days=300))),
            )
        for customer, days, amount in [(1, 50, 9000), (1, 20, 9000), (2, 10, 9000), (3, 120, 500)]:
            at = str(now - timedelta(days=days))
            conn.execute(
                "INSERT INTO purchases (customer_id, amount, purchased_at, created_at, discount) "
                "VALUES (?, ?, ?, ?, 0)",
                (customer, amount, at, at),
            )
    return tmp_path


def test_stats_json_keys(shop_dir: Path) -> None:
    result = run_cli("stats", "--json", cwd=shop_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in (
        "repeat_share_90d",
        "repeat_revenue_share_90d",
        "aov",
        "purchases_per_customer",
        "ltv_historical",
        "clv_formula",
        "abc",
    ):
        assert key in data, key
    assert data["last_90d"]["purchases"] == 3
    assert data["repeat_share_90d"] == pytest.approx(1 / 3, abs=1e-4)
    assert data["aov"] == pytest.approx(27500 / 4)
    assert data["purchases_per_customer"] == pytest.approx(4 / 3, abs=1e-4)
    assert set(data["abc"]) == {"A", "B", "C"}
    assert set(data["abc"]["A"]) >= {"customers", "revenue_share"}
    assert data["model"]["status"] == "too_little_data"


def test_stats_text_report(shop_dir: Path) -> None:
    result = run_cli("stats", cwd=shop_dir)
    assert result.returncode == 0, result.stderr
    assert "Последние 90 дней: 3 покупки" in result.stdout  # the plural form, not «3 покупок»


def test_stats_on_an_empty_shop(tmp_path: Path) -> None:
    result = run_cli("stats", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["purchases"] == 0 and data["aov"] is None and data["clv_formula"] is None
    text = run_cli("stats", cwd=tmp_path, DEFAULT_LANGUAGE="en")
    assert "No purchases yet" in text.stdout


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "01.02.2026", ""])
def test_stats_bad_as_of(tmp_path: Path, value: str) -> None:
    result = run_cli("stats", "--as-of", value, cwd=tmp_path)
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr
    assert "Traceback" not in result.stderr


def test_stats_as_of_in_the_future(tmp_path: Path) -> None:
    result = run_cli("stats", "--as-of", "2999-01-01", cwd=tmp_path, DEFAULT_LANGUAGE="en")
    assert result.returncode == 2
    assert "in the future" in result.stderr


def test_stats_as_of_a_past_day(shop_dir: Path) -> None:
    day = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    data = json.loads(run_cli("stats", "--as-of", day, "--json", cwd=shop_dir).stdout)
    assert data["as_of"] == day
    assert data["purchases"] == 2  # the sales 50 and 120 days ago


def test_clv_reproduces_the_published_cdnow_estimates(tmp_path: Path) -> None:
    result = run_cli(
        "clv",
        "--transactions",
        str(CDNOW),
        "--calibration-end",
        "1997-09-30",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    bg, gg = data["bgnbd"], data["gamma_gamma"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3), round(bg["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(bg["log_likelihood"], 1) == -9582.4
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert data["customers"] == 2357 and data["repeat_buyers"] == 946


def test_clv_on_the_database_with_too_little_data(shop_dir: Path) -> None:
    result = run_cli("clv", "--json", cwd=shop_dir)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == "too_little_data"
    assert data["reason"] == "model-too-few-customers"
    plain = run_cli("clv", cwd=shop_dir)
    assert "too little data" in plain.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("id,when,amount\n1,2024-01-01,5\n", "missing column(s) customer_id, date"),
        ("customer_id,date,amount\n1,2024-02-30,5\n", "line 2"),
        ("customer_id,date,amount\n1,2024-02-03,five\n", "line 2"),
        ("customer_id,date,amount\n,2024-02-03,5\n", "empty customer_id"),
        ("customer_id,date,amount\n", "no transactions"),
    ],
)
def test_clv_bad_file(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content)
    result = run_cli("clv", "--transactions", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_clv_missing_file_and_bad_options(tmp_path: Path) -> None:
    missing = run_cli("clv", "--transactions", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_end = run_cli(
        "clv", "--transactions", str(CDNOW), "--calibration-end", "97-09-30", cwd=tmp_path
    )
    assert bad_end.returncode == 2 and "YYYY-MM-DD" in bad_end.stderr
    bad_margin = run_cli("clv", "--transactions", str(CDNOW), "--margin", "150", cwd=tmp_path)
    assert bad_margin.returncode == 2 and "percent" in bad_margin.stderr


def test_clv_calibration_end_before_any_purchase(tmp_path: Path) -> None:
    result = run_cli(
        "clv", "--transactions", str(CDNOW), "--calibration-end", "1990-01-01", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "too little data: 0 customers" in result.stderr


def _text_id_rows(header: str, name: str) -> str:
    """The CDNOW sample with customer ids as text (C0001, an e-mail), under `header`."""
    lines = CDNOW.read_text(encoding="utf-8").splitlines()
    out = [header]
    for line in lines[1:]:
        customer, day, _quantity, amount = line.split(",")
        ident = f"C{int(customer):04d}" if name == "code" else f"c{customer}@mail.ru"
        out.append(f"{ident},{day} 12:00:00,{amount}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    ("header", "name"),
    [("customer_id,date,amount", "code"), ("customer,date,amount", "email")],
)
def test_clv_takes_text_ids_and_the_export_columns(tmp_path: Path, header: str, name: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(_text_id_rows(header, name), encoding="utf-8")
    result = run_cli(
        "clv",
        "--transactions",
        str(path),
        "--calibration-end",
        "1997-09-30",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # The same fit as with the numeric ids: ids are only labels.
    assert round(data["bgnbd"]["r"], 3) == 0.243 and data["customers"] == 2357


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\xff\xfe garbage", b'customer,date,amount\n"C1,2024-01-01,5\n'],
)
def test_clv_unreadable_file_is_one_line_not_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    result = run_cli("clv", "--transactions", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip()
