"""Migrations from a blank database, from the previous schema, and refusals."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Final

import pytest

from storage.catalog import CatalogStore
from storage.db import Database
from storage.errors import SchemaError
from storage.migrations import MIGRATIONS, Migration, applied_migrations, migrate

if TYPE_CHECKING:
    from pathlib import Path

NEXT: Final = Migration(
    "0002_test_extra",
    (
        "CREATE TABLE extra (id INTEGER PRIMARY KEY, event_id TEXT REFERENCES events (id))",
        "CREATE INDEX extra_event ON extra (event_id)",
    ),
)


@pytest.fixture
async def blank(tmp_path: Path) -> Database:
    """Return an unmigrated database (closed by the test)."""
    return await Database.open(tmp_path / "sub" / "dir" / "blank.sqlite3")


async def pragma(db: Database, name: str) -> object:
    """Return the value of a PRAGMA."""
    row = await db.fetchone(f"PRAGMA {name}")
    assert row is not None
    return row[0]


async def tables(db: Database) -> set[str]:
    """Return the names of the tables."""
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row["name"]) for row in rows}


async def test_open_sets_pragmas(blank: Database) -> None:
    """The connection runs in WAL mode with foreign keys and a busy timeout."""
    try:
        assert await pragma(blank, "journal_mode") == "wal"
        assert await pragma(blank, "foreign_keys") == 1
        assert await pragma(blank, "busy_timeout") == 100
        assert await pragma(blank, "synchronous") == 1
    finally:
        await blank.close()


async def test_migrate_blank_and_rerun(blank: Database) -> None:
    """A blank database gets every migration once; a second run does nothing."""
    try:
        assert await migrate(blank) == [m.name for m in MIGRATIONS]
        assert {"schema_migrations", "events", "event_hosts", "documents"} <= await tables(blank)
        assert await migrate(blank) == []
        assert await applied_migrations(blank) == [m.name for m in MIGRATIONS]
    finally:
        await blank.close()


async def test_upgrade_from_previous_schema(blank: Database) -> None:
    """A database at the previous schema is upgraded and keeps its data."""
    try:
        await migrate(blank, MIGRATIONS)
        store = CatalogStore(blank)
        await store.load_bundled(include_demo=True)
        before = await store.load()
        assert await migrate(blank, (*MIGRATIONS, NEXT)) == [NEXT.name]
        assert "extra" in await tables(blank)
        assert await store.load() == before
        assert await migrate(blank, (*MIGRATIONS, NEXT)) == []
    finally:
        await blank.close()


async def test_refuses_newer_database(blank: Database) -> None:
    """A database with a migration this code does not know is refused."""
    try:
        await migrate(blank, (*MIGRATIONS, NEXT))
        with pytest.raises(SchemaError, match="0002_test_extra"):
            await migrate(blank)
    finally:
        await blank.close()


async def test_failed_migration_rolls_back(blank: Database) -> None:
    """A failing statement undoes the whole migration, bookkeeping included."""
    broken = Migration("0002_broken", ("CREATE TABLE half (x INTEGER)", "SELECT * FROM nowhere"))
    try:
        await migrate(blank)
        with pytest.raises(sqlite3.OperationalError):
            await migrate(blank, (*MIGRATIONS, broken))
        assert "half" not in await tables(blank)
        assert await applied_migrations(blank) == [m.name for m in MIGRATIONS]
        assert await migrate(blank, (*MIGRATIONS, NEXT)) == [NEXT.name]
    finally:
        await blank.close()


async def test_table_rebuild_with_foreign_keys_off(blank: Database) -> None:
    """A rebuilding migration runs with foreign keys off and switches them back on."""
    rebuild = Migration(
        "0003_rebuild_extra",
        (
            "CREATE TABLE extra_new (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL"
            " REFERENCES events (id) ON DELETE CASCADE)",
            "INSERT INTO extra_new SELECT * FROM extra",
            "DROP TABLE extra",
            "ALTER TABLE extra_new RENAME TO extra",
        ),
        foreign_keys_off=True,
    )
    try:
        await migrate(blank, (*MIGRATIONS, NEXT))
        assert await migrate(blank, (*MIGRATIONS, NEXT, rebuild)) == [rebuild.name]
        assert await pragma(blank, "foreign_keys") == 1
    finally:
        await blank.close()


async def test_duplicate_names_are_a_bug(blank: Database) -> None:
    """Two migrations with one name are a programming error."""
    try:
        with pytest.raises(ValueError, match="unique"):
            await migrate(blank, (*MIGRATIONS, MIGRATIONS[0]))
    finally:
        await blank.close()


async def insert_then_fail(db: Database) -> None:
    """Write a row, then fail inside the same transaction."""
    async with db.transaction():
        await db.execute(
            "INSERT INTO sources (id, position, label, title, publisher, url)"
            " VALUES ('q', 0, 'l', 't', 'p', 'u')"
        )
        _ = 1 / 0


async def test_transaction_rolls_back(blank: Database) -> None:
    """An error inside a transaction undoes its writes; transactions do not nest."""
    try:
        await migrate(blank)
        with pytest.raises(ZeroDivisionError):
            await insert_then_fail(blank)
        assert await blank.fetchall("SELECT * FROM sources") == []
        async with blank.transaction():
            with pytest.raises(RuntimeError, match="nest"):
                async with blank.transaction():
                    pass
    finally:
        await blank.close()


async def test_ldap_links_keep_open_dialogs(blank: Database) -> None:
    """0006 rebuilds account_flows without its foreign key and keeps the open dialogs."""
    try:
        before = tuple(m for m in MIGRATIONS if m.name != "0011_ldap_directory_links")
        await migrate(blank, before)
        async with blank.transaction():
            await blank.execute(
                "INSERT INTO members (email, name, created_at, updated_at) "
                "VALUES ('a@example.org', 'A', 'x', 'x')"
            )
            await blank.execute(
                "INSERT INTO account_flows (chat_id, nonce, purpose, step, member_id, attempts, "
                "started_at, expires_at) VALUES (7, 'n', 'password', 'code', 1, 2, 's', 'e')"
            )
        assert await migrate(blank) == ["0011_ldap_directory_links"]
        row = await blank.fetchone(
            "SELECT member_id, attempts FROM account_flows WHERE chat_id = 7"
        )
        assert row is not None
        assert tuple(row) == (1, 2)
        # A dialog may now name an LDAP entry's id, which has no row in members.
        async with blank.transaction():
            await blank.execute(
                "INSERT INTO directory_links (entry_key, first_seen_at) VALUES ('uuid-1', 'x')"
            )
            await blank.execute(
                "INSERT INTO account_flows (chat_id, nonce, purpose, step, member_id, "
                "started_at, expires_at) VALUES (8, 'n', 'link', 'code', 99, 's', 'e')"
            )
        assert await blank.fetchall("PRAGMA foreign_key_check") == []
    finally:
        await blank.close()
