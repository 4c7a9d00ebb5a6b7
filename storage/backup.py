"""Backups of the whole database as one file, and restoring one into an empty database.

SQLite goes through its online backup API (`sqlite3.Connection.backup`): the copy is one
consistent moment of the database even while the bot writes (in WAL mode the copy reads a
snapshot and writers carry on). PostgreSQL goes through `pg_dump` / `pg_restore`, when the
PostgreSQL client programs are installed.

A backup is written under a temporary name and renamed when complete, so a file with a backup's
name is never half written. Backups made here are named `bot-YYYYmmdd-HHMMSS.db` (SQLite) or
`.dump` (PostgreSQL), the time in UTC; rotation keeps the newest of those and nothing else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from storage.database import Database
from storage.dump import busy_tables
from storage.migrate import alembic_config

PREFIX = "bot-"
STAMP = "%Y%m%d-%H%M%S"
SQLITE_SUFFIX = ".db"
POSTGRES_SUFFIX = ".dump"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """The backup or restore cannot be made; one line says why. Nothing was changed."""


def backup_name(now: datetime, *, sqlite: bool = True) -> str:
    suffix = SQLITE_SUFFIX if sqlite else POSTGRES_SUFFIX
    return f"{PREFIX}{now.astimezone(UTC).strftime(STAMP)}{suffix}"


def backup_time(path: Path) -> datetime | None:
    """When a backup named by `backup_name` was made; None for any other file."""
    stem, suffix = path.stem, path.suffix
    if suffix not in (SQLITE_SUFFIX, POSTGRES_SUFFIX) or not stem.startswith(PREFIX):
        return None
    try:
        return datetime.strptime(stem[len(PREFIX) :], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def backups_in(folder: Path) -> list[Path]:
    """The backups in `folder`, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and backup_time(p) is not None),
        key=lambda p: p.name,
    )


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns the deleted files."""
    found = backups_in(folder)
    old = found[: max(len(found) - keep, 0)]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{url} is not a SQLite file that can be backed up")
    return Path(database)


async def backup(db: Database, destination: Path) -> Path:
    """Write a backup of `db` to `destination` (its folder is created); returns it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        if db.is_sqlite:
            await asyncio.to_thread(_sqlite_backup, sqlite_path(db.url), partial)
        else:
            await _pg_dump(make_url(db.url), partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _sqlite_backup(source: Path, destination: Path) -> None:
    if not source.is_file():
        raise BackupError(f"there is no database file {source} to back up")
    # Read-only: a backup never creates or changes the shop's database.
    with (
        sqlite3.connect(_read_only(source), uri=True, timeout=30) as src,
        sqlite3.connect(destination) as dst,
    ):
        # pages=-1 (the default): the whole file in one step, under one read snapshot.
        src.backup(dst)
        # The copy stands alone: one file, no write-ahead log beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    # sqlite3's context manager commits but does not close.
    src.close()
    dst.close()


def _read_only(path: Path) -> str:
    """A URI opening the file read-only; as_uri escapes spaces, '?' and '#' in the path."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A URL the PostgreSQL programs understand, and the environment carrying the password
    (kept off the command line, where other users could read it)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client programs "
            "(e.g. apt install postgresql-client) or use your hosting's backups"
        )
    return found


async def _run(program: str, *args: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        program,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["no message"]
        raise BackupError(f"{Path(program).name} failed: {lines[0]}")


async def _pg_dump(url: URL, destination: Path) -> None:
    program = _program("pg_dump")
    dsn, env = _libpq(url)
    # The custom format: compressed, and pg_restore can recreate everything from it.
    await _run(
        program, "--format=custom", "--no-owner", "--no-privileges", f"--file={destination}",
        f"--dbname={dsn}", env=env,
    )  # fmt: skip


# ---------------------------------------------------------------- restore


def kind_of(path: Path) -> str:
    """The kind of backup file: "sqlite", "postgresql" (pg_dump's custom format), else an error."""
    with path.open("rb") as file:
        head = file.read(len(_SQLITE_MAGIC))
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `python -m bot backup`")


async def restore(db: Database, source: Path) -> None:
    """Restore the backup `source` into `db`, which must hold no rows (a new database).

    The bot must be stopped. Afterwards the database is migrated, so a backup made by an
    older version of the bot comes up to this one.
    """
    kind = kind_of(source)
    engine = "sqlite" if db.is_sqlite else "postgresql"
    if kind != engine:
        raise BackupError(
            f"{source} is a {kind} backup and DATABASE_URL is {engine}: restore it into the same "
            "kind of database (then `python -m bot copy-db` moves SQLite to PostgreSQL)"
        )
    await _refuse_data(db)
    if db.is_sqlite:
        await db.dispose()  # no connection may stay open on the file being replaced
        await asyncio.to_thread(_sqlite_restore, source, sqlite_path(db.url))
    else:
        dsn, env = _libpq(make_url(db.url))
        await _run(
            _program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--exit-on-error", f"--dbname={dsn}", str(source), env=env,
        )  # fmt: skip
        await db.dispose()  # pooled connections knew the tables pg_restore replaced
    await db.migrate()


async def _refuse_data(db: Database) -> None:
    if db.is_sqlite and not sqlite_path(db.url).exists():
        return
    await db.migrate()  # an empty file or database gets the tables, so it can be asked
    async with db.reading() as repos:
        busy = await busy_tables(repos.session)
    if busy:
        raise BackupError(
            f"the database is not empty ({', '.join(busy)}): restore needs a new one "
            "(point DATABASE_URL at a new file or database, or move the old one away)"
        )


def _sqlite_restore(source: Path, target: Path) -> None:
    revision = _checked_revision(source)
    known = _revisions()
    head = known[-1]
    if revision not in known:
        raise BackupError(
            f"{source} is of database revision {revision}, unknown to this bot (at {head}): "
            "restore it with the version of the bot that made it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, partial)
        # The empty database's log and shared memory must not be replayed onto the backup.
        for extra in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + extra).unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _checked_revision(source: Path) -> str:
    try:
        with sqlite3.connect(_read_only(source), uri=True) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"{source} is damaged (SQLite says: {check and check[0]})")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a usable backup ({exc})") from None
    if row is None:
        raise BackupError(f"{source} is not a backup of this bot's database (no revision)")
    return str(row[0])


def _revisions() -> list[str]:
    """This bot's migration revisions, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
