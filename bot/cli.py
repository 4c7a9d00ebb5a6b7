"""`python -m bot …`: run the bot, migrate the database, move data in and out as CSV."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings

KINDS = ("customers", "purchases", "services")

NO_TOKEN = """\
BOT_TOKEN is not set, so the bot cannot connect to Telegram.
  1. In Telegram, open @BotFather, send /newbot and follow its questions.
  2. Copy the token it gives you (it looks like 123456789:AAF...).
  3. Put it in the file .env next to this README:  BOT_TOKEN=123456789:AAF...
     (copy .env.example to .env to start), then run the bot again."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram bot that keeps a shop's customers coming back.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling); the default")
    commands.add_parser("migrate", help="create or upgrade the database tables")
    export = commands.add_parser("export", help="write customers, purchases or services as CSV")
    export.add_argument("kind", choices=KINDS)
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    load = commands.add_parser("import", help="read customers, purchases or services from CSV")
    load.add_argument("kind", choices=KINDS)
    load.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    command = args.command or "run"
    if command == "run":
        return _run(settings)
    if command == "migrate":
        return asyncio.run(_migrate(settings))
    if command == "export":
        return asyncio.run(_export(settings, args.kind, args.output))
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    return asyncio.run(_import(settings, args.kind, args.file))


def _run(settings: Settings) -> int:
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run_polling

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_polling(settings))
    return 0


async def _migrate(settings: Settings) -> int:
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    print("database is up to date")
    return 0


async def _export(settings: Settings, kind: str, output: Path | None) -> int:
    from services.transfer import export_csv
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        if output is None:
            rows = await export_csv(db, kind, sys.stdout, zone=settings.zone)
        else:
            # The BOM lets Excel show Cyrillic; import accepts files with or without it.
            with output.open("w", encoding="utf-8-sig", newline="") as out:
                rows = await export_csv(db, kind, out, zone=settings.zone)
    finally:
        await db.dispose()
    print(f"exported {rows} {kind}", file=sys.stderr)
    return 0


async def _import(settings: Settings, kind: str, path: Path) -> int:
    from bot.app import utc_now
    from services.transfer import ImportFailed, import_csv
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        with path.open(encoding="utf-8-sig", newline="") as source:
            report = await import_csv(db, kind, source, zone=settings.zone, now=utc_now())
    except ImportFailed as exc:
        print(f"nothing imported: {exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"nothing imported: {path} is not UTF-8 text (save it as CSV UTF-8)", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(
        f"imported {kind}: {report.created} created, {report.updated} updated, "
        f"{report.skipped} skipped (already there)"
    )
    for note in report.notes:
        print(f"  {note}")
    return 0
