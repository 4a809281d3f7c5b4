"""The shared connection is never left in a transaction nobody owns, whatever is cancelled.

Each scenario runs once for every await point: the task is cancelled exactly when it
suspends for the k-th time (k = 1, 2, ... until a run finishes without being cancelled).
Afterwards the connection must be out of any transaction, usable by the next task, and
what it writes must be committed: a second connection sees it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Generator

    from storage.db import Database

MAX_AWAITS = 200  # far above any scenario's number of await points


class _CancelAtSuspension:
    """Drive a coroutine and cancel the running task when it suspends for the k-th time.

    ``Task.cancel`` called while the task runs takes effect at the very await the
    coroutine is about to suspend at, so the cancellation lands exactly there (whatever
    aiosqlite's thread does meanwhile).
    """

    def __init__(self, coroutine: Coroutine[Any, Any, None], k: int) -> None:
        self._coroutine = coroutine
        self._k = k
        self.suspensions = 0

    def __await__(self) -> Generator[Any, Any, None]:
        inner = self._coroutine.__await__()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            try:
                yielded = inner.send(to_send) if to_throw is None else inner.throw(to_throw)
            except StopIteration:
                return
            self.suspensions += 1
            if self.suspensions == self._k:
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
            try:
                to_send, to_throw = (yield yielded), None
            except BaseException as error:  # handed on to the coroutine
                to_send, to_throw = None, error


def _committed(path: str) -> list[str]:
    """Return the marks another connection sees (so only committed ones)."""
    with closing(sqlite3.connect(path)) as other:
        return [row[0] for row in other.execute("SELECT name FROM marks ORDER BY rowid")]


async def _in_transaction(db: Database) -> None:
    async with db.transaction():
        await db.execute("INSERT INTO marks VALUES ('in transaction')")
        await db.fetchall("SELECT * FROM marks")


async def _failing_transaction(db: Database) -> None:
    try:
        async with db.transaction():
            await db.execute("INSERT INTO marks VALUES ('rolled back')")
            raise LookupError
    except LookupError:
        pass


async def _snapshot(db: Database) -> None:
    async with db.snapshot():
        await db.fetchall("SELECT * FROM marks")
        await db.fetchone("SELECT count(*) FROM marks")


async def _single_write(db: Database) -> None:
    await db.execute("INSERT INTO marks VALUES ('single')")
    await db.execute_returning("UPDATE marks SET name = name WHERE 0 RETURNING name")


SCENARIOS: dict[str, Callable[[Database], Awaitable[None]]] = {
    "transaction": _in_transaction,
    "failing transaction": _failing_transaction,
    "snapshot": _snapshot,
    "single write": _single_write,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_cancelled_at_every_await(db: Database, scenario: str) -> None:
    """Cancelled at its k-th await for every k, a task leaves the connection clean."""
    await db.execute("CREATE TABLE marks (name TEXT)")
    run = SCENARIOS[scenario]
    for k in range(1, MAX_AWAITS):
        driver = _CancelAtSuspension(run(db), k)  # type: ignore[arg-type]
        task = asyncio.create_task(_drive(driver))
        finished = True
        try:
            await task
        except asyncio.CancelledError:
            finished = False
        assert not db.connection.in_transaction, f"k={k}: left inside a transaction"
        assert not db.in_transaction, f"k={k}: lock still owned"
        # The next task can open a transaction, and what it writes is committed.
        async with db.transaction():
            await db.execute("INSERT INTO marks VALUES (?)", (f"after {k}",))
        await db.execute("INSERT INTO marks VALUES (?)", (f"single after {k}",))
        seen = _committed(db.path)
        assert seen[-2:] == [f"after {k}", f"single after {k}"], f"k={k}"
        assert "rolled back" not in seen
        if finished:
            assert driver.suspensions < k  # ran to the end: every await point was tried
            assert k > 1
            return
    pytest.fail("the scenario never finished")


async def _drive(driver: _CancelAtSuspension) -> None:
    await driver


async def test_orphaned_transaction_is_rolled_back_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A transaction left open behind the helpers' back is repaired before the next BEGIN."""
    await db.execute("CREATE TABLE marks (name TEXT)")
    await db.connection.execute("BEGIN")
    await db.connection.execute("INSERT INTO marks VALUES ('orphan')")
    async with db.transaction():
        await db.execute("INSERT INTO marks VALUES ('owned')")
    assert _committed(db.path) == ["owned"]
    assert any("nobody owned" in r.getMessage() for r in caplog.records)


async def test_write_waits_for_another_process_holding_the_write_lock(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLITE_BUSY from another connection's BEGIN IMMEDIATE is retried, not raised."""
    caplog.set_level("INFO", logger="storage.db")
    await db.execute("CREATE TABLE marks (name TEXT)")
    with closing(sqlite3.connect(db.path, isolation_level=None, timeout=0)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO marks VALUES ('other process')")

        async def in_transaction() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO marks VALUES ('bot transaction')")

        writes = [
            asyncio.create_task(in_transaction()),
            asyncio.create_task(db.execute("INSERT INTO marks VALUES ('bot single')")),
        ]
        # Hold the lock until both writes met it (the log says so), then commit.
        while sum("waits and retries" in r.getMessage() for r in caplog.records) < 2:
            done = [w for w in writes if w.done()]
            assert not done, [w.exception() for w in done]
            await asyncio.sleep(0.01)  # polling the log, not waiting for time to pass
        other.execute("COMMIT")
    await asyncio.gather(*writes)
    assert sorted(_committed(db.path)) == ["bot single", "bot transaction", "other process"]
