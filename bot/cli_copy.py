"""`python -m bot copy-db --to URL`: the shop's database copied into a new PostgreSQL one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.config import Settings, async_database_url

COMMANDS = ("copy-db",)


def add_parsers(commands: Any) -> None:
    copy = commands.add_parser(
        "copy-db", help="copy every table into a new, empty PostgreSQL database (moving up)"
    )
    copy.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user:password@host/db"
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    try:
        target = async_database_url(args.to.strip())
        if make_url(target).get_backend_name() != "postgresql":
            raise ValueError("copy-db copies into PostgreSQL: use postgresql://user@host/db")
    except (ValueError, SQLAlchemyError) as exc:
        print(f"nothing copied: --to {exc}", file=sys.stderr)
        return 2
    if target == settings.database_url:
        print("nothing copied: --to names the database DATABASE_URL already uses", file=sys.stderr)
        return 2
    return asyncio.run(_copy(settings.database_url, target))


def where(url: str) -> str:
    """The database as a person would name it: a file path, or the URL without a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the file {parsed.database}"
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def reason(exc: BaseException) -> str:
    """The first line of the driver's own words, without SQLAlchemy's wrapping."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return lines[0][:200]


async def _copy(source_url: str, target_url: str) -> int:
    from storage.copy import CopyError, copy_database
    from storage.database import Database

    source, target = Database(source_url), Database(target_url)
    try:
        try:
            await source.migrate()
        except (SQLAlchemyError, OSError) as exc:
            print(
                f"nothing copied: cannot open {where(source_url)} ({reason(exc)})", file=sys.stderr
            )
            return 1
        try:
            await target.migrate()  # a new database gets the tables; a migrated one is kept
        except (SQLAlchemyError, OSError, ValueError) as exc:
            print(
                f"nothing copied: cannot open {where(target_url)} ({reason(exc)}): "
                "check the URL, that the server runs and the database exists",
                file=sys.stderr,
            )
            return 1
        try:
            totals = await copy_database(source, target)
        except CopyError as exc:
            print(f"nothing copied: {exc}", file=sys.stderr)
            return 1
    finally:
        await source.dispose()
        await target.dispose()
    for name, table in totals.items():
        sums = "".join(f", {column} {total}" for column, total in table.sums.items())
        print(f"  {name:<16} {table.rows} rows{sums}")
    rows = sum(table.rows for table in totals.values())
    print(
        f"copied {rows} rows of {len(totals)} tables into {where(target_url)}; counts and money "
        "sums checked. Set DATABASE_URL to it and start the bot."
    )
    return 0
