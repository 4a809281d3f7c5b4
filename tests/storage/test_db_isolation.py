"""Single statements of one task never land inside another task's transaction."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from storage.db import Database


async def test_statement_waits_for_another_tasks_transaction(db: Database) -> None:
    """A write sent while another task's transaction is open survives its rollback."""
    await db.execute("CREATE TABLE marks (name TEXT)")
    opened = asyncio.Event()
    release = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO marks VALUES ('rolled back')")
            opened.set()
            await release.wait()
            raise RuntimeError("boom")

    task = asyncio.create_task(failing_transaction())
    await opened.wait()
    write = asyncio.create_task(db.execute("INSERT INTO marks VALUES ('kept')"))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError, match="boom"):
        await task
    await write
    assert [tuple(r) for r in await db.fetchall("SELECT name FROM marks")] == [("kept",)]


async def test_returning_write(db: Database) -> None:
    """A write with RETURNING gives its rows back and leaves no statement open."""
    await db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, state TEXT)")
    await db.execute("INSERT INTO items (state) VALUES ('pending')")
    rows = await db.execute_returning(
        "UPDATE items SET state = 'sending' WHERE state = 'pending' RETURNING id"
    )
    assert [tuple(r) for r in rows] == [(1,)]
    async with db.transaction():
        await db.execute("UPDATE items SET state = 'sent'")
