"""``netzwerkbot backup`` and ``netzwerkbot restore``: copies that restore.

``backup`` works while the bot runs (SQLite's online backup API); ``restore`` refuses while a
bot holds the database's lock and holds the lock itself meanwhile, so no bot starts on a
half-restored file. See :mod:`storage.backup` for how a copy is written and checked.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from bot.domain.account import key_file_for
from bot.i18n import translator
from bot.instance import EXIT_ALREADY_RUNNING, AlreadyRunning, InstanceLock
from storage.backup import BackupError, backup, migrate_with_backup, prune, restore

if TYPE_CHECKING:
    import argparse

    from bot.config import Settings
    from storage.db import Database

BACKUP: Final = "backup"
RESTORE: Final = "restore"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


def key_file_of(settings: Settings) -> Path | None:
    """Return the database's key file, or None when the key is configured."""
    return None if settings.secret_key else key_file_for(settings.database)


async def migrate_database(db: Database, settings: Settings) -> list[str]:
    """Apply the missing migrations, after an automatic backup of a database with data."""
    applied, _ = await migrate_with_backup(
        db, key_file=key_file_of(settings), now=datetime.now(UTC)
    )
    return applied


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``backup`` and ``restore`` to the ``netzwerkbot`` command line."""
    _ = translator().gettext
    saver = subparsers.add_parser(
        BACKUP, help=_("write a consistent copy of the database, also while the bot runs")
    )
    saver.add_argument(
        "file",
        type=Path,
        nargs="?",
        help=_("where to write it (default: backups/ beside the database, with a timestamp)"),
    )
    saver.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help=_("keep only the newest N timestamped backups"),
    )
    restorer = subparsers.add_parser(
        RESTORE, help=_("replace the database by a backup (the bot must be stopped)")
    )
    restorer.add_argument("file", type=Path, help=_("the backup to restore"))


def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``backup`` or ``restore``; return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    if args.command == BACKUP:
        return _backup(settings, args.file, args.keep, out, err)
    return _restore(settings, args.file, out, err)


def _backup(
    settings: Settings, target: Path | None, keep: int | None, out: TextIO, err: TextIO
) -> int:
    _ = translator().gettext
    if keep is not None and keep < 1:
        print(_("--keep needs a number of at least 1"), file=err)
        return EXIT_FAILED
    try:
        written = backup(
            settings.database, target, key_file=key_file_of(settings), now=datetime.now(UTC)
        )
    except BackupError as error:
        print(error.describe(_), file=err)
        return EXIT_FAILED
    if keep is not None:
        prune(settings.database, keep)
    print(written.path, file=out)
    return EXIT_OK


def _restore(settings: Settings, source: Path, out: TextIO, err: TextIO) -> int:
    _ = translator().gettext
    try:
        lock = InstanceLock.acquire(settings.database)
    except AlreadyRunning as error:
        print(
            _(
                "A netzwerkbot is running on this database (lock file {path}, pid {pid}); "
                "stop it before the restore."
            ).format(path=error.path, pid=error.pid if error.pid is not None else "?"),
            file=err,
        )
        return EXIT_ALREADY_RUNNING
    with lock:
        try:
            kept = restore(
                source, settings.database, key_file=key_file_of(settings), now=datetime.now(UTC)
            )
        except BackupError as error:
            print(error.describe(_), file=err)
            return EXIT_FAILED
    if kept is not None:
        print(_("The previous database was kept as {path}.").format(path=kept.path), file=out)
    print(
        _("Restored {source} to {database}.").format(source=source, database=settings.database),
        file=out,
    )
    return EXIT_OK
