"""Backups that restore: SQLite's online backup API, written atomically, checked.

A backup is a consistent copy taken while the bot runs (``sqlite3.Connection.backup`` copies
the database as one read transaction sees it; a plain file copy of a WAL database may hold
no tables at all). It is written to a temporary name beside its target, switched out of WAL
mode so that it is one self-contained file, checked with ``PRAGMA integrity_check``, fsynced
and renamed into place with mode 0600. The HMAC key file (``<database>.key``, when the key is
not configured) goes beside it as ``FILE.key``, the same way.

Default names carry a UTC timestamp in a ``backups/`` folder beside the database:
``backups/<name>-20270317T090000Z.sqlite3``; ``--keep N`` prunes the older ones of this form.
The backup taken before migrations ends in ``-pre-migration`` and the current database kept
by a restore in ``-pre-restore``; pruning leaves both alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bot.domain.text import N_
from storage.errors import StorageError
from storage.migrations import MIGRATIONS, applied_migrations, migrate

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from storage.db import Database
    from storage.migrations import Migration

log = logging.getLogger(__name__)

BACKUP_DIR: Final = "backups"
SUFFIX: Final = ".sqlite3"
KEY_SUFFIX: Final = ".key"
TIMESTAMP: Final = "%Y%m%dT%H%M%SZ"
PRE_MIGRATION: Final = "pre-migration"
PRE_RESTORE: Final = "pre-restore"
MODE: Final = 0o600
SQL_INTEGRITY: Final = "PRAGMA integrity_check"
SQL_JOURNAL_DELETE: Final = "PRAGMA journal_mode = DELETE"
SQL_CHECKPOINT: Final = "PRAGMA wal_checkpoint(TRUNCATE)"
SQL_BUSY: Final = "PRAGMA busy_timeout = 5000"
SQL_HAS_TABLES: Final = "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'"
SQL_HAS_BOOKKEEPING: Final = (
    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
)
SQL_APPLIED: Final = "SELECT name FROM schema_migrations"


class BackupError(StorageError):
    """A backup could not be written, or a file cannot be restored; ``describe`` says why."""

    def __init__(self, problem: str, **params: str) -> None:
        super().__init__(problem.format(**params))
        self.problem = problem
        self.params = params

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the one-line message, translated with ``gettext``."""
        return gettext(self.problem).format(**self.params)


@dataclass(frozen=True)
class Backup:
    """A written backup: the database copy and, if one was copied, its key file."""

    path: Path
    key: Path | None


def backup_dir(database: Path) -> Path:
    """Return the folder of the default backups: ``backups/`` beside the database."""
    return database.parent / BACKUP_DIR


def default_name(database: Path, now: datetime, label: str | None = None) -> Path:
    """Return a free default backup path with ``now``'s UTC timestamp (and ``label``)."""
    stamp = now.astimezone(UTC).strftime(TIMESTAMP)
    stem = database.name.removesuffix(SUFFIX)
    base = f"{stem}-{stamp}" + (f"-{label}" if label else "")
    folder = backup_dir(database)
    candidate = folder / f"{base}{SUFFIX}"
    counter = 1
    while candidate.exists():  # two backups within one second
        candidate = folder / f"{base}.{counter}{SUFFIX}"
        counter += 1
    return candidate


def key_path(backup: Path) -> Path:
    """Return where a backup's key file lives: ``FILE.key``."""
    return backup.with_name(backup.name + KEY_SUFFIX)


def has_tables(database: Path) -> bool:
    """Tell whether the database file exists and holds any table."""
    if not database.is_file() or database.stat().st_size == 0:
        return False
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute(SQL_BUSY)
        return bool(connection.execute(SQL_HAS_TABLES).fetchone()[0])


def backup(
    database: Path,
    target: Path | None = None,
    *,
    key_file: Path | None,
    now: datetime,
    label: str | None = None,
) -> Backup:
    """Write a checked, consistent copy of ``database`` (and its key file) atomically.

    ``key_file`` is the database's key file, or None when the key is configured (then it is
    not the backup's business). Raises BackupError.
    """
    if not database.is_file():
        raise BackupError(N_("there is no database {path}"), path=str(database))
    target = target if target is not None else default_name(database, now, label)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(target)
    try:
        # Created empty and private first: SQLite would create it with the umask's mode.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE))
        with (
            contextlib.closing(sqlite3.connect(database)) as source,
            contextlib.closing(sqlite3.connect(temporary)) as copy,
        ):
            source.execute(SQL_BUSY)
            source.backup(copy)
            copy.execute(SQL_JOURNAL_DELETE)  # one self-contained file, no -wal beside it
            problems = _integrity(copy)
        if problems:
            raise BackupError(
                N_("the copy of {path} failed the integrity check: {problems}"),
                path=str(database),
                problems=problems,
            )
        _fsync(temporary)
        temporary.replace(target)
        _fsync_dir(target.parent)
    except sqlite3.Error as error:
        raise BackupError(
            N_("cannot back up {path}: {error}"), path=str(database), error=str(error)
        ) from error
    finally:
        temporary.unlink(missing_ok=True)
    key = None
    if key_file is not None and key_file.is_file():
        key = key_path(target)
        copy_atomically(key_file, key)
    return Backup(target, key)


def prune(database: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` regular default backups; return what went."""
    stem = re.escape(database.name.removesuffix(SUFFIX))
    pattern = re.compile(rf"^{stem}-\d{{8}}T\d{{6}}Z(\.\d+)?{re.escape(SUFFIX)}$")
    folder = backup_dir(database)
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))
    doomed = found[: max(len(found) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
        key_path(path).unlink(missing_ok=True)
    return doomed


def check_restorable(source: Path, migrations: Sequence[Migration] = MIGRATIONS) -> None:
    """Check a backup before a restore: intact, a netzwerkbot database, not newer than us."""
    if not source.is_file():
        raise BackupError(N_("there is no file {path}"), path=str(source))
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
            problems = _integrity(db)
            if problems:
                raise BackupError(
                    N_("{path} failed the integrity check: {problems}"),
                    path=str(source),
                    problems=problems,
                )
            if db.execute(SQL_HAS_BOOKKEEPING).fetchone() is None:
                raise BackupError(N_("{path} is not a netzwerkbot database"), path=str(source))
            applied = {str(row[0]) for row in db.execute(SQL_APPLIED)}
    except sqlite3.DatabaseError as error:
        raise BackupError(
            N_("{path} is not a readable SQLite database: {error}"),
            path=str(source),
            error=str(error),
        ) from error
    unknown = sorted(applied - {m.name for m in migrations})
    if unknown:
        raise BackupError(
            N_("{path} was written by a newer netzwerkbot (migrations {names})"),
            path=str(source),
            names=", ".join(unknown),
        )


def restore(
    source: Path, database: Path, *, key_file: Path | None, now: datetime
) -> Backup | None:
    """Put a checked backup in place of ``database``; return the backup of the old one.

    The caller holds the instance lock, so no bot runs on the database. The current
    database (and key) is kept as a ``-pre-restore`` backup first; the backup's key file
    (``FILE.key``) replaces ``key_file`` when both exist.
    """
    check_restorable(source)
    kept = None
    if database.is_file():
        kept = backup(database, key_file=key_file, now=now, label=PRE_RESTORE)
        with contextlib.closing(sqlite3.connect(database)) as connection:
            connection.execute(SQL_BUSY)
            connection.execute(SQL_CHECKPOINT)  # the WAL is empty, its content in the file
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(database)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
        with os.fdopen(fd, "wb") as out, source.open("rb") as inp:
            shutil.copyfileobj(inp, out)
            out.flush()
            os.fsync(out.fileno())
        # A -wal file left beside the database would be replayed into the restored one.
        for leftover in (_sibling(database, "-wal"), _sibling(database, "-shm")):
            leftover.unlink(missing_ok=True)
        temporary.replace(database)
        _fsync_dir(database.parent)
    finally:
        temporary.unlink(missing_ok=True)
    source_key = key_path(source)
    if key_file is not None and source_key.is_file():
        copy_atomically(source_key, key_file)
    return kept


def copy_atomically(source: Path, target: Path) -> None:
    """Copy a small file to ``target`` (mode 0600): temporary name, fsync, rename."""
    temporary = _temporary(target)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
        _fsync_dir(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _integrity(connection: sqlite3.Connection) -> str:
    """Return the integrity check's problems, or the empty string when all is well."""
    rows = [str(row[0]) for row in connection.execute(SQL_INTEGRITY)]
    return "" if rows == ["ok"] else "; ".join(rows[:5])


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def _sibling(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def migrate_with_backup(
    db: Database, *, key_file: Path | None, now: datetime
) -> tuple[list[str], Backup | None]:
    """Apply the missing migrations, after a ``-pre-migration`` backup if there is data.

    A new database (no migration applied yet) gets no backup: there is nothing to keep.
    Returns the applied migrations and the backup taken, if any.
    """
    async with db.transaction():
        applied = await applied_migrations(db)
    pending = [m.name for m in MIGRATIONS if m.name not in applied]
    taken = None
    if applied and pending and db.path != ":memory:":
        taken = await asyncio.to_thread(
            backup, Path(db.path), key_file=key_file, now=now, label=PRE_MIGRATION
        )
        log.warning(
            "Backed up the database to %s before the migrations %s",
            taken.path,
            ", ".join(pending),
        )
    return await migrate(db), taken
