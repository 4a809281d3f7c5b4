"""The unanswered messages: text only, clipped to 500 characters, gone after 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import pytest

from storage.unanswered import MAX_TEXT, UnansweredStore, clip

if TYPE_CHECKING:
    from storage.db import Database

T0: Final = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def unanswered(db: Database) -> UnansweredStore:
    """Return the store on the test database."""
    return UnansweredStore(db)


def test_clip() -> None:
    """Whitespace is collapsed and a long text cut to 500 characters with an ellipsis."""
    assert clip("  Wo   ist\n\ndas? ") == "Wo ist das?"
    long = clip("x" * 2000)
    assert len(long) == MAX_TEXT
    assert long.endswith("…")
    assert clip(" \n ") == ""


async def test_latest_newest_first_with_limit(unanswered: UnansweredStore) -> None:
    """latest() returns the newest first, at most ``limit``; an empty text is not kept."""
    for minute in range(25):
        await unanswered.add(f"Frage {minute}", now=T0 + timedelta(minutes=minute))
    await unanswered.add("   ", now=T0 + timedelta(hours=1))
    latest = await unanswered.latest(now=T0 + timedelta(hours=1))
    assert [e.text for e in latest] == [f"Frage {m}" for m in range(24, 4, -1)]
    assert latest[0].at == T0 + timedelta(minutes=24)
    everything = await unanswered.latest(now=T0 + timedelta(hours=1), limit=None)
    assert len(everything) == 25


async def test_deleted_after_30_days(unanswered: UnansweredStore, db: Database) -> None:
    """Rows older than 30 days are never shown and are deleted by writes, reads and purge."""
    await unanswered.add("alt", now=T0)
    await unanswered.add("neu", now=T0 + timedelta(days=20))
    later = T0 + timedelta(days=31)
    assert [e.text for e in await unanswered.latest(now=later)] == ["neu"]
    assert [e.text for e in await unanswered.latest(now=later, days=5)] == []
    assert [e.text for e in await unanswered.latest(now=later, days=365)] == ["neu"]
    assert await unanswered.purge(now=T0 + timedelta(days=51)) == 1
    row = await db.fetchone("SELECT COUNT(*) FROM unanswered")
    assert row is not None
    assert row[0] == 0
    await unanswered.add("x", now=T0)
    await unanswered.add("y", now=T0 + timedelta(days=40))
    rows = await db.fetchall("SELECT text FROM unanswered")
    assert [r[0] for r in rows] == ["y"], "a write purges the old rows"


async def test_table_refuses_long_text(db: Database) -> None:
    """The schema itself holds no text over 500 characters."""
    with pytest.raises(Exception, match="CHECK"):
        async with db.transaction():
            await db.execute(
                "INSERT INTO unanswered (at, text) VALUES (?, ?)", ("2027-01-01", "x" * 501)
            )
