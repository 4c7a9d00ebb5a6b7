"""The hosting files (Dockerfile, docker-compose.yml, the systemd unit) run commands that exist.

No Docker daemon here: the files are parsed, and each `python -m bot …` they run must be accepted
by the CLI's parser; the healthcheck's URL must be a path the web app serves, on WEB_PORT.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.cli import build_parser
from bot.health import create_health_app
from tests.conftest import RunningBot

ROOT = Path(__file__).resolve().parent.parent


def bot_commands(shell: str) -> list[list[str]]:
    """`python -m bot …` argument lists of an `a && exec b` shell line."""
    commands = []
    for part in shell.split("&&"):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        assert words[:3] == ["python", "-m", "bot"], f"not a bot command: {part!r}"
        commands.append(words[3:])
    return commands


def accepted(argv: list[str]) -> str:
    """The CLI command `argv` names; fails the test if the parser would refuse it."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"python -m bot {' '.join(argv)}: the CLI refuses it")
    return str(args.command)


def dockerfile() -> list[tuple[str, str]]:
    lines = []
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            lines.append((instruction.upper(), rest.strip()))
    return lines


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_dockerfile_is_slim_non_root_and_runs_migrate_then_run() -> None:
    lines = dockerfile()
    assert ("FROM", "python:3.11-slim") in lines
    instructions = [name for name, _ in lines]
    user = [rest for name, rest in lines if name == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert instructions.index("USER") < instructions.index("CMD")
    (cmd,) = [rest for name, rest in lines if name == "CMD"]
    argv = json.loads(cmd)
    assert argv[:2] == ["sh", "-c"]
    commands = bot_commands(argv[2])
    assert [accepted(c) for c in commands] == ["migrate", "run"]
    assert any("pip install" in rest for name, rest in lines if name == "RUN")


def test_compose_runs_the_bot_in_webhook_mode_after_healthy_services() -> None:
    services = compose()["services"]
    assert set(services) == {"bot", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    bot = services["bot"]
    command = bot["command"]
    assert command[:2] == ["sh", "-c"]
    commands = bot_commands(command[2])
    assert [accepted(c) for c in commands] == ["migrate", "run"]
    assert build_parser().parse_args(commands[-1]).webhook is True
    for dependency in ("postgres", "redis"):
        assert bot["depends_on"][dependency] == {"condition": "service_healthy"}
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert bot["environment"]["REDIS_URL"].startswith("redis://redis:")


def healthcheck_url() -> tuple[int, str]:
    bot = compose()["services"]["bot"]
    test = " ".join(bot["healthcheck"]["test"])
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", test)
    assert found, test
    port = int(found.group(1))
    assert port == int(bot["environment"]["WEB_PORT"])
    return port, found.group(2)


async def test_compose_healthcheck_asks_a_path_the_web_app_serves(app: RunningBot) -> None:
    _port, path = healthcheck_url()
    client = TestClient(TestServer(create_health_app(app.dp), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get(path)
        assert response.status == 200
    finally:
        await client.close()


def test_systemd_unit_runs_commands_the_cli_accepts() -> None:
    unit = (ROOT / "deploy" / "retention-bot.service").read_text(encoding="utf-8")
    entries = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#")
    )
    assert entries["User"] not in ("root", "0")
    for key, expected in (("ExecStartPre", "migrate"), ("ExecStart", "run")):
        words = shlex.split(entries[key])
        assert words[0].endswith("/python") and words[1:3] == ["-m", "bot"]
        assert accepted(words[3:]) == expected
