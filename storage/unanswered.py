"""Messages the bot could not answer, kept for the admins so the data and the bot can improve.

Only the text is kept: no user id, no chat id, nothing that links a row to a person. A text
is cut to 500 characters, and rows older than 30 days are deleted on every write and every
read, so nothing older is ever shown or kept for long (a quiet bot keeps them until its next
write or read; ``purge`` is also run by the daily job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from storage.codecs import utc_text

if TYPE_CHECKING:
    from storage.db import Database

MAX_TEXT: Final = 500
KEEP: Final = timedelta(days=30)

SQL_ADD: Final = "INSERT INTO unanswered (at, text) VALUES (?, ?)"
SQL_PURGE: Final = "DELETE FROM unanswered WHERE at < ?"
SQL_LATEST: Final = (
    "SELECT at, text FROM unanswered WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class Unanswered:
    """One message the bot could not answer."""

    at: datetime
    text: str


def clip(text: str) -> str:
    """Return the text as it is kept: whitespace collapsed, at most 500 characters."""
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


class UnansweredStore:
    """The unanswered messages of the last 30 days."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, text: str, *, now: datetime) -> None:
        """Keep one unanswered message (clipped) and delete those older than 30 days."""
        kept = clip(text)
        if not kept:
            return
        async with self._db.transaction():
            await self._db.execute(SQL_PURGE, (utc_text(now - KEEP),))
            await self._db.execute(SQL_ADD, (utc_text(now), kept))

    async def purge(self, *, now: datetime) -> int:
        """Delete the messages older than 30 days; return how many."""
        async with self._db.transaction():
            return await self._db.execute(SQL_PURGE, (utc_text(now - KEEP),))

    async def latest(
        self, *, now: datetime, limit: int | None = 20, days: int = 30
    ) -> list[Unanswered]:
        """Return the newest messages of the last ``days`` days (at most 30), newest first."""
        await self.purge(now=now)
        # Clamped before it becomes a timedelta: --days 99999999999 must not overflow it.
        since = now - timedelta(days=min(max(days, 0), KEEP.days))
        rows = await self._db.fetchall(
            SQL_LATEST, (utc_text(since), -1 if limit is None else limit)
        )
        return [Unanswered(datetime.fromisoformat(str(r[0])), str(r[1])) for r in rows]
