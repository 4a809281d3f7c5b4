"""One bot per database and per token: the lock file, and 409 Conflict from getUpdates."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import aiohttp

from bot.app import services_of
from bot.instance import EXIT_ALREADY_RUNNING, EXIT_CONFLICT, lock_path
from bot.sandbox import Sandbox
from tests.conftest import REPO

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

    from bot.app import BotApp
    from bot.clock import ManualClock

TOKEN: Final = "123456:SANDBOX-TOKEN-FOR-THE-LOCK-TEST"
WAIT_LIMIT: Final = 30.0


def environment(sandbox: Sandbox, database: Path) -> dict[str, str]:
    """Return the environment of ``python -m bot`` against the sandbox."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NETZWERKBOT_TOKEN": sandbox.token,
        "NETZWERKBOT_API_URL": sandbox.base_url,
        "NETZWERKBOT_DATABASE": str(database),
        "NETZWERKBOT_LOG_LEVEL": "WARNING",
    }


async def bot_command(
    sandbox: Sandbox, database: Path, cwd: Path, *args: str
) -> asyncio.subprocess.Process:
    """Start ``python -m bot ARGS`` with its output captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=environment(sandbox, database),
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition()`` (the sandbox runs in this loop meanwhile) until it is true."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def test_second_run_is_refused(tmp_path: Path) -> None:
    """A second ``run`` on the same database stops at once with code 3; admin CLI works."""
    database = tmp_path / "bot.sqlite3"
    lock = lock_path(database)
    async with Sandbox(token=TOKEN) as sandbox:
        first = await bot_command(sandbox, database, tmp_path, "run")
        try:
            await wait_for(
                lambda: lock.is_file() and lock.read_text().strip() == str(first.pid),
                "the first bot's lock",
            )
            await wait_for(lambda: any(c.method == "getUpdates" for c in sandbox.calls), "polling")
            second = await bot_command(sandbox, database, tmp_path, "run")
            _out, err = await asyncio.wait_for(second.communicate(), WAIT_LIMIT)
            assert second.returncode == EXIT_ALREADY_RUNNING
            lines = err.decode().strip().splitlines()
            assert len(lines) == 1, lines
            assert str(lock) in lines[0]
            assert str(first.pid) in lines[0]
            assert lines[0].startswith("Auf dieser Datenbank läuft bereits ein Netzwerkbot")
            # The admin commands do not take the lock: they work while the bot runs.
            events = await bot_command(sandbox, database, tmp_path, "events", "list")
            _out, err = await asyncio.wait_for(events.communicate(), WAIT_LIMIT)
            assert events.returncode == 0, err.decode()
            assert first.returncode is None, "the first bot still runs"
        finally:
            if first.returncode is None:
                first.terminate()
            await first.wait()
        assert first.returncode == 0
        # The lock went with the process: the next run may start.
        polls = sum(c.method == "getUpdates" for c in sandbox.calls)
        third = await bot_command(sandbox, database, tmp_path, "run")
        try:
            await wait_for(lambda: lock.read_text().strip() == str(third.pid), "the third lock")
            await wait_for(
                lambda: sum(c.method == "getUpdates" for c in sandbox.calls) > polls,
                "the third bot polling",
            )
        finally:
            third.terminate()
            await third.wait()
        assert third.returncode == 0


async def test_conflict_stops_the_bot_after_two_minutes(
    bot: BotApp, sandbox: Sandbox, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Another poller on the token: 409 logged once with Telegram's words, exit 4 later."""
    caplog.set_level(logging.INFO)
    services = services_of(bot)
    url = f"{sandbox.base_url}{sandbox.token}/getUpdates"

    async def other_poller() -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.post(url, json={"timeout": 5}) as response:
                    await response.read()

    def conflicts() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "409 Conflict (" in r.getMessage()]

    other = asyncio.create_task(other_poller())
    try:
        await wait_for(lambda: bool(conflicts()), "the first 409")
        assert "terminated by other getUpdates request" in conflicts()[0].getMessage()
        assert services.exit_code is None, "one conflict is no reason to stop"
        clock.advance(timedelta(minutes=1))
        count = sum(c.method == "getUpdates" for c in sandbox.calls)
        await wait_for(
            lambda: sum(c.method == "getUpdates" for c in sandbox.calls) > count + 2, "retries"
        )
        assert services.exit_code is None
        clock.advance(timedelta(minutes=1))
        await wait_for(lambda: services.exit_code is not None, "the bot giving up")
        assert services.exit_code == EXIT_CONFLICT
        assert len(conflicts()) == 1, "logged once, not per retry"
        assert any("still 409 Conflict" in r.getMessage() for r in caplog.records)
    finally:
        other.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await other
