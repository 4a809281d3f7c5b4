"""Backup and restore for real: a backup taken while a circular runs restores and finishes.

The bot runs as ``python -m bot run`` against the sandbox in this test process (as in
``test_broadcast_crash.py``); ``netzwerkbot backup`` and ``restore`` run as processes too.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections import Counter
from typing import TYPE_CHECKING, Final

from bot.instance import EXIT_ALREADY_RUNNING
from bot.sandbox import Sandbox
from tests.conftest import REPO
from tests.e2e.test_broadcast_crash import (
    ADMIN,
    TOKEN,
    delivered,
    prepare,
    row_states,
    status,
    wait_for,
)

if TYPE_CHECKING:
    from pathlib import Path

FIRST: Final = 30_000_000
RECIPIENTS: Final = 400
RATE: Final = "40"  # pushes per second: the circular takes about 10 s


async def command(
    sandbox: Sandbox, database: Path, cwd: Path, *args: str, rate: str = RATE
) -> asyncio.subprocess.Process:
    """Start ``python -m bot ARGS`` against the sandbox, output captured."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NETZWERKBOT_TOKEN": sandbox.token,
        "NETZWERKBOT_API_URL": sandbox.base_url,
        "NETZWERKBOT_DATABASE": str(database),
        "NETZWERKBOT_SEND_RATE": rate,
        "NETZWERKBOT_ADMINS": str(ADMIN),
        "NETZWERKBOT_LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Wait for a process; return its exit code, standard output and error."""
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_backup_during_a_circular_restores_and_finishes(tmp_path: Path) -> None:
    """Back up mid-circular, let it end, restore: the restored circular runs to its end."""
    chats = list(range(FIRST, FIRST + RECIPIENTS))
    recipients = set(chats)
    database = tmp_path / "bot.sqlite3"
    broadcast_id = await prepare(database, chats)
    async with Sandbox(token=TOKEN) as sandbox:
        sandbox.add_user(ADMIN, first_name="Admin")
        for chat in chats:
            sandbox.add_user(chat, first_name="Mitglied")
        bot = await command(sandbox, database, tmp_path, "run")
        try:
            await wait_for(lambda: len(delivered(sandbox, recipients)) >= 60, "a first part")
            code, out, err = await finished(
                await command(sandbox, database, tmp_path, "backup", "--keep", "3")
            )
            assert code == 0, err
            path = tmp_path / out.strip()
            assert path.parent == tmp_path / "backups"
            # No restore while the bot runs: the lock says who holds the database.
            code, _out, err = await finished(
                await command(sandbox, database, tmp_path, "restore", str(path))
            )
            assert code == EXIT_ALREADY_RUNNING
            assert str(bot.pid) in err
            sent_at_backup = len(delivered(sandbox, recipients))
            assert sent_at_backup < RECIPIENTS, "the backup was taken mid-circular"
            await wait_for(lambda: status(database, broadcast_id) == "done", "the first end")
        finally:
            if bot.returncode is None:
                bot.terminate()
            await bot.wait()

        with sqlite3.connect(path) as conn:
            (saved,) = conn.execute(
                "SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,)
            ).fetchone()
        assert saved == "running"
        code, out, err = await finished(
            await command(sandbox, database, tmp_path, "restore", str(path))
        )
        assert code == 0, err
        assert "pre-restore" in out
        assert status(database, broadcast_id) == "running"
        restored = row_states(database, broadcast_id)
        assert restored["sent"] < RECIPIENTS
        assert restored["pending"] + restored["sending"] > 0

        sandbox.accepted_sends.clear()
        bot = await command(sandbox, database, tmp_path, "run", rate="0")
        try:
            await wait_for(lambda: status(database, broadcast_id) == "done", "the second end")
        finally:
            bot.terminate()
            await bot.wait()
    resent = Counter(delivered(sandbox, recipients))
    # Those the backup had not recorded as sent got it (again) from the restored database.
    assert sum(resent.values()) == RECIPIENTS - restored["sent"]
    assert row_states(database, broadcast_id) == Counter({"sent": RECIPIENTS})
