"""The database's files are private: 0600 files in a 0700 directory."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

from storage.db import Database
from storage.migrations import migrate

if TYPE_CHECKING:
    from pathlib import Path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    """Addresses, names and password hashes are readable by the bot's user only."""
    path = tmp_path / "data" / "bot.sqlite3"
    db = await Database.open(path)
    try:
        await migrate(db)
        async with db.transaction():
            await db.execute("CREATE TABLE probe (x INTEGER)")
        files = {p.name: _mode(p) for p in path.parent.iterdir()}
    finally:
        await db.close()
    assert _mode(path.parent) == 0o700
    assert files["bot.sqlite3"] == 0o600
    assert files["bot.sqlite3-wal"] == 0o600
    assert files["bot.sqlite3-shm"] == 0o600


async def test_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    """An operator's choice for an existing file stands; the bot opens it as it is."""
    path = tmp_path / "bot.sqlite3"
    await (await Database.open(path)).close()
    path.chmod(0o640)
    db = await Database.open(path)
    await db.close()
    assert _mode(path) == 0o640
