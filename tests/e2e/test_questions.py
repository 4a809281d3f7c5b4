"""The public question set through Telegram's protocol: each item the first message of a chat.

The reply is everything the bot sends until it has been quiet for one second. The bot's clock
stands inside the set's date window, so the test does not turn red by itself next year.
"""

from __future__ import annotations

import asyncio
from itertools import count
from typing import TYPE_CHECKING, Any, Final

import pytest

from bot.views.replies import Button, Reply
from tests.qa.helpers import DEV_SET, load_items, problems

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.sandbox import Sandbox, SentMessage

MIN_PASS_RATE: Final = 0.95
FIRST_CHAT: Final = 500_000


def as_reply(message: SentMessage) -> Reply:
    """Turn what the sandbox recorded back into the raw HTML and buttons the bot sent."""
    buttons = tuple(
        tuple(Button(b["text"], data=b.get("callback_data"), url=b.get("url")) for b in row)
        for row in (message.reply_markup or {}).get("inline_keyboard", [])
    )
    return Reply(message.html or message.text or message.caption or "", buttons)


async def ask(sandbox: Sandbox, chat_id: int, text: str) -> list[Reply]:
    """Send the first message of a new chat; return the replies once the bot is quiet 1 s."""
    sandbox.add_user(chat_id, first_name="Mitglied")
    sandbox.send_text(chat_id, text)
    await sandbox.wait_idle(chat_id, quiet=1.0, timeout=20)
    return [as_reply(m) for m in sandbox.messages(chat_id)]


async def test_dev_set_through_telegram(bot: BotApp, sandbox: Sandbox) -> None:
    """At least 95% of the items pass; no unknown item gets an invented fact; nothing refused."""
    if not DEV_SET.is_file():
        pytest.skip(f"question set not found: {DEV_SET}")
    items: list[dict[str, Any]] = load_items(DEV_SET)
    chats = count(FIRST_CHAT)
    answers = await asyncio.gather(*(ask(sandbox, next(chats), i["text"]) for i in items))
    failures = {}
    for item, replies in zip(items, answers, strict=True):
        assert replies, f"{item['id']}: no reply"
        if found := problems(item, replies):
            failures[item["id"]] = found
    invented = [
        i["id"]
        for i in items
        if i["intent"] == "unknown"
        and any(p.startswith("contains") for p in failures.get(i["id"], []))
    ]
    assert not invented, {k: failures[k] for k in invented}
    assert 1 - len(failures) / len(items) >= MIN_PASS_RATE, failures
    refused = [c for c in sandbox.calls if c.status not in (0, 200)]  # 0: still open
    assert not refused, [(c.method, c.response) for c in refused]
