"""Fast fixtures: the real application on a recording request layer, driven update by update.

No polling, no HTTP, no sleeps: a test builds an update, ``app.process_update`` runs the
handlers to the end, and the test reads the Bot API calls the bot made (and the SQLite file).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from typing import TYPE_CHECKING, Any, Final

import pytest

from bot.app import BotApp, build_application
from bot.config import Settings
from bot.domain.clock import ManualClock
from tests.conftest import TODAY
from tests.fast.fakes import Call, RecordingRequest, Updates

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from telegram import Update

ADMIN: Final = 7001
MEMBER: Final = 1001
GROUP: Final = -100500
# PTB names the tasks of non-blocking handlers (the admin menu's TypeHandler) like this.
NON_BLOCKING: Final = "process_update_non_blocking"


class Harness:
    """The running application, its fake request layer and a builder of updates."""

    def __init__(self, app: BotApp, request: RecordingRequest, database: Path) -> None:
        self.app = app
        self.request = request
        self.database = database
        self.updates = Updates(request, app.bot)

    async def process(self, update: Update) -> list[Call]:
        """Run the handlers on ``update`` to the end; return the Bot API calls they made."""
        before = len(self.request.calls)
        await self.app.process_update(update)
        # Non-blocking handlers run as tasks of the application: wait for them too.
        current = asyncio.current_task()
        pending = [
            t for t in asyncio.all_tasks() if t is not current and NON_BLOCKING in t.get_name()
        ]
        await asyncio.gather(*pending)
        return self.request.calls[before:]

    def person(self, user_id: int = MEMBER, first_name: str = "Erika") -> Person:
        """Return a person chatting with the bot."""
        return Person(self, user_id, first_name)

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read rows from the bot's database file with a second connection."""
        with sqlite3.connect(self.database) as conn:
            return conn.execute(sql, args).fetchall()


class Person:
    """A Telegram user writing to the bot (privately or in a group) and pressing buttons."""

    def __init__(self, harness: Harness, user_id: int, first_name: str) -> None:
        self.harness = harness
        self.user_id = user_id
        harness.updates.user(user_id, first_name)

    async def say(
        self, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> list[Call]:
        """Send a text; return the messages the bot sent or edited in answer."""
        update = self.harness.updates.message(
            self.user_id, text, chat_id=chat_id, reply_to=reply_to
        )
        return _shown(await self.harness.process(update))

    async def send(self, *, chat_id: int | None = None, **fields: Any) -> list[Call]:
        """Send a message without text (sticker, photo, ...); return the bot's messages."""
        update = self.harness.updates.message(self.user_id, chat_id=chat_id, **fields)
        return _shown(await self.harness.process(update))

    async def press(self, label: str, call: Call) -> list[Call]:
        """Press the first button of ``call``'s message whose label contains ``label``."""
        for button in call.buttons:
            if label in button["text"] and "callback_data" in button:
                return await self.press_data(button["callback_data"], call)
        raise AssertionError(f"no button {label!r} in {call.labels}")

    async def press_data(self, data: str, call: Call) -> list[Call]:
        """Press a button with ``data`` (perhaps forged) under the message ``call`` sent.

        Returns every call the bot made, the ``answerCallbackQuery`` included.
        """
        assert call.chat_id is not None
        assert call.message_id is not None
        message = self.harness.request.messages[(call.chat_id, call.message_id)]
        update = self.harness.updates.callback(self.user_id, message, data)
        return await self.harness.process(update)


def _shown(calls: list[Call]) -> list[Call]:
    """Return the accepted sends and edits among ``calls``."""
    return [c for c in calls if c.ok and (c.method.startswith(("send", "edit")))]


def answers(calls: list[Call]) -> list[Call]:
    """Return the callback query answers among ``calls``."""
    return [c for c in calls if c.method == "answerCallbackQuery"]


def shown(calls: list[Call]) -> list[Call]:
    """Return the messages sent or edited among ``calls``."""
    return _shown(calls)


def fast_settings(database: Path) -> Settings:
    """Return settings with one permanent admin on ``database``.

    ``send_rate=0``: the send budget's pacing waits in real time and has tests of its own
    (tests/test_sender.py); here a reply must never wait.
    """
    return Settings(
        token="123456:fast-level",
        database=database,
        admins=frozenset({ADMIN}),
        send_rate=0,
    )


def build(settings: Settings, clock: ManualClock, request: RecordingRequest) -> BotApp:
    """Build the real application on the fake request layer, with the demo meetings."""
    return build_application(
        settings,
        clock=clock,
        request=request,
        get_updates_request=RecordingRequest(),
        seed_demo=True,
    )


async def _first_start(database: Path) -> None:
    """Start the bot once on an empty file (migrations, bundled data), then stop it."""
    app = build(fast_settings(database), ManualClock(TODAY), RecordingRequest())
    async with app:
        assert app.post_init is not None
        assert app.post_shutdown is not None
        await app.post_init(app)
        await app.post_shutdown(app)


@pytest.fixture(scope="session")
def first_started(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a database file after the bot's first start, made once per test session.

    Migrating and loading the bundled data take most of a fast test's time; every test
    starts from a copy of this file instead, as if the bot had run once before. (The first
    start itself is what tests/storage and the end-to-end tests check.)
    """
    database = tmp_path_factory.mktemp("first-start") / "bot.sqlite3"
    asyncio.run(_first_start(database))
    return database


@pytest.fixture
def settings(tmp_path: Path, first_started: Path) -> Settings:
    """Return the fast settings on a copy of the first-started database."""
    database = tmp_path / "bot.sqlite3"
    shutil.copyfile(first_started, database)
    return fast_settings(database)


@pytest.fixture
def request_layer() -> RecordingRequest:
    """Return the recording fake of the Bot API."""
    return RecordingRequest()


@pytest.fixture
async def fast(
    settings: Settings, clock: ManualClock, request_layer: RecordingRequest
) -> AsyncIterator[Harness]:
    """Run the real application (post_init included) on the fake; no polling, no jobs.

    The application is started so that non-blocking handlers run as its tasks, but its job
    scheduler is paused: jobs run only when a test runs them (``await job.run(app)``).
    Afterwards no call of the bot may have been one that Telegram refuses (400), except an
    edit that changes nothing, which the bot expects and ignores.
    """
    app = build(settings, clock, request_layer)
    await app.initialize()
    try:
        assert app.post_init is not None
        assert app.post_shutdown is not None
        await app.post_init(app)
        try:
            assert app.job_queue is not None
            await app.start()
            app.job_queue.scheduler.pause()
            try:
                yield Harness(app, request_layer, settings.database)
            finally:
                await app.stop()
        finally:
            await app.post_shutdown(app)
    finally:
        await app.shutdown()
    refused = [(c.method, c.response) for c in request_layer.refused()]
    assert not refused, refused


@pytest.fixture
def person(fast: Harness) -> Person:
    """Return a member chatting with the bot in a private chat."""
    return fast.person()


@pytest.fixture
def admin(fast: Harness) -> Person:
    """Return the permanent admin, chatting privately."""
    return fast.person(ADMIN, "Anna")
