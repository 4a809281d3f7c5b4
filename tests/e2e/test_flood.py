"""No chat stalls the others: a flood from one chat neither holds the others up nor runs away.

The flooding chat's handlers are held on an event, so the test controls exactly what is
running: the flood's first update is stuck in its handler while the rest queue behind it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from telegram import Update
from telegram.ext import TypeHandler

from bot.updates import MAX_CHAT_BACKLOG, MAX_CONCURRENT_UPDATES
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    import pytest

    from bot.app import BotApp
    from bot.context import BotContext
    from bot.sandbox import Sandbox

FLOOD: Final = 60
FLOODER: Final = 2001
GROUP_HOLD: Final = -100  # before every group of the bot


async def test_flood_neither_stalls_others_nor_queues_without_end(
    bot: BotApp, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """60 updates of one chat: another chat's /start is answered while they wait."""
    assert FLOOD > MAX_CONCURRENT_UPDATES + MAX_CHAT_BACKLOG
    caplog.set_level(logging.INFO)
    release = asyncio.Event()
    first_held = asyncio.Event()
    held: list[int] = []

    async def hold_flooder(update: Update, _: BotContext) -> None:
        if update.effective_chat is not None and update.effective_chat.id == FLOODER:
            held.append(update.update_id)
            first_held.set()
            await release.wait()

    bot.add_handler(TypeHandler(Update, hold_flooder), group=GROUP_HOLD)
    flooder = Person(sandbox, FLOODER, first_name="Flut")
    other = Person(sandbox, 2002, first_name="Erika")
    for i in range(FLOOD):
        sandbox.send_text(flooder.user_id, f"Geheime Flutnachricht {i}")
    try:
        await asyncio.wait_for(first_held.wait(), timeout=10)
        # The other chat comes after the whole flood, and is answered while it is held.
        replies = await other.say("/start", within=5)
        assert replies
        assert len(held) == 1
    finally:
        release.set()

    await sandbox.wait_idle(quiet=0.5, timeout=20)
    assert len(held) == MAX_CHAT_BACKLOG  # the rest was dropped, not run
    warnings = [m for m in flooder.messages() if "Bitte etwas langsamer" in (m.text or "")]
    assert len(warnings) == 1
    assert len(flooder.messages()) == 1 + MAX_CHAT_BACKLOG  # one answer per kept message
    dropped = [r for r in caplog.records if r.getMessage().startswith("Dropped update")]
    assert len(dropped) == FLOOD - MAX_CHAT_BACKLOG
    assert not any("Flutnachricht" in r.getMessage() for r in caplog.records)
