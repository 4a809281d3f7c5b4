"""A bot under test for the benchmarks, in its own process: netzwerkbot or a bare echo bot.

``python -m bench.bot_process netzwerkbot|echo BASE_URL TOKEN DATABASE`` polls the sandbox
until SIGTERM. The echo bot is the baseline: PTB with one handler that repeats the text.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import running
from bot.config import Settings

if TYPE_CHECKING:
    from telegram import Update


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


async def run_netzwerkbot(base_url: str, token: str, database: Path, stop: asyncio.Event) -> None:
    """Run netzwerkbot on its own SQLite file with the bundled and demo data."""
    from bot.app import build_application

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
        await run_netzwerkbot(base_url, token, database, stop)


if __name__ == "__main__":
    _, kind_arg, url_arg, token_arg, db_arg = sys.argv
    asyncio.run(main(kind_arg, url_arg, token_arg, Path(db_arg)))
