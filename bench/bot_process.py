"""A bot under test for the benchmarks, in its own process: netzwerkbot or a bare echo bot.

``python -m bench.bot_process netzwerkbot|legacy|echo BASE_URL TOKEN DATABASE`` polls the
sandbox until SIGTERM. The echo bot is the baseline: PTB with one handler that repeats the
text. ``legacy`` is netzwerkbot with the update processor it had before issue 9 (a global
slot taken before the chat's lock, no cap on a chat's backlog), the baseline of
``bench.flood``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import running
from bot.config import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable


async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the text."""
    if update.effective_message and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text, do_quote=False)


async def run_echo(base_url: str, token: str, stop: asyncio.Event) -> None:
    """Run the bare PTB echo bot with the same polling settings as netzwerkbot."""
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        await stop.wait()
        await app.updater.stop()
        await app.stop()


class LegacyPerChatUpdateProcessor(BaseUpdateProcessor):
    """netzwerkbot's update processor before issue 9, verbatim in what it does.

    PTB's semaphore (16) is taken before ``do_process_update``, so updates waiting for their
    chat's lock hold global slots: a flooding chat's backlog fills all of them.
    """

    def __init__(self, max_concurrent_updates: int = 16, **_: Any) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Run the update's handlers once no earlier update of its chat is running."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        key = chat.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def run_netzwerkbot(
    base_url: str, token: str, database: Path, stop: asyncio.Event, *, legacy: bool = False
) -> None:
    """Run netzwerkbot on its own SQLite file with the bundled and demo data."""
    import bot.app
    from bot.app import build_application

    if legacy:  # the benchmark's baseline: the same bot with the old update processor
        bot.app.PerChatUpdateProcessor = LegacyPerChatUpdateProcessor  # type: ignore[assignment,attr-defined]

    settings = Settings(token=token, api_url=base_url, database=database)
    app = build_application(settings, seed_demo=True)
    async with running(app):
        await stop.wait()


async def main(kind: str, base_url: str, token: str, database: Path) -> None:
    """Run the chosen bot until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if kind == "echo":
        # Bare PTB's httpx pool of one connection times out on the final getUpdates after a
        # cancelled long poll and logs a traceback at shutdown; it says nothing about speed.
        logging.getLogger("telegram.ext.Updater").setLevel(logging.CRITICAL)
        await run_echo(base_url, token, stop)
    else:
        await run_netzwerkbot(base_url, token, database, stop, legacy=kind == "legacy")


if __name__ == "__main__":
    _, kind_arg, url_arg, token_arg, db_arg = sys.argv
    asyncio.run(main(kind_arg, url_arg, token_arg, Path(db_arg)))
