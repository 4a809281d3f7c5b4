"""The measured processes of the benchmarks: netzwerkbot with a fixed clock, a bare PTB sender.

Each reports ``ready <monotonic seconds>`` on stdout when it starts sending (the monotonic
clock is shared by all processes of the machine) and runs until SIGTERM. Nothing is imported
beyond what the process needs, so that its memory is what the bot, or a bare PTB bot, needs.

``python -m bench._common bot BASE_URL TOKEN DATABASE DUE RATE`` runs netzwerkbot
(``build_application`` + ``running``) on DATABASE with a ``ManualClock`` standing at DUE (ISO
8601) and ``NETZWERKBOT_SEND_RATE`` = RATE.

``python -m bench._common bare BASE_URL TOKEN MESSAGE_JSON FIRST_CHAT N CONCURRENCY [LAYER]``
sends the message in MESSAGE_JSON (``{"text": ..., "reply_markup": ...}``, HTML) to the chats
FIRST_CHAT .. FIRST_CHAT + N - 1 with plain ``bot.send_message``, CONCURRENCY at a time. LAYER
is ``httpx`` (PTB's default request layer) or ``aiohttp`` (netzwerkbot's ``AiohttpRequest``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder


def report_ready() -> None:
    """Tell the driver on stdout that sending starts now (monotonic seconds, machine-wide)."""
    sys.stdout.write(f"ready {time.monotonic()}\n")
    sys.stdout.flush()


def stop_event() -> asyncio.Event:
    """Return an event that SIGTERM or SIGINT sets."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_bot(base_url: str, token: str, database: Path, due: datetime, rate: float) -> None:
    """Run netzwerkbot with its clock standing at ``due`` until SIGTERM."""
    from bot.app import build_application, running
    from bot.config import Settings
    from bot.domain.clock import ManualClock

    stop = stop_event()
    settings = Settings(token=token, api_url=base_url, database=database, send_rate=rate)
    app = build_application(settings, clock=ManualClock(due), seed_demo=True)
    async with running(app):
        report_ready()  # the clock stands at the due time: everything is due from now
        await stop.wait()


async def run_bare(
    base_url: str, token: str, spec: dict[str, Any], chats: range, concurrency: int, layer: str
) -> None:
    """Send the message to every chat with a bare PTB bot, then wait for SIGTERM."""
    stop = stop_event()
    builder = ApplicationBuilder().token(token).base_url(base_url)
    if layer == "aiohttp":
        from bot.http import AiohttpRequest

        builder = builder.request(AiohttpRequest())
    bot = builder.build().bot
    markup = InlineKeyboardMarkup.de_json(spec["reply_markup"], bot)
    no_preview = LinkPreviewOptions(is_disabled=True)
    pending = iter(chats)

    async def worker() -> None:
        for chat in pending:  # one shared iterator: each chat once
            await bot.send_message(
                chat,
                spec["text"],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=no_preview,
            )

    async with bot:
        report_ready()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await stop.wait()


def main(argv: list[str]) -> None:
    """Run the process that the arguments name."""
    # PTB 22 warns when it builds RetryAfter unless timedeltas are switched on.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    match argv:
        case ["bot", base_url, token, database, due, rate]:
            when = datetime.fromisoformat(due)
            asyncio.run(run_bot(base_url, token, Path(database), when, float(rate)))
        case ["bare", base_url, token, message, first, n, concurrency, *layer]:
            spec = json.loads(Path(message).read_text())
            chats = range(int(first), int(first) + int(n))
            kind = layer[0] if layer else "httpx"
            asyncio.run(run_bare(base_url, token, spec, chats, int(concurrency), kind))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
