"""PTB's persistence on the bot's database: admin dialogs survive a restart.

Only what the admin dialogs need is persisted: the states of the persistent
``ConversationHandler``s (``/termin_neu`` and friends, ``/rundschreiben``) and ``user_data``
(their drafts), as JSON, never pickle. A handler module names the ``user_data`` keys whose
values are objects and how to turn them into JSON and back (``codecs``); other values must
be JSON already, or they stay in memory (logged by key, never by content).

Lifecycle (PTB's, see ``Application.initialize``/``update_persistence``):

- PTB loads the persistence in ``initialize``, before ``post_init`` opens and migrates the
  database, so the stored dialogs are read once with a read-only connection
  (:func:`storage.drafts.read_saved`).
- PTB hands changed data over every ``update_interval`` seconds, when the application stops
  and when it shuts down; this class writes it at once through :class:`DraftStore` on the
  bot's one connection (``flush`` has nothing left to do). A crash loses at most the last
  ``update_interval`` seconds of a dialog.
- Each stored state carries its deadline (now + the conversation's timeout). PTB does not
  restore its timeout jobs after a restart; a conversation whose deadline has passed is
  loaded in the state :data:`storage.drafts.EXPIRED`, whose handler in each persistent
  conversation answers the admin's next update like a timeout (the usual "abgelaufen"
  answer) and ends it.
- Members' empty ``user_data`` is never written: only changes of non-empty drafts reach the
  database.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from telegram.ext import BasePersistence, PersistenceInput

from storage.drafts import EXPIRED, Saved, read_saved

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import timedelta
    from pathlib import Path

    from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

    from bot.domain.clock import Clock
    from storage.drafts import DraftStore

Data: TypeAlias = dict[Any, Any]
# user_data key -> (value to JSON data, JSON data to value)
Codec: TypeAlias = tuple["Callable[[Any], Any]", "Callable[[Any], Any]"]

# How often PTB hands changed dialogs over (seconds): what a crash can lose at most.
UPDATE_INTERVAL: Final = 2.0

log = logging.getLogger(__name__)


class DialogPersistence(BasePersistence[Data, Data, Data]):
    """Keep the persistent conversations and the admins' drafts in the database."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock,
        store: Callable[[], DraftStore | None],
        codecs: Mapping[str, Codec],
        update_interval: float = UPDATE_INTERVAL,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._path = path
        self._clock = clock
        self._store = store
        self._codecs = dict(codecs)
        # Set by build_application: each persistent conversation's timeout by name.
        self.timeouts: dict[str, timedelta] = {}
        self._saved: Saved | None = None
        self._written: dict[int, str] = {}  # user id -> the JSON stored for them

    async def _load(self) -> Saved:
        if self._saved is None:
            self._saved = await read_saved(self._path)
        return self._saved

    # --- user_data: the drafts ---------------------------------------------------------------

    def _encode(self, data: Data) -> str | None:
        """Return the JSON of a person's user_data, None when there is nothing to keep."""
        plain: dict[str, Any] = {}
        for key, value in data.items():
            try:
                if not isinstance(key, str):
                    raise TypeError("key")
                encoded = self._codecs[key][0](value) if key in self._codecs else value
                json.dumps(encoded)
            except (TypeError, ValueError):
                log.warning("user_data key %r is not JSON; it is kept in memory only", key)
                continue
            plain[key] = encoded
        if not plain:
            return None
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)

    def _decode(self, plain: Data) -> Data:
        data: Data = {}
        for key, value in plain.items():
            try:
                data[key] = self._codecs[key][1](value) if key in self._codecs else value
            except (TypeError, ValueError, KeyError):
                log.warning("Stored user_data key %r could not be read; dropped", key)
        return data

    async def get_user_data(self) -> dict[int, Data]:
        """Return the stored drafts by user id."""
        saved = await self._load()
        loaded: dict[int, Data] = {}
        for user_id, plain in (saved.drafts or {}).items():
            self._written[user_id] = json.dumps(plain, ensure_ascii=False, sort_keys=True)
            loaded[user_id] = self._decode(plain)
        return loaded

    async def update_user_data(self, user_id: int, data: Data) -> None:
        """Store a person's drafts when they changed; empty drafts delete the row."""
        text = self._encode(data)
        if text == self._written.get(user_id):
            return
        store = self._store()
        if store is None:
            log.warning("Drafts of a user could not be stored: the database is closed")
            return
        await store.set_drafts(user_id, text, now=self._clock.now())
        if text is None:
            self._written.pop(user_id, None)
        else:
            self._written[user_id] = text

    async def drop_user_data(self, user_id: int) -> None:
        """Delete a person's drafts (``Application.drop_user_data``)."""
        self._written.pop(user_id, None)
        if (store := self._store()) is not None:
            await store.set_drafts(user_id, None, now=self._clock.now())

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to refresh: this process is the only writer."""

    # --- conversations -----------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        """Return the open conversations of one handler; expired ones in the EXPIRED state."""
        saved = await self._load()
        now = self._clock.now()
        conversations: ConversationDict = {}
        for row in saved.states:
            if row.name != name:
                continue
            expired = row.deadline is not None and row.deadline <= now
            state = EXPIRED if expired else row.state
            conversations[(row.chat_id, row.user_id)] = state
        return conversations

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store a conversation's state with its deadline; an ended one is deleted."""
        if len(key) != 2 or not all(isinstance(part, int) for part in key):
            log.warning("Conversation %s has a key of another shape; not stored", name)
            return
        if new_state is not None and not isinstance(new_state, int):
            log.warning("Conversation %s has a state that is no number; not stored", name)
            return
        store = self._store()
        if store is None:
            log.warning("Conversation %s could not be stored: the database is closed", name)
            return
        now = self._clock.now()
        timeout = self.timeouts.get(name)
        chat_id, user_id = int(key[0]), int(key[1])
        await store.set_state(
            name,
            chat_id,
            user_id,
            new_state,
            deadline=now + timeout if timeout is not None else None,
            now=now,
        )

    # --- what is not persisted ---------------------------------------------------------------

    async def get_chat_data(self) -> dict[int, Data]:
        """Chat data is not persisted."""
        return {}

    async def get_bot_data(self) -> Data:
        """Bot data is not persisted (the services live there)."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Arbitrary callback data is not used."""
        return None

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        """Chat data is not persisted."""

    async def update_bot_data(self, data: Data) -> None:
        """Bot data is not persisted."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Arbitrary callback data is not used."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not persisted."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Chat data is not persisted."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Bot data is not persisted."""

    async def flush(self) -> None:
        """Nothing to flush: every hand-over is written at once."""
