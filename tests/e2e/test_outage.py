"""Telegram or the network has a bad minute: replies, reminders, notices and circulars survive.

The real bot polls the sandbox over HTTP with a real SQLite file; the sandbox refuses or drops
requests for a while (a 429 storm, HTTP 500, dropped connections) and the test moves the bot's
``ManualClock`` instead of sleeping through the delays.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Final

from bot.sandbox.flood import counts_for_flood

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.sandbox import Sandbox
    from tests.e2e.conftest import Person

APOLOGY: Final = "Entschuldigung"


def sends_to(sandbox: Sandbox, chat: int) -> list[tuple[int, str]]:
    """Return (status, text) of every message the bot tried to send to a chat."""
    return [
        (c.status, str(c.params.get("text", "")))
        for c in sandbox.calls
        if c.chat_id == chat and counts_for_flood(c.method)
    ]


async def test_reply_refused_by_flood_control_is_sent_after_retry_after(
    bot: BotApp, sandbox: Sandbox, person: Person
) -> None:
    """A 429 with retry_after 1 s on a reply: the same reply goes again after 1 s, once."""
    await person.say("/hilfe")
    help_text = person.messages()[-1].text
    sandbox.storm(seconds=0.5, retry_after=1)
    started = time.monotonic()
    (reply,) = await person.say("/hilfe", within=5)
    assert reply.text == help_text
    assert time.monotonic() - started >= 1.0
    statuses = [status for status, _ in sends_to(sandbox, person.user_id)]
    assert statuses == [200, 429, 200]


async def test_no_apology_into_the_same_429(bot: BotApp, sandbox: Sandbox, person: Person) -> None:
    """A reply refused twice (storm longer than its retry) is logged; no apology is tried."""
    sandbox.storm(seconds=3, retry_after=1)
    sandbox.send_text(person.user_id, "/hilfe")
    deadline = time.monotonic() + 10
    while len(sends_to(sandbox, person.user_id)) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await sandbox.wait_idle(person.user_id, quiet=2.5, timeout=10)
    sends = sends_to(sandbox, person.user_id)
    assert [status for status, _ in sends] == [429, 429], sends
    assert not any(APOLOGY in text for _, text in sends)
