"""Update processing: different chats at the same time, each chat strictly in order.

PTB processes updates one after the other by default, so every reply waits for the HTTP round
trips of all replies before it. Its ``concurrent_updates`` runs them all at once, which lets a
person's second message overtake their first (and breaks conversations). This processor takes
the middle way: one lock per chat.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

MAX_CONCURRENT_UPDATES: Final = 16


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Process updates of different chats concurrently and those of one chat in order."""

    __slots__ = ("_locks", "_on_update", "_users")

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        *,
        on_update: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._on_update = on_update  # counts every update (polling or webhook)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # chat id -> updates holding or waiting for the lock

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Run the update's handlers once no earlier update of its chat is running."""
        if self._on_update is not None and isinstance(update, Update):
            self._on_update()
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle chats, so memory stays flat
                del self._users[key], self._locks[key]

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
