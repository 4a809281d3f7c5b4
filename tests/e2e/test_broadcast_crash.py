"""Crash safety of broadcasts: the bot as a real process, killed with SIGKILL and restarted.

The sandbox runs in this test process (flood emulation off) and records every message it
accepted; the bot runs as ``python -m bot run`` with ``NETZWERKBOT_SEND_RATE=0``. The
broadcast is planned for a moment that has passed when the bot first starts, so the first
process snapshots the audience itself. Each kill comes after a random number of accepted
messages. In the end every recipient has at least one copy, the duplicates are at most the
rows in flight at each kill (five), and every row is in a final state.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.delivery.broadcast import MAX_IN_FLIGHT
from bot.domain.circulars import Audience, Content
from bot.sandbox import Sandbox
from storage.broadcasts import BroadcastStore
from storage.db import Database
from storage.migrations import migrate
from tests.conftest import REPO

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ADMIN: Final = 9_000_001
FIRST: Final = 20_000_000
RECIPIENTS: Final = 3_000
KILLS: Final = 4
WAIT_LIMIT: Final = 30.0
# A token of Telegram's form: `netzwerkbot run` checks it.
TOKEN: Final = "123456:SANDBOX-TOKEN-FOR-THE-CRASH-TEST"


async def prepare(database: Path, chats: list[int]) -> int:
    """Create the news subscribers and a broadcast planned a moment ahead; return its id."""
    db = await Database.open(database)
    try:
        await migrate(db)
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="seconds")
        async with db.transaction():
            await db.executemany(
                "INSERT INTO subscribers (chat_id, created_at, updated_at) VALUES (?, ?, ?)",
                [(chat, stamp, stamp) for chat in chats],
            )
            await db.executemany(
                "INSERT INTO subscriptions (chat_id, topic, target, created_at) "
                "VALUES (?, 'news', '', ?)",
                [(chat, stamp) for chat in chats],
            )
        store = BroadcastStore(db)
        content = Content(
            "text",
            text="Rundschreiben: Netzwerktreffen im Frühjahr",
            entities=({"type": "bold", "offset": 0, "length": 13},),
        )
        broadcast = await store.create(content, Audience("news"), by=ADMIN, chat_id=ADMIN, now=now)
        # The same path the conversation's "Planen" takes, as if planned a minute ago for
        # a moment that has just passed: the first process starts it (the snapshot) at once.
        earlier = now - timedelta(minutes=1)
        assert await store.plan(broadcast.id, now - timedelta(seconds=1), by=ADMIN, now=earlier)
        return broadcast.id
    finally:
        await db.close()


def status(database: Path, broadcast_id: int) -> str | None:
    """Read the broadcast's status with a second connection."""
    with sqlite3.connect(database) as conn:
        row = conn.execute(
            "SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,)
        ).fetchone()
    return None if row is None else str(row[0])


def row_states(database: Path, broadcast_id: int) -> Counter[str]:
    """Count the broadcast's outbox rows per state."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        ).fetchall()
    return Counter({str(s): int(n) for s, n in rows})


async def launch(sandbox: Sandbox, database: Path, cwd: Path) -> asyncio.subprocess.Process:
    """Start ``python -m bot run`` against the sandbox."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NETZWERKBOT_TOKEN": sandbox.token,
        "NETZWERKBOT_API_URL": sandbox.base_url,
        "NETZWERKBOT_DATABASE": str(database),
        "NETZWERKBOT_SEND_RATE": "0",
        "NETZWERKBOT_ADMINS": str(ADMIN),
        "NETZWERKBOT_LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL
    )


def delivered(sandbox: Sandbox, recipients: set[int]) -> list[int]:
    """Return the recipient of every accepted broadcast message, duplicates included."""
    return [
        call.chat_id
        for call in sandbox.accepted_sends
        if call.chat_id in recipients and call.method == "sendMessage"
    ]


def admin_text(sandbox: Sandbox) -> str:
    """Return the current text of the admin's latest message (the status message)."""
    message = sandbox.last_message(ADMIN)
    return "" if message is None else message.text or ""


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition()`` (the sandbox runs in this loop meanwhile) until it is true."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.002)


async def test_kill_9_loses_nobody(tmp_path: Path) -> None:
    """Killed at random points and restarted, the broadcast reaches everyone, few twice."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    chats = list(range(FIRST, FIRST + RECIPIENTS))
    recipients = set(chats)
    database = tmp_path / "bot.sqlite3"
    broadcast_id = await prepare(database, chats)
    # Kill points: after k accepted messages, k random and growing, never the very end.
    marks = sorted(rng.sample(range(1, RECIPIENTS - 100), KILLS))
    async with Sandbox(token=TOKEN) as sandbox:
        sandbox.add_user(ADMIN, first_name="Admin")
        for chat in chats:
            sandbox.add_user(chat, first_name="Mitglied")
        for mark in marks:
            process = await launch(sandbox, database, tmp_path)
            try:
                await wait_for(
                    lambda mark=mark: len(delivered(sandbox, recipients)) >= mark,
                    f"{mark} messages (seed {seed})",
                )
            finally:
                if process.returncode is None:
                    process.kill()  # SIGKILL: no shutdown hook runs
                await process.wait()
        process = await launch(sandbox, database, tmp_path)
        try:
            await wait_for(
                lambda: status(database, broadcast_id) == "done", f"the end (seed {seed})"
            )
            await wait_for(lambda: "verschickt" in admin_text(sandbox), "the report")
        finally:
            process.terminate()
            await process.wait()

    copies = Counter(delivered(sandbox, recipients))
    missing = recipients - set(copies)
    duplicates = sum(n - 1 for n in copies.values())
    assert not missing, f"{len(missing)} recipients got nothing (seed {seed})"
    assert duplicates <= MAX_IN_FLIGHT * KILLS, f"{duplicates} duplicates (seed {seed})"
    states = row_states(database, broadcast_id)
    assert states == Counter({"sent": RECIPIENTS}), states
    assert "Zugestellt: 3.000" in admin_text(sandbox)
