"""Start-up problems end in one plain line naming the setting to fix, never a traceback:
a database that cannot be written, a Bot API that does not answer, a token Telegram rejects.
Settings are read with surrounding spaces trimmed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot import cli, startup
from bot.app import run_polling
from bot.config import load_settings
from bot.startup import StartupError, check_telegram
from storage.database import Database
from tests.conftest import make_settings
from tests.fakes.telegram import FakeTelegram, TelegramApiError
from tests.test_config_and_cli import run_cli_process

TOKEN = "123456:TEST-TOKEN"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean directory (no .env), a token, an owner, and retries without waiting."""
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "REDIS_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("OWNER_IDS", "1000")
    monkeypatch.setattr(startup, "CONNECT_DELAYS", (0.01, 0.02))
    return monkeypatch


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_settings_are_trimmed_of_surrounding_spaces(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        'TIMEZONE="Europe/Moscow "\n'
        'BOT_TOKEN=" 123456:ABC "\n'
        "OWNER_IDS= 1, 2 \n"
        'TELEGRAM_API_URL=" http://127.0.0.1:8081/ "\n'
        'DATABASE_URL=" sqlite:///shop.db "\n'
        'CHANNEL_ID=" -1001234567890 "\n'
        'REDIS_URL="   "\n'
        'DEFAULT_LANGUAGE=" en "\n'
        'FSM_TTL_HOURS=" 12 "\n'
    )
    settings = load_settings(_env_file=env)
    assert settings.timezone == "Europe/Moscow"
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123456:ABC"
    assert settings.owner_ids == (1, 2)
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.database_url == "sqlite+aiosqlite:///shop.db"
    assert settings.channel_id == -1001234567890
    assert settings.redis_url is None  # only spaces: not set
    assert settings.default_language == "en"
    assert settings.fsm_ttl_hours == 12


def test_the_conversation_time_to_live_has_a_sensible_default_and_bounds() -> None:
    assert load_settings(_env_file=None).fsm_ttl_hours == 24
    with pytest.raises(Exception, match="FSM_TTL_HOURS"):
        load_settings(_env_file=None, fsm_ttl_hours="0")


async def test_a_rejected_token_is_one_line(fake: FakeTelegram, sqlite_db: Database) -> None:
    def unauthorized(call: object) -> object:
        raise TelegramApiError(401)

    fake.register("getMe", unauthorized)
    settings = make_settings(fake, sqlite_db)
    with pytest.raises(StartupError) as error:
        await run_polling(settings, connect_delays=(0.01,))
    line = one_line(str(error.value))
    assert "BOT_TOKEN" in line and "@BotFather" in line
    assert len(fake.calls_of("getMe")) == 1  # a refusal is final: no retries
    assert not fake.calls_of("getUpdates")


async def test_a_stumbling_bot_api_is_tried_again(fake: FakeTelegram, sqlite_db: Database) -> None:
    fake.fail_next("getMe", error_code=502, times=2)
    settings = make_settings(fake, sqlite_db)
    bot = fake.make_bot(TOKEN)
    try:
        me = await check_telegram(bot, settings, delays=(0.01, 0.01, 0.01))
    finally:
        await bot.session.close()
    assert me.username == "test_retention_bot"
    assert len(fake.calls_of("getMe")) == 3


def test_an_unreachable_bot_api_is_retried_then_one_line(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("TELEGRAM_API_URL", f"http://127.0.0.1:{closed_port()}")
    assert cli.main(["run"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("Cannot reach the Telegram Bot API at http://127.0.0.1:")
    assert "after 3 tries" in line
    assert "TELEGRAM_API_URL" in line


def test_a_read_only_database_file_is_one_line(
    environment: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.db"
    environment.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert cli.main(["migrate"]) == 0  # the file exists and is up to date
    capsys.readouterr()
    # As root, file modes do not stop writes; SQLite's read-only mode does, as a full disk
    # or a read-only mount would.
    environment.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    environment.setenv("TELEGRAM_API_URL", f"http://127.0.0.1:{closed_port()}")
    assert cli.main(["run"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("Cannot write the database")
    assert "DATABASE_URL" in line and "readonly" in line


def test_a_malformed_token_is_one_line(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("BOT_TOKEN", "not-a-token")
    assert cli.main(["run"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "BOT_TOKEN" in line and "@BotFather" in line


def test_python_m_bot_run_in_a_folder_it_cannot_write(tmp_path: Path) -> None:
    """The whole path as an owner meets it: a padded TIMEZONE is fine, and a database where
    no file can be created stops the bot with one line and a non-zero exit code. The one test
    that starts `python -m bot` as a child process; the others call cli.main in process."""
    result = run_cli_process(
        "run",
        cwd=tmp_path,
        BOT_TOKEN=TOKEN,
        OWNER_IDS="1000",
        TIMEZONE="Europe/Moscow ",
        DATABASE_URL="sqlite:////proc/retention-bot.db",  # no one may create files there
        TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}",
    )
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("Cannot write the database, the file /proc/retention-bot.db")
    assert "DATABASE_URL" in line
