"""The database: one long-lived aiosqlite connection, explicit transactions.

The connection runs in autocommit mode (``isolation_level=None``) so that Python's sqlite3
never opens a transaction behind our back; writes that belong together go through
:meth:`Database.transaction`, which issues ``BEGIN IMMEDIATE`` so that the write lock is
taken up front instead of failing halfway with ``SQLITE_BUSY``.

Two promises hold whatever happens to the task that uses the connection:

* **No transaction nobody owns.** ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` run to their end even
  when the task is cancelled while it awaits them (aiosqlite runs a statement on its thread
  whether or not anyone still awaits it), a transaction whose task was cancelled during
  ``BEGIN`` is rolled back, and the lock is released only once the connection is out of the
  transaction. Should the connection still be found inside one before ``BEGIN``, it is
  rolled back and logged.
* **Another process's write lock is waited for, not failed on.** ``netzwerkbot import`` runs
  in its own process; while it holds the write lock, ``SQLITE_BUSY`` ("database is locked")
  is retried with a growing delay. SQLite's own busy handler waits only briefly
  (``busy_timeout``), because it waits on aiosqlite's one thread, where every other
  statement of the bot would queue behind it; the backoff waits on the event loop instead.

The file holds members' addresses, names, password hashes and chat links: a new database is
created with mode 0600 in a directory created with mode 0700. SQLite gives the ``-wal`` and
``-shm`` files the mode of the database file, so they are private too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, TypeVar

import aiosqlite

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

Params: TypeAlias = "Sequence[Any] | Mapping[str, Any]"

PRAGMAS: Final = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    # Short: SQLite's busy handler blocks aiosqlite's thread, and with it every statement
    # of the bot; longer waits happen in the backoff below, on the event loop.
    "PRAGMA busy_timeout = 100",
    "PRAGMA synchronous = NORMAL",
)
SQL_BEGIN: Final = "BEGIN IMMEDIATE"
SQL_BEGIN_READ: Final = "BEGIN DEFERRED"
SQL_COMMIT: Final = "COMMIT"
SQL_ROLLBACK: Final = "ROLLBACK"
SQL_DATA_VERSION: Final = "PRAGMA data_version"
# Backoff while another process holds the write lock: 20 ms doubling up to 100 ms, for
# at most BUSY_PATIENCE seconds (an import commits every batch, so waits are short).
BUSY_FIRST_DELAY: Final = 0.02
BUSY_MAX_DELAY: Final = 0.1
BUSY_PATIENCE: Final = 120.0
DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600

log = logging.getLogger(__name__)

T = TypeVar("T")


def create_private_file(path: Path) -> None:
    """Create the database file (mode 0600) and its directory (mode 0700) if they are missing.

    SQLite would create the file with the process's umask (usually 0644) and the WAL files
    with the file's mode; creating the empty file first with 0600 makes all three private.
    An existing file keeps its mode (the operator chose it).
    """
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


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
            try:
                Path(name).parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
            except OSError as error:
                message = f"cannot create its directory ({error.strerror})"
                raise sqlite3.OperationalError(message) from error
            if await asyncio.to_thread(Path(name).is_dir):
                # Refused before aiosqlite starts its thread: after a failed connect that
                # thread outlives the caller's event loop and dies with a traceback.
                raise sqlite3.OperationalError("unable to open database file: it is a directory")
            try:
                await asyncio.to_thread(create_private_file, Path(name))
            except OSError as error:
                message = f"cannot create it ({error.strerror})"
                raise sqlite3.OperationalError(message) from error
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
        a transaction inside a transaction of the same task is an error. While another
        process holds the write lock, ``BEGIN`` is retried (see the module's docstring).
        """
        await self._begin(SQL_BEGIN)
        try:
            try:
                yield self
            except BaseException:
                await _to_the_end(self._run(SQL_ROLLBACK))
                raise
            try:
                await _to_the_end(self._run(SQL_COMMIT))
            finally:
                if not self._connection.in_transaction:
                    self.write_count += 1
        finally:
            await self._release()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Self]:
        """Run reads in one deferred transaction, so they see one consistent state."""
        await self._begin(SQL_BEGIN_READ)
        try:
            yield self
        finally:
            try:
                await _to_the_end(self._run(SQL_COMMIT))
            finally:
                await self._release()

    async def _begin(self, sql: str) -> None:
        """Take the lock and open a transaction; on any failure hold neither."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("transactions do not nest")
        busy = _Busy(sql)
        while True:
            await self._lock.acquire()
            self._owner = task
            try:
                await self._repair()
                await _to_the_end(self._run(sql))
            except BaseException as error:
                # A cancellation may have come while BEGIN ran: then it went through, and
                # the connection must leave the transaction before the lock is released.
                await self._release()
                if not busy.retry(error):
                    raise
            else:
                return
            await busy.wait()

    async def _release(self) -> None:
        """Release the lock, never with the connection inside a transaction."""
        try:
            if self._connection.in_transaction:  # COMMIT or ROLLBACK failed, or a cancel
                await _to_the_end(self._run(SQL_ROLLBACK))
        finally:
            self._owner = None
            self._lock.release()

    async def _repair(self) -> None:
        """Roll back a transaction that no task owns (only a bug can leave one)."""
        if self._connection.in_transaction:
            log.error("The database connection was inside a transaction nobody owned; rolled back")
            await _to_the_end(self._run(SQL_ROLLBACK))

    async def _run(self, sql: str, params: Params = ()) -> int:
        """Run one statement on the connection and return the number of changed rows."""
        async with self._connection.execute(sql, params) as cursor:
            return cursor.rowcount

    async def _statement(self, sql: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run a single statement to its end, outside any other task's transaction.

        All tasks share the one connection: a statement sent while another task's
        transaction is open would become part of it, and be undone if that transaction
        rolls back (a delivered reminder marked sent, then unmarked, would be sent twice).
        Statements of the transaction's own task run at once. A statement outside a
        transaction that meets another process's write lock is retried.
        """
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            return await _to_the_end(call())
        busy = _Busy(sql)
        while True:
            try:
                async with self._lock:
                    await self._repair()
                    return await _to_the_end(call())
            except sqlite3.OperationalError as error:
                if not busy.retry(error):
                    raise
            await busy.wait()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return the number of changed rows."""
        return await self._statement(sql, lambda: self._run(sql, params))

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        """Run one statement for each parameter set."""
        rows = list(params)  # a retry needs them again

        async def run() -> None:
            await self._connection.executemany(sql, rows)

        await self._statement(sql, run)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Return all rows of a query."""
        rows = await self._statement(sql, lambda: self._connection.execute_fetchall(sql, params))
        return [_as_row(row) for row in rows]

    async def execute_returning(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a write with RETURNING and fetch its rows in one call into SQLite's thread.

        The statement is finished before anything else runs on the shared connection; a
        write left in progress across an await would make another task's COMMIT fail.
        """
        return await self.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Return the first row of a query, if any."""

        async def run() -> object:
            async with self._connection.execute(sql, params) as cursor:
                return await cursor.fetchone()

        row = await self._statement(sql, run)
        return None if row is None else _as_row(row)

    async def data_version(self) -> int:
        """Return SQLite's data version: it changes when another connection commits."""
        row = await self.fetchone(SQL_DATA_VERSION)
        assert row is not None  # noqa: S101 - the pragma always returns one row
        return int(row[0])


class _Busy:
    """The backoff of one operation while another process holds the write lock."""

    def __init__(self, sql: str) -> None:
        self._sql = sql
        self._deadline: float | None = None
        self._delay = BUSY_FIRST_DELAY

    def retry(self, error: BaseException) -> bool:
        """Tell whether ``error`` is SQLITE_BUSY and there is still time to try again."""
        if not isinstance(error, sqlite3.OperationalError):
            return False
        if getattr(error, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
            return False
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + BUSY_PATIENCE
            # The statement's first word only: its parameters are never logged.
            verb = self._sql.split(None, 1)[0].upper() if self._sql.strip() else "?"
            log.info("Database locked by another connection; %s waits and retries", verb)
        return now < self._deadline

    async def wait(self) -> None:
        """Sleep before the next try, a little longer each time."""
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, BUSY_MAX_DELAY)


async def _to_the_end(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even if the task is cancelled meanwhile.

    aiosqlite runs a statement on its thread whether or not anyone still awaits it, so
    giving up the wait would only hide what the connection is doing. A cancellation that
    came meanwhile is raised once the statement is done.
    """
    inner = asyncio.ensure_future(awaitable)
    cancelled = False
    while not inner.done():
        try:
            await asyncio.shield(inner)
        except asyncio.CancelledError:
            if inner.cancelled():
                raise
            cancelled = True
    if cancelled:
        inner.exception()  # retrieved: the cancellation wins
        raise asyncio.CancelledError
    return inner.result()


def _as_row(row: object) -> sqlite3.Row:
    """Narrow aiosqlite's row type to the row factory's (set in :meth:`Database.open`)."""
    if not isinstance(row, sqlite3.Row):  # pragma: no cover - only if the factory changed
        raise TypeError(f"unexpected row type {type(row).__name__}")
    return row
