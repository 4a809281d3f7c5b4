"""Update processing: different chats at the same time, each chat strictly in order.

PTB processes updates one after the other by default, so every reply waits for the HTTP round
trips of all replies before it. Its ``concurrent_updates`` runs them all at once, which lets a
person's second message overtake their first (and breaks conversations). This processor takes
the middle way: one queue per chat, and a global limit on the updates being processed.

No chat stalls the others: an update takes one of the ``MAX_CONCURRENT_UPDATES`` global slots
only when its chat's turn has come, so a chat's backlog holds at most one slot, however long
it is. (PTB's ``BaseUpdateProcessor.process_update`` takes its own semaphore *before* the
processor sees the update; that semaphore is therefore made so large that it never makes an
update wait, and the real limit is taken here, after the chat's lock.) A chat's backlog is
capped: an update that finds ``MAX_CHAT_BACKLOG`` updates of its chat already queued is
dropped, logged by its id only, and the first one dropped is answered with a polite request
to slow down (once, until the chat's backlog has drained).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot.logs import CURRENT_UPDATE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.i18n import Translator

MAX_CONCURRENT_UPDATES: Final = 16
# Updates of one chat held (the running one included) before more are dropped. Forwarding
# a handful of messages at once stays far below; only a flood reaches it.
MAX_CHAT_BACKLOG: Final = 20
# PTB's own semaphore, taken before do_process_update: large enough never to be waited for.
_PTB_SEMAPHORE: Final = 1 << 30

log = logging.getLogger(__name__)


@dataclass
class _Chat:
    """One chat's queue: its lock and how many of its updates hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    queued: int = 0
    warned: bool = False


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Process updates of different chats concurrently and those of one chat in order."""

    __slots__ = ("_chats", "_limit", "_max_backlog", "_on_update", "_slots", "_tr")

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        *,
        max_backlog: int = MAX_CHAT_BACKLOG,
        tr: Translator | None = None,
        on_update: Callable[[], None] | None = None,
    ) -> None:
        if max_concurrent_updates < 1 or max_backlog < 1:
            raise ValueError("the limits must be positive")
        super().__init__(_PTB_SEMAPHORE)
        self._limit = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._max_backlog = max_backlog
        self._tr = tr
        self._on_update = on_update  # counts every update (polling or webhook)
        self._chats: dict[int, _Chat] = {}

    @property
    def slots(self) -> int:
        """Return how many updates are processed at the same time at most."""
        return self._limit

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Run the update's handlers once its chat's turn has come and a slot is free."""
        if self._on_update is not None and isinstance(update, Update):
            self._on_update()
        # PTB runs each update in a task of its own, so this names the update in every log
        # record its handlers write (the JSON log's update_id).
        CURRENT_UPDATE.set(update.update_id if isinstance(update, Update) else None)
        key = _chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        chat = self._chats.setdefault(key, _Chat())
        if chat.queued >= self._max_backlog:
            await self._drop(update, coroutine, key, chat)
            return
        chat.queued += 1
        try:
            async with chat.lock, self._slots:
                await coroutine
        finally:
            chat.queued -= 1
            if not chat.queued:  # forget idle chats, so memory stays flat
                del self._chats[key]

    async def _drop(
        self, update: object, coroutine: Awaitable[object], key: int, chat: _Chat
    ) -> None:
        """Drop an update of a flooding chat; ask the chat once to slow down."""
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run: no "never awaited" warning
        update_id = update.update_id if isinstance(update, Update) else None
        log.warning("Dropped update %s: its chat has %d updates queued", update_id, chat.queued)
        if chat.warned or self._tr is None or not isinstance(update, Update):
            return
        chat.warned = True
        text = self._tr.gettext(
            "Please slow down a little: you are sending more messages than I can answer this "
            "quickly. I will answer the first ones in order; I skipped the rest, please send "
            "them again later."
        )
        # Outside the chat's queue (it is the queue that is too long), inside the global limit.
        chat.queued += 1  # keeps the chat's entry (and its warned flag) while this runs
        try:
            async with self._slots:
                await update.get_bot().send_message(key, text)
        except TelegramError as error:
            log.warning("Could not ask a flooding chat to slow down: %s", type(error).__name__)
        finally:
            chat.queued -= 1
            if not chat.queued:
                del self._chats[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
