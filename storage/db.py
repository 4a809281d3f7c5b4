"""The database: one long-lived aiosqlite connection, explicit transactions.

The connection runs in autocommit mode (``isolation_level=None``) so that Python's sqlite3
never opens a transaction behind our back; writes that belong together go through
:meth:`Database.transaction`, which issues ``BEGIN IMMEDIATE`` so that the write lock is
taken up front instead of failing halfway with ``SQLITE_BUSY``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias

import aiosqlite

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

Params: TypeAlias = "Sequence[Any] | Mapping[str, Any]"

PRAGMAS: Final = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
)
SQL_BEGIN: Final = "BEGIN IMMEDIATE"
SQL_BEGIN_READ: Final = "BEGIN DEFERRED"
SQL_COMMIT: Final = "COMMIT"
SQL_ROLLBACK: Final = "ROLLBACK"
SQL_DATA_VERSION: Final = "PRAGMA data_version"


class Database:
    """One aiosqlite connection with helpers; open it with :meth:`open`."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._connection = connection
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        # Bumped by every committed transaction of this connection, so stores can tell
        # their own writes apart (PRAGMA data_version only moves for other connections).
        self.write_count = 0

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (and create) the database file and set the connection's PRAGMAs."""
        name = str(path)
        if name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(name, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                await connection.execute(pragma)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, name)

    async def close(self) -> None:
        """Close the connection."""
        await self._connection.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """Return the raw connection (for what the helpers do not cover)."""
        return self._connection

    @property
    def in_transaction(self) -> bool:
        """Tell whether a transaction of :meth:`transaction` is open."""
        return self._owner is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction; roll back on any error.

        Transactions of concurrent tasks wait for each other (they share the connection);
        a transaction inside a transaction of the same task is an error.
        """
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("transactions do not nest")
        async with self._lock:
            self._owner = task
            try:
                await self._connection.execute(SQL_BEGIN)
                try:
                    yield self
                except BaseException:
                    await self._connection.execute(SQL_ROLLBACK)
                    raise
                await self._connection.execute(SQL_COMMIT)
                self.write_count += 1
            finally:
                self._owner = None

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Self]:
        """Run reads in one deferred transaction, so they see one consistent state."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("transactions do not nest")
        async with self._lock:
            self._owner = task
            try:
                await self._connection.execute(SQL_BEGIN_READ)
                try:
                    yield self
                finally:
                    await self._connection.execute(SQL_COMMIT)
            finally:
                self._owner = None

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[None]:
        """Keep a single statement out of another task's open transaction.

        All tasks share the one connection: a statement sent while another task's
        transaction is open would become part of it, and be undone if that transaction
        rolls back (a delivered reminder marked sent, then unmarked, would be sent twice).
        Statements of the transaction's own task run at once.
        """
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            yield
            return
        async with self._lock:
            yield

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return the number of changed rows."""
        async with self._statement(), self._connection.execute(sql, params) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        """Run one statement for each parameter set."""
        async with self._statement():
            await self._connection.executemany(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Return all rows of a query."""
        async with self._statement(), self._connection.execute(sql, params) as cursor:
            return [_as_row(row) for row in await cursor.fetchall()]

    async def execute_returning(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a write with RETURNING and fetch its rows in one call into SQLite's thread.

        The statement is finished before anything else runs on the shared connection; a
        write left in progress across an await would make another task's COMMIT fail.
        """
        async with self._statement():
            rows = await self._connection.execute_fetchall(sql, params)
        return [_as_row(row) for row in rows]

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Return the first row of a query, if any."""
        async with self._statement(), self._connection.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _as_row(row)

    async def data_version(self) -> int:
        """Return SQLite's data version: it changes when another connection commits."""
        row = await self.fetchone(SQL_DATA_VERSION)
        assert row is not None  # noqa: S101 - the pragma always returns one row
        return int(row[0])


def _as_row(row: object) -> sqlite3.Row:
    """Narrow aiosqlite's row type to the row factory's (set in :meth:`Database.open`)."""
    if not isinstance(row, sqlite3.Row):  # pragma: no cover - only if the factory changed
        raise TypeError(f"unexpected row type {type(row).__name__}")
    return row
