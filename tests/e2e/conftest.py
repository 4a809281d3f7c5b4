"""End-to-end fixtures: the sandbox, the real bot polling it over HTTP, a person chatting."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from bot.app import BotApp, build_application, running
from bot.config import Settings
from bot.sandbox import Sandbox
from bot.sandbox.mailsink import MailSink

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from bot.domain.clock import ManualClock
    from bot.sandbox import SentMessage


class Person:
    """A Telegram user chatting with the bot through the sandbox."""

    def __init__(self, sandbox: Sandbox, user_id: int, first_name: str = "Erika") -> None:
        self.sandbox = sandbox
        self.user_id = user_id
        sandbox.add_user(user_id, first_name=first_name)

    def messages(self) -> list[SentMessage]:
        """Return everything the bot sent to this person, current state."""
        return self.sandbox.messages(self.user_id)

    async def say(self, text: str, *, replies: int = 1, within: float = 10.0) -> list[SentMessage]:
        """Send a message; return the bot's new messages once ``replies`` of them arrived."""
        before = len(self.messages())
        self.sandbox.send_text(self.user_id, text)
        return await self._new_since(before, replies, within)

    async def send(self, *, replies: int = 1, **fields: object) -> list[SentMessage]:
        """Send a non-text message (sticker, photo, ...); return the bot's new messages."""
        before = len(self.messages())
        self.sandbox.send_message(self.user_id, **fields)
        return await self._new_since(before, replies, 10.0)

    async def forward_post(self, channel_id: int, text: str) -> list[SentMessage]:
        """Forward a channel's post to the bot; return the bot's new message."""
        before = len(self.messages())
        self.sandbox.forward_channel_post(self.user_id, channel_id, text)
        return await self._new_since(before, 1, 10.0)

    async def press(self, label: str, message: SentMessage | None = None) -> None:
        """Press the first button whose label contains ``label`` (newest message first)."""
        candidates = [message] if message else list(reversed(self.messages()))
        for candidate in candidates:
            for row in (candidate.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        self.sandbox.press_button(
                            self.user_id, candidate.message_id, button["callback_data"]
                        )
                        await self.sandbox.wait_idle(self.user_id, quiet=0.2, timeout=10)
                        return
        raise AssertionError(f"no button {label!r}")

    async def _new_since(self, before: int, replies: int, within: float) -> list[SentMessage]:
        deadline = time.monotonic() + within
        while len(self.messages()) < before + replies:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot sent {len(self.messages()) - before} of {replies}")
            await asyncio.sleep(0.01)  # waiting for the bot's HTTP call, not for time to pass
        await self.sandbox.wait_idle(self.user_id, quiet=0.2, timeout=within)
        return self.messages()[before:]


async def until(check: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait until ``check()`` holds: for effects the sandbox cannot see (a database write).

    An update whose handling ends with a write and no Bot API call leaves ``wait_idle``
    nothing to wait for; on a busy machine the write may come later than its quiet period.
    """
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true")
        await asyncio.sleep(0.01)  # waiting for the bot, not for time to pass


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """Run the local Bot API sandbox on a free port."""
    async with Sandbox() as server:
        yield server


@pytest.fixture
def settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    """Return settings that point the bot at the sandbox and a fresh SQLite file."""
    return Settings(
        token=sandbox.token, api_url=sandbox.base_url, database=tmp_path / "bot.sqlite3"
    )


@pytest.fixture
async def bot(settings: Settings, clock: ManualClock, sandbox: Sandbox) -> AsyncIterator[BotApp]:
    """Run the real bot, polling the sandbox, with the demo events and a manual clock.

    Afterwards no request of the bot may have been one that Telegram refuses (400), except
    an edit that changes nothing, which the bot expects and ignores.
    """
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        yield app
    refused = [
        (c.method, c.response)
        for c in sandbox.calls
        if c.status == 400 and "not modified" not in c.response.get("description", "")
    ]
    assert not refused, refused


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    """Run a real SMTP server (aiosmtpd) on a free local port."""
    async with MailSink() as server:
        yield server


@pytest.fixture
def person(sandbox: Sandbox) -> Person:
    """Return a member chatting with the bot."""
    return Person(sandbox, 1001)
