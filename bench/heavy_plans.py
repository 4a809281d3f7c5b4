"""100,000 followers: do other chats still get their replies while a meeting changes for all?

A database with N subscribers who all follow "meetings" (the Karlsruhe meeting's reminders
planned for them, as in ``bench/reminders.py``). The real bot runs in its own process
against the sandbox (in this process), with one admin. Other chats send ``/start`` at
``--rate`` per second, each a new chat; ``/start`` writes (it marks the chat active in one
``BEGIN IMMEDIATE`` transaction), so every one of them needs the database's write lock.
Meanwhile:

1. admin change: the admin cancels the Karlsruhe meeting in the chat (``/termin_absagen``,
   the meeting, "Ja, Termin absagen"): the bot re-plans N followers' reminders;
2. import: ``netzwerkbot import`` in another process loads the demo meetings' file with all
   four meetings moved by an hour (each has N followers).

Measured: the other chats' reply latency (injection to the sandbox accepting the reply),
p50, p99 and max; replies that were the bot's apology (a failed write) or never came; the
admin's wait from pressing "Ja" to the answer; the import's duration and exit code.

``--tree DIR`` runs the bot, the database preparation and the import from another checkout
(e.g. ``git archive <rev> | tar -x -C DIR``), so the code before a change can be measured
in the same run as the current one: ``--tree`` may be given several times; ``.`` is this
checkout.

Run: ``python -m bench.heavy_plans --tree /tmp/before --tree .`` (a few minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any, Final

from bench.replies import FirstReplies
from bot.sandbox import Sandbox

REPO: Final = Path(__file__).resolve().parents[1]
ADMIN: Final = 4242
USER_IDS = count(50_000_000)
APOLOGY: Final = "Entschuldigung"
MEETING: Final = "Frühjahrstreffen"
DONE: Final = "Der Termin wurde abgesagt"
PREPARE: Final = """
import asyncio, sys
from pathlib import Path
from bench.reminders import due_instant, prepare
asyncio.run(prepare(Path(sys.argv[1]), int(sys.argv[2]), due_instant()))
"""
RUN_BOT: Final = """
import asyncio, signal, sys
from pathlib import Path
from bot.app import build_application, running
from bot.config import Settings

async def main() -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    url, token, database, admin = sys.argv[1:]
    settings = Settings(
        token=token, api_url=url, database=Path(database), admins=frozenset({int(admin)})
    )
    async with running(build_application(settings)):
        await stop.wait()

asyncio.run(main())
"""


def moved_demo_file(folder: Path) -> Path:
    """Return the demo meetings' file with every meeting one hour later."""
    text = (REPO / "bot" / "data" / "demo-events.toml").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith(("start = ", "end = ")) and "T" in line:
            key, value = line.split(" = ")
            hour = int(value[11:13]) + 1
            line = f"{key} = {value[:11]}{hour:02d}{value[13:]}"
        lines.append(line)
    path = folder / "demo-moved.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def quantile(values: list[float], q: int) -> float:
    """Return the q-th percentile (inclusive method)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Traffic:
    """Other chats sending /start at a fixed rate until stopped."""

    def __init__(self, sandbox: Sandbox, rate: float) -> None:
        self.sandbox = sandbox
        self.rate = rate
        self.sent: dict[int, float] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sending."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        start = time.monotonic()
        for i in count():
            if self._stop.is_set():
                return
            await asyncio.sleep(max(0.0, start + i / self.rate - time.monotonic()))
            chat = next(USER_IDS)
            self.sandbox.add_user(chat, first_name="Mitglied")
            self.sent[chat] = time.monotonic()
            self.sandbox.send_text(chat, "/start")

    async def stop(self, replies: FirstReplies, limit: float) -> dict[str, float]:
        """Stop sending, wait for the replies, return latencies and failures."""
        self._stop.set()
        assert self._task is not None
        await self._task
        deadline = time.monotonic() + limit
        # Polling the sandbox's record of what the bot sent.
        while set(self.sent) - replies.refresh().keys() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        answered = replies.refresh()
        latencies = sorted((answered[c] - t) * 1000 for c, t in self.sent.items() if c in answered)
        apologies = sum(
            1
            for c in self.sent
            if any(APOLOGY in (m.text or "") for m in self.sandbox.messages(c))
        )
        return {
            "chats": len(self.sent),
            "p50_ms": statistics.median(latencies),
            "p99_ms": quantile(latencies, 99),
            "max_ms": latencies[-1],
            "unanswered": len(self.sent) - len(latencies),
            "apologies": apologies,
        }


def press(sandbox: Sandbox, chat: int, label: str) -> float:
    """Press the newest button whose label contains ``label``; return when."""
    for message in reversed(sandbox.messages(chat)):
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"] and "callback_data" in button:
                    when = time.monotonic()
                    sandbox.press_button(chat, message.message_id, button["callback_data"])
                    return when
    raise RuntimeError(f"no button {label!r} for the admin")


async def admin_cancel(sandbox: Sandbox) -> float:
    """Cancel the Karlsruhe meeting as the admin; return seconds from "Ja" to the answer."""
    sandbox.send_text(ADMIN, "/termin_absagen")
    await sandbox.wait_idle(ADMIN, quiet=0.3, timeout=30)
    press(sandbox, ADMIN, MEETING)
    await sandbox.wait_idle(ADMIN, quiet=0.3, timeout=30)
    pressed = press(sandbox, ADMIN, "Ja, Termin absagen")
    # Polling what the sandbox received, to the millisecond.
    while not any(DONE in (m.text or "") for m in sandbox.messages(ADMIN)):  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    return time.monotonic() - pressed


async def start_bot(tree: Path, sandbox: Sandbox, database: Path, log: Path) -> Any:
    """Start the tree's bot on the database and wait until it polls."""
    polls = sum(1 for c in sandbox.calls if c.method == "getUpdates")
    process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own code, started once
        [
            sys.executable,
            "-c",
            RUN_BOT,
            sandbox.base_url,
            sandbox.token,
            str(database),
            str(ADMIN),
        ],
        cwd=tree,
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 60
    while sum(1 for c in sandbox.calls if c.method == "getUpdates") <= polls:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the bot of {tree} did not start polling")
        await asyncio.sleep(0.05)
    return process


async def measure(tree: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run both phases against the bot of one tree."""
    database = work / f"{tree.name or 'tree'}-{time.monotonic_ns()}.sqlite3"
    started = time.perf_counter()
    subprocess.run(  # noqa: S603, ASYNC221 - our own code, before anything is measured
        [sys.executable, "-c", PREPARE, str(database), str(args.n)], cwd=tree, check=True
    )
    print(f"{tree}: prepared {args.n:,} followers in {time.perf_counter() - started:.1f} s")
    log = work / f"bot-{time.monotonic_ns()}.log"
    result: dict[str, Any] = {}
    async with Sandbox() as sandbox:
        sandbox.add_user(ADMIN, first_name="Admin")
        process = await start_bot(tree, sandbox, database, log)
        try:
            warm = Traffic(sandbox, args.rate)
            warm.start()
            await asyncio.sleep(1)
            await warm.stop(FirstReplies(sandbox), 30)

            replies = FirstReplies(sandbox)
            traffic = Traffic(sandbox, args.rate)
            traffic.start()
            await asyncio.sleep(1)
            result["admin_wait_s"] = await admin_cancel(sandbox)
            await asyncio.sleep(1)
            result["admin change"] = await traffic.stop(replies, 60)

            replies = FirstReplies(sandbox)
            traffic = Traffic(sandbox, args.rate)
            traffic.start()
            await asyncio.sleep(1)
            env = {**os.environ, "NETZWERKBOT_DATABASE": str(database)}
            began = time.monotonic()
            importer = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "import", str(moved_demo_file(work)),
                cwd=tree, env=env, stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            result["import_exit"] = await importer.wait()
            result["import_s"] = time.monotonic() - began
            await asyncio.sleep(1)
            result["import"] = await traffic.stop(replies, 60)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return result


async def main() -> None:
    """Measure every tree and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--tree", type=Path, action="append")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree or [Path()]]
    with tempfile.TemporaryDirectory() as tmp:
        results = {tree: await measure(tree, args, Path(tmp)) for tree in trees}
    print(
        "| code | phase | other chats | p50 | p99 | max | unanswered | apologies "
        "| admin's wait / import |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for tree, r in results.items():
        for phase, extra in (
            ("admin change", f"{r['admin_wait_s']:.2f} s"),
            ("import", f"{r['import_s']:.1f} s, exit {r['import_exit']}"),
        ):
            p = r[phase]
            print(
                f"| {tree} | {phase} | {p['chats']} | {p['p50_ms']:.0f} ms | {p['p99_ms']:.0f} ms "
                f"| {p['max_ms']:.0f} ms | {p['unanswered']} | {p['apologies']} | {extra} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
