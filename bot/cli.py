"""`python -m bot …`: run the bot, migrate the database, move data in and out (CSV, dump)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import cli_analytics, cli_backup, cli_copy
from bot.config import Settings, SettingsError, load_settings

KINDS = ("customers", "purchases", "services")
JOB_NAMES = ("rebooking", "birthdays", "feedback", "booking_reminders")

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
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook); the default")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEB_HOST, WEB_PORT)",
    )
    commands.add_parser("migrate", help="create or upgrade the database tables")
    export = commands.add_parser("export", help="write customers, purchases or services as CSV")
    export.add_argument("kind", choices=KINDS)
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    jobs = commands.add_parser("jobs", help="the scheduled scans: list them, or run one now")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_commands.add_parser("list", help="each job, when it last ran and runs next")
    run_one = jobs_commands.add_parser("run", help="run one job now (a running bot sends its rows)")
    run_one.add_argument("name", choices=JOB_NAMES)
    load = commands.add_parser("import", help="read customers, purchases or services from CSV")
    load.add_argument("kind", choices=KINDS)
    load.add_argument("file", type=Path)
    dump = commands.add_parser("dump", help="write every table to one file (to move databases)")
    dump.add_argument("file", type=Path)
    restore = commands.add_parser("load", help="read a dump into a new, empty database")
    restore.add_argument("file", type=Path)
    cli_analytics.add_parsers(commands)
    cli_copy.add_parsers(commands)
    cli_backup.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations are routine here
    # "Adding job tentatively" four times at every start says nothing to an operator.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    command = args.command or "run"
    if command == "run":
        return _run(settings, webhook=getattr(args, "webhook", False))
    for module in (cli_analytics, cli_copy, cli_backup):
        if command in module.COMMANDS:
            code: int = module.main(args, settings)
            return code
    if command in ("import", "load") and not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    return asyncio.run(_command(settings, command, args))


async def _command(settings: Settings, command: str, args: argparse.Namespace) -> int:
    if command == "migrate":
        return await _migrate(settings)
    if command == "export":
        return await _export(settings, args.kind, args.output)
    if command == "jobs":
        return await _jobs(settings, args.jobs_command, getattr(args, "name", None))
    if command == "dump":
        return await _dump(settings, args.file)
    if command == "load":
        return await _load(settings, args.file)
    return await _import(settings, args.kind, args.file)


def _run(settings: Settings, *, webhook: bool = False) -> int:
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run_bot
    from bot.startup import StartupError

    if webhook:
        from bot.web import webhook_settings_error

        problem = webhook_settings_error(settings)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_bot(settings, webhook=webhook))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.startup import StartupError, open_database

    try:
        db = await open_database(settings)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
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


async def _jobs(settings: Settings, action: str, name: str | None) -> int:
    from bot.app import utc_now
    from scheduler.jobs import EVERY, JOBS, last_runs, run_job
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        now = utc_now()
        if action == "run":
            assert name is not None
            queued = await run_job(name, db, settings.zone, now, settings.owner_ids)
            print(f"{name}: queued {queued} message(s); a running bot sends them within seconds")
            return 0
        runs = await last_runs(db)
    finally:
        await db.dispose()
    minutes = int(EVERY.total_seconds() // 60)
    print(f"Each job runs every {minutes} minutes while the bot runs, and once at its start-up.")
    for job in JOBS.values():
        last = runs[job.name]
        if last is None:
            when = "never ran; next: at the bot's next start-up"
        else:
            upcoming = max(last + EVERY, now)
            when = (
                f"last ran {last.astimezone(settings.zone):%Y-%m-%d %H:%M}; "
                f"next about {upcoming.astimezone(settings.zone):%Y-%m-%d %H:%M} (if the bot runs)"
            )
        print(f"  {job.name:<18} {job.what}\n  {'':<18} {when}")
    return 0


async def _import(settings: Settings, kind: str, path: Path) -> int:
    from bot.app import utc_now
    from services.transfer import ImportFailed, import_csv
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        # Binary: import_csv detects UTF-8 (with or without BOM), UTF-16 and Windows-1251.
        with path.open("rb") as source:
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


async def _dump(settings: Settings, path: Path) -> int:
    from storage.database import Database
    from storage.dump import dump

    db = Database(settings.database_url)
    try:
        await db.migrate()
        with path.open("w", encoding="utf-8") as out:
            counts = await dump(db, out)
    finally:
        await db.dispose()
    print(f"dumped {sum(counts.values())} rows of {len(counts)} tables to {path}", file=sys.stderr)
    return 0


async def _load(settings: Settings, path: Path) -> int:
    from storage.database import Database
    from storage.dump import DumpError, load

    db = Database(settings.database_url)
    try:
        await db.migrate()
        with path.open(encoding="utf-8") as source:
            counts = await load(db, source)
    except DumpError as exc:
        print(f"nothing loaded: {exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"nothing loaded: {path} is not a dump (not UTF-8 text)", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"loaded {sum(counts.values())} rows of {len(counts)} tables from {path}")
    return 0
