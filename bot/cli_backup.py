"""`python -m bot backup [FILE]` and `python -m bot restore FILE`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.cli_copy import reason, where
from bot.config import Settings

COMMANDS = ("backup", "restore")


def add_parsers(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="copy the database into one file (safe while the bot runs)"
    )
    backup.add_argument(
        "file", type=Path, nargs="?", help="default: BACKUP_DIR/bot-YYYYmmdd-HHMMSS.db (UTC)"
    )
    restore = commands.add_parser("restore", help="put a backup into a new, empty database")
    restore.add_argument("file", type=Path)


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "restore" and not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    if args.command == "restore":
        return asyncio.run(_restore(settings, args.file))
    return asyncio.run(_backup(settings, args.file))


async def _backup(settings: Settings, path: Path | None) -> int:
    from storage.backup import BackupError, backup, backup_name
    from storage.database import Database

    if path is None:
        path = settings.backup_dir / backup_name(datetime.now(UTC), sqlite=settings.is_sqlite)
    db = Database(settings.database_url)
    try:
        await backup(db, path)
    except BackupError as exc:
        print(f"no backup made: {exc}", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError) as exc:
        print(f"no backup made: {reason(exc)}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"backed up {where(settings.database_url)} to {path}")
    return 0


async def _restore(settings: Settings, path: Path) -> int:
    from storage.backup import BackupError, restore
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await restore(db, path)
    except BackupError as exc:
        print(f"nothing restored: {exc}", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError) as exc:
        print(f"nothing restored: {reason(exc)}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"restored {path} into {where(settings.database_url)}; start the bot")
    return 0
