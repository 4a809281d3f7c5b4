"""Who said "Ich komme" to which meeting (table ``attendance``); the one store that writes it.

A row means the person said they come. The Telegram first name is stored only when they chose
to share their name with the organisers (``share_name``), and is deleted with the choice; the
member name of a linked member is not stored here but looked up when an admin exports the list.
Rows go with the person's other data (/meine_daten, /daten_loeschen: ``export_rows``,
``delete_chat_rows``) and with the event (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from storage.codecs import utc_text

if TYPE_CHECKING:
    from datetime import datetime

    from storage.db import Database

FIRST_NAME_MAX: Final = 64  # Telegram's own limit on a first name

SQL_COMING: Final = """
INSERT INTO attendance (event_id, user_id, share_name, first_name, at) VALUES (?, ?, 0, NULL, ?)
ON CONFLICT (event_id, user_id) DO NOTHING"""
SQL_NOT_COMING: Final = "DELETE FROM attendance WHERE event_id = ? AND user_id = ?"
SQL_SHARE: Final = """
UPDATE attendance SET share_name = ?, first_name = ? WHERE event_id = ? AND user_id = ?"""
SQL_IS_COMING: Final = "SELECT 1 FROM attendance WHERE event_id = ? AND user_id = ?"
SQL_COUNTS: Final = """
SELECT event_id, COUNT(*) AS coming, SUM(share_name) AS named FROM attendance
GROUP BY event_id"""
SQL_COUNT: Final = """
SELECT COUNT(*) AS coming, COALESCE(SUM(share_name), 0) AS named FROM attendance
WHERE event_id = ?"""
SQL_NAMED: Final = """
SELECT user_id, first_name, at FROM attendance WHERE event_id = ? AND share_name = 1
ORDER BY at, user_id"""
SQL_OF_USER: Final = """
SELECT event_id, share_name, first_name, at FROM attendance WHERE user_id = ?
ORDER BY at, event_id"""
SQL_DELETE_USER: Final = "DELETE FROM attendance WHERE user_id = ?"


@dataclass(frozen=True, slots=True)
class Count:
    """How many said they come, and how many of them share their name."""

    coming: int = 0
    named: int = 0


@dataclass(frozen=True, slots=True)
class Attendee:
    """A person who comes and shares their name (the member name is looked up elsewhere)."""

    user_id: int
    first_name: str


class AttendanceStore:
    """The "Ich komme" choices."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def come(self, event_id: str, user_id: int, *, now: datetime) -> bool:
        """Record that the person comes; False if they had said so already."""
        async with self._db.transaction():
            return await self._db.execute(SQL_COMING, (event_id, user_id, utc_text(now))) > 0

    async def not_come(self, event_id: str, user_id: int) -> bool:
        """Forget that the person comes (with their shared name); False if they had not said so."""
        async with self._db.transaction():
            return await self._db.execute(SQL_NOT_COMING, (event_id, user_id)) > 0

    async def share_name(self, event_id: str, user_id: int, first_name: str | None) -> bool:
        """Share the first name with the organisers (None: stop sharing); False if not coming."""
        name = None if first_name is None else first_name.strip()[:FIRST_NAME_MAX] or None
        async with self._db.transaction():
            changed = await self._db.execute(
                SQL_SHARE, (int(name is not None), name, event_id, user_id)
            )
        return changed > 0

    async def is_coming(self, event_id: str, user_id: int) -> bool:
        """Tell whether the person said they come."""
        return await self._db.fetchone(SQL_IS_COMING, (event_id, user_id)) is not None

    async def count(self, event_id: str) -> Count:
        """Return one meeting's numbers."""
        row = await self._db.fetchone(SQL_COUNT, (event_id,))
        return Count() if row is None else Count(int(row["coming"]), int(row["named"]))

    async def counts(self) -> dict[str, Count]:
        """Return the numbers of every meeting someone said they come to."""
        return {
            str(row["event_id"]): Count(int(row["coming"]), int(row["named"]))
            for row in await self._db.fetchall(SQL_COUNTS)
        }

    async def named(self, event_id: str) -> list[Attendee]:
        """Return those who come and share their name, in the order they said so."""
        return [
            Attendee(int(row["user_id"]), str(row["first_name"]))
            for row in await self._db.fetchall(SQL_NAMED, (event_id,))
        ]


async def export_rows(db: Database, user_id: int) -> list[dict[str, Any]]:
    """Return a person's choices for /meine_daten (inside the caller's snapshot)."""
    return [
        {
            "event_id": row["event_id"],
            "share_name": bool(row["share_name"]),
            "first_name": row["first_name"],
            "at": row["at"],
        }
        for row in await db.fetchall(SQL_OF_USER, (user_id,))
    ]


async def delete_chat_rows(db: Database, user_id: int) -> int:
    """Delete a person's choices inside the caller's transaction; return how many."""
    return await db.execute(SQL_DELETE_USER, (user_id,))
