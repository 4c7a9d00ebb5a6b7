"""Settings and the command line, as a new owner meets them."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from bot import cli
from bot.config import SettingsError, load_settings
from ui.i18n import LOCALES, create_i18n

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, **env: str) -> CliResult:
    """`python -m bot ARGS` run in this process: `cli.main(argv)` in `cwd`, with only the
    settings given here in the environment, its output and log lines captured as a child
    process's would be. Seconds faster than a child that imports everything again; the
    child itself is checked once (`run_cli_process`)."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    # As `logging.basicConfig` in main() would: INFO and up to stderr (a logged traceback
    # shows there, as it would for the owner).
    root = logging.getLogger()
    handler = logging.StreamHandler(err)
    saved_level = root.level
    try:
        for name in [k for k in os.environ if k.isupper() and k not in {"PATH", "HOME"}]:
            del os.environ[name]
        os.environ.update(env)
        os.chdir(cwd)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit_:  # argparse: --help, a bad choice
                code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_process(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as a child process, with only the settings given here."""
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
    clean.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_defaults() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./data/bot.db"
    assert settings.owner_ids == ()
    assert settings.telegram_api_url is None
    assert settings.default_language == "ru"


def test_values_are_read_and_normalised() -> None:
    settings = load_settings(
        _env_file=None,
        owner_ids="1, 2;3",
        database_url="postgres://shop@db/shop",
        telegram_api_url="http://127.0.0.1:8081/",
        timezone="Asia/Almaty",
    )
    assert settings.owner_ids == (1, 2, 3)
    assert settings.database_url == "postgresql+asyncpg://shop@db/shop"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert str(settings.zone) == "Asia/Almaty"


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("timezone", "Moscow", "TIMEZONE"),
        ("owner_ids", "12,abc", "OWNER_IDS"),
        ("database_url", "mysql://root@localhost/shop", "DATABASE_URL"),
        ("telegram_api_url", "ftp://x", "TELEGRAM_API_URL"),
        ("default_language", "de", "DEFAULT_LANGUAGE"),
        ("redis_url", "localhost:6379", "REDIS_URL"),
        ("channel_id", "@mychannel", "CHANNEL_ID"),
    ],
)
def test_a_bad_value_names_the_setting(setting: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, **{setting: value})
    lines = str(error.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Setting {named}:")


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "migrate", "export", "import"):
        assert command in result.stdout


def test_run_without_token_explains_botfather(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path, TIMEZONE="Nowhere/City")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Setting TIMEZONE: unknown time zone 'Nowhere/City'; use an IANA name such as Europe/Moscow"
    ]


def test_migrate_creates_the_sqlite_file_under_data(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bot.db").is_file()


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Mars/Olympus\n")
    result = run_cli("migrate", cwd=tmp_path)
    assert "Setting TIMEZONE" in result.stderr


def test_locales_have_the_same_ids_and_placeholders() -> None:
    i18n = create_i18n("ru")
    ids = {language: {m.id for m in _catalog(language) if m.id} for language in ("ru", "en")}
    assert ids["ru"] == ids["en"]
    for key in ids["ru"]:
        if isinstance(key, tuple):  # a plural entry: every form of both languages alike
            forms = [
                i18n.gettext(key[0], key[0], n, locale=lang)
                for lang in ("ru", "en")
                for n in (1, 2, 5)
            ]
            assert len({frozenset(_placeholders(form)) for form in forms}) == 1, key
            continue
        ru, en = (i18n.gettext(key, locale=lang) for lang in ("ru", "en"))
        assert _placeholders(ru) == _placeholders(en), key


def test_every_text_the_code_uses_exists() -> None:
    import re

    used: set[str] = set()
    plural_used: set[str] = set()
    for folder in ("bot", "handlers", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text()
            used |= set(re.findall(r'tr(?:_in)?\((?:[a-z_.]+, [a-z_.]+, )?"([a-z0-9-]+)"', source))
            # plurals: trn("id", n), trn_in(i18n, language, "id", n) and Texts' t.plural("id", n)
            plural_used |= set(
                re.findall(r'trn(?:_in)?\((?:[a-z_.]+, [a-z_.]+, )?"([a-z0-9-]+)"', source)
            )
            plural_used |= set(re.findall(r'\.plural\(\s*"([a-z0-9-]+)"', source))
            used |= set(re.findall(r'InputError\(\s*"([a-z0-9-]+)"', source))
            used |= set(re.findall(r'error="([a-z0-9-]+)"', source))
            used |= set(re.findall(r'"(cmd-[a-z]+)"', source))
    catalog = _catalog("en")
    known = {m.id for m in catalog if isinstance(m.id, str)}
    plurals = {m.id[0] for m in catalog if isinstance(m.id, tuple)}
    assert used, "the scan found no texts"
    assert used - known == set(), "tr() needs a plain entry"
    assert plural_used, "the scan found no plural texts"
    assert plural_used - plurals == set(), "trn() needs a plural entry (msgid_plural)"


def _catalog(language: str) -> list[Message]:
    messages: list[Message] = []
    ids: set[str] = set()
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po):
                if not message.id:  # each file's header
                    continue
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                assert key not in ids, f"{key} is defined twice"
                ids.add(key)
                messages.append(message)
    return messages


def _placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"\{(\w+)\}", text))
