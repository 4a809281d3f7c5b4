"""Backups: consistent while a connection writes, atomic, private, checked; restores."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from storage.backup import (
    BackupError,
    backup,
    backup_dir,
    check_restorable,
    key_path,
    migrate_with_backup,
    prune,
    restore,
)
from storage.db import Database
from storage.migrations import MIGRATIONS, Migration, migrate

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NOW = datetime(2027, 3, 17, 9, 0, tzinfo=UTC)


async def filled(path: Path) -> Database:
    """Open a migrated database with a few subscribers, its WAL not checkpointed."""
    db = await Database.open(path)
    await migrate(db)
    stamp = NOW.isoformat()
    async with db.transaction():
        await db.executemany(
            "INSERT INTO subscribers (chat_id, created_at, updated_at) VALUES (?, ?, ?)",
            [(chat, stamp, stamp) for chat in range(1, 51)],
        )
    return db


def count(path: Path) -> int:
    """Count the subscribers in a database file."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0])


async def test_backup_while_open_is_complete_and_private(tmp_path: Path) -> None:
    """A backup taken while the bot's connection is open holds everything it committed."""
    database = tmp_path / "bot.sqlite3"
    key = tmp_path / "bot.sqlite3.key"
    key.write_text("ab" * 32 + "\n")
    db = await filled(database)
    try:
        taken = backup(database, key_file=key, now=NOW)
    finally:
        await db.close()
    assert taken.path == backup_dir(database) / "bot-20270317T090000Z.sqlite3"
    assert count(taken.path) == 50
    assert stat.S_IMODE(taken.path.stat().st_mode) == 0o600
    assert taken.key == key_path(taken.path)
    assert taken.key.read_text() == key.read_text()
    assert stat.S_IMODE(taken.key.stat().st_mode) == 0o600
    # One self-contained file: no WAL beside it, no temporary left behind.
    assert sorted(p.name for p in taken.path.parent.iterdir()) == [
        taken.path.name,
        taken.key.name,
    ]
    check_restorable(taken.path)


async def test_keep_prunes_older_regular_backups(tmp_path: Path) -> None:
    """--keep N leaves the newest N timestamped backups and every labelled one."""
    database = tmp_path / "bot.sqlite3"
    db = await filled(database)
    await db.close()
    taken = [backup(database, key_file=None, now=NOW + timedelta(days=d)) for d in range(4)]
    labelled = backup(database, key_file=None, now=NOW, label="pre-migration")
    gone = prune(database, 2)
    assert gone == [taken[0].path, taken[1].path]
    assert sorted(p.name for p in backup_dir(database).iterdir()) == sorted(
        [taken[2].path.name, taken[3].path.name, labelled.path.name]
    )


async def test_restore_refuses_bad_files(tmp_path: Path) -> None:
    """A file that is not intact, not ours or newer than the code is not restored."""
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(BackupError):
        check_restorable(garbage)
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE x (y)")
    with pytest.raises(BackupError, match="not a netzwerkbot database"):
        check_restorable(foreign)
    newer = tmp_path / "newer.sqlite3"
    db = await Database.open(newer)
    await migrate(db, (*MIGRATIONS, Migration("9999_future", ("CREATE TABLE future (x)",))))
    await db.close()
    with pytest.raises(BackupError, match="9999_future") as caught:
        check_restorable(newer)
    assert "neueren Version" in caught.value.describe(_german())
    database = tmp_path / "bot.sqlite3"
    with pytest.raises(BackupError):
        restore(newer, database, key_file=None, now=NOW)
    assert not database.exists()


def _german() -> Callable[[str], str]:
    from bot.i18n import translator

    return translator().gettext


async def test_restore_round_trip(tmp_path: Path) -> None:
    """Restore keeps the current database as a backup, then puts the file and key in place."""
    database = tmp_path / "bot.sqlite3"
    key = tmp_path / "bot.sqlite3.key"
    key.write_text("aa" * 32 + "\n")
    db = await filled(database)
    await db.close()
    taken = backup(database, key_file=key, now=NOW)
    key.write_text("bb" * 32 + "\n")
    db = await Database.open(database)
    await db.execute("DELETE FROM subscribers WHERE chat_id > 10")
    await db.close()
    assert count(database) == 10
    kept = restore(taken.path, database, key_file=key, now=NOW + timedelta(hours=1))
    assert count(database) == 50
    assert key.read_text() == "aa" * 32 + "\n"
    assert kept is not None
    assert kept.path.name.endswith("-pre-restore.sqlite3")
    assert count(kept.path) == 10
    assert kept.key is not None
    assert kept.key.read_text() == "bb" * 32 + "\n"


async def test_migrations_back_up_first(tmp_path: Path) -> None:
    """A start that migrates a database with data backs it up first; a new one not."""
    fresh = await Database.open(tmp_path / "fresh.sqlite3")
    try:
        applied, taken = await migrate_with_backup(fresh, key_file=None, now=NOW)
    finally:
        await fresh.close()
    assert applied == [m.name for m in MIGRATIONS]
    assert taken is None, "nothing to keep in a new database"
    database = tmp_path / "bot.sqlite3"
    db = await Database.open(database)
    try:
        await migrate(db, MIGRATIONS[:-1])  # the previous version's schema
        applied, taken = await migrate_with_backup(db, key_file=None, now=NOW)
        assert applied == [MIGRATIONS[-1].name]
        assert taken is not None
        assert taken.path.name == "bot-20270317T090000Z-pre-migration.sqlite3"
        with sqlite3.connect(taken.path) as conn:
            names = [row[0] for row in conn.execute("SELECT name FROM schema_migrations")]
        assert names == [m.name for m in MIGRATIONS[:-1]]
        # Nothing left to apply: no further backup.
        assert await migrate_with_backup(db, key_file=None, now=NOW) == ([], None)
    finally:
        await db.close()
