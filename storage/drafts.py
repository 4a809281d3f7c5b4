"""Open admin dialogs that survive a restart: conversation states and the admins' drafts.

PTB's persistence (``bot.persistence``) writes through this store: ``dialog_states`` holds
the state of each open conversation (``/termin_neu``, ``/rundschreiben``, ...) per chat and
user with the moment it times out, ``dialog_drafts`` the person's ``user_data`` (the drafts)
as JSON. A conversation that ends deletes its row; an empty ``user_data`` deletes its row.

Rows go with the person's other data (/meine_daten, /daten_loeschen: ``export_rows``,
``delete_chat_rows``); rows of dialogs that timed out long ago go in the daily purge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from storage.codecs import parse_utc, utc_text

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from storage.db import Database

# The state a dialog is loaded in when its deadline passed while the bot was down: each
# persistent ConversationHandler answers it like a timeout (PTB's own states are -1 to -3).
EXPIRED: Final = -20
# A dialog that timed out is kept this long for the "abgelaufen" answer on the next message.
KEEP_EXPIRED: Final = timedelta(days=7)

log = logging.getLogger(__name__)

SQL_SET_STATE: Final = """
INSERT INTO dialog_states (name, chat_id, user_id, state, deadline, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (name, chat_id, user_id) DO UPDATE SET
    state = excluded.state, deadline = excluded.deadline, updated_at = excluded.updated_at"""
SQL_END_STATE: Final = "DELETE FROM dialog_states WHERE name = ? AND chat_id = ? AND user_id = ?"
SQL_SET_DRAFTS: Final = """
INSERT INTO dialog_drafts (user_id, data, updated_at) VALUES (?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"""
SQL_DROP_DRAFTS: Final = "DELETE FROM dialog_drafts WHERE user_id = ?"
SQL_DELETE_STATES_OF: Final = "DELETE FROM dialog_states WHERE chat_id = ? OR user_id = ?"
SQL_STATES_OF: Final = """
SELECT name, state, deadline, updated_at FROM dialog_states
WHERE chat_id = ? OR user_id = ? ORDER BY name"""
SQL_DRAFTS_OF: Final = "SELECT data, updated_at FROM dialog_drafts WHERE user_id = ?"
SQL_PURGE_STATES: Final = "DELETE FROM dialog_states WHERE deadline < ?"
SQL_PURGE_DRAFTS: Final = """
DELETE FROM dialog_drafts
WHERE updated_at < ? AND user_id NOT IN (SELECT user_id FROM dialog_states)"""
SQL_ALL_STATES: Final = "SELECT name, chat_id, user_id, state, deadline FROM dialog_states"
SQL_ALL_DRAFTS: Final = "SELECT user_id, data FROM dialog_drafts"
SQL_HAS_TABLE: Final = (
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dialog_states'"
)


@dataclass(frozen=True, slots=True)
class SavedState:
    """One open conversation as stored."""

    name: str
    chat_id: int
    user_id: int
    state: int
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Saved:
    """Everything stored, as the persistence loads it at start."""

    states: tuple[SavedState, ...] = ()
    drafts: dict[int, dict[str, Any]] | None = None


def _read(path: Path) -> Saved:
    """Read every stored dialog with a read-only connection (no file, no table: nothing).

    A file that is no database holds no dialog either: opening it in ``post_init`` says
    what is wrong, in one line.
    """
    if not path.is_file():
        return Saved(drafts={})
    try:
        return _read_tables(path)
    except sqlite3.Error as error:
        log.warning("Stored admin dialogs could not be read: %s", error)
        return Saved(drafts={})


def _read_tables(path: Path) -> Saved:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if conn.execute(SQL_HAS_TABLE).fetchone() is None:
            return Saved(drafts={})
        states = tuple(
            SavedState(
                str(name),
                int(chat_id),
                int(user_id),
                int(state),
                parse_utc(deadline) if deadline else None,
            )
            for name, chat_id, user_id, state, deadline in conn.execute(SQL_ALL_STATES)
        )
        drafts: dict[int, dict[str, Any]] = {}
        for user_id, data in conn.execute(SQL_ALL_DRAFTS):
            loaded = json.loads(data)
            if isinstance(loaded, dict):
                drafts[int(user_id)] = loaded
        return Saved(states, drafts)
    finally:
        conn.close()


async def read_saved(path: Path) -> Saved:
    """Return the stored dialogs before the bot's connection is open.

    PTB loads its persistence in ``Application.initialize``, before ``post_init`` opens and
    migrates the database; a database without the table (first start, older schema) holds
    no dialog.
    """
    return await asyncio.to_thread(_read, path)


class DraftStore:
    """Writes ``dialog_states`` and ``dialog_drafts``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_state(
        self,
        name: str,
        chat_id: int,
        user_id: int,
        state: int | None,
        *,
        deadline: datetime | None,
        now: datetime,
    ) -> None:
        """Store a conversation's new state; ``None`` (ended) deletes it."""
        async with self._db.transaction():
            if state is None:
                await self._db.execute(SQL_END_STATE, (name, chat_id, user_id))
            else:
                await self._db.execute(
                    SQL_SET_STATE,
                    (
                        name,
                        chat_id,
                        user_id,
                        state,
                        utc_text(deadline) if deadline else None,
                        utc_text(now),
                    ),
                )

    async def set_drafts(self, user_id: int, data: str | None, *, now: datetime) -> None:
        """Store a person's drafts (JSON text); ``None`` deletes them."""
        async with self._db.transaction():
            if data is None:
                await self._db.execute(SQL_DROP_DRAFTS, (user_id,))
            else:
                await self._db.execute(SQL_SET_DRAFTS, (user_id, data, utc_text(now)))

    async def purge(self, *, now: datetime) -> int:
        """Delete dialogs that timed out more than ``KEEP_EXPIRED`` ago, and orphan drafts."""
        before = utc_text(now - KEEP_EXPIRED)
        async with self._db.transaction():
            count = await self._db.execute(SQL_PURGE_STATES, (before,))
            count += await self._db.execute(SQL_PURGE_DRAFTS, (before,))
        return count


async def export_rows(db: Database, chat_id: int) -> dict[str, Any]:
    """Return a person's open dialogs and drafts for /meine_daten (inside a snapshot)."""
    states = [dict(row) for row in await db.fetchall(SQL_STATES_OF, (chat_id, chat_id))]
    row = await db.fetchone(SQL_DRAFTS_OF, (chat_id,))
    drafts = {"data": json.loads(row["data"]), "updated_at": row["updated_at"]} if row else None
    return {"states": states, "drafts": drafts}


async def delete_chat_rows(db: Database, chat_id: int) -> int:
    """Delete a person's open dialogs and drafts inside the caller's transaction."""
    count = await db.execute(SQL_DELETE_STATES_OF, (chat_id, chat_id))
    count += await db.execute(SQL_DROP_DRAFTS, (chat_id,))
    return count
