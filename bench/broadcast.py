"""Broadcasts: outbox creation, delivery rate and peak memory, next to a bare PTB loop.

The sandbox runs in its own process (``python -m bench.sending serve``); the bot runs in its
own process too (``python -m bench.broadcast bot ...``: the real application with polling,
SQLite, the broadcast runner and SendBudget), on a database prepared with N news subscribers
and a broadcast planned for a moment that has passed, so the bot starts it (the snapshot) at
once. This process polls the sandbox's counters every 50 ms and times the broadcast from the
first to the last accepted message. Measured:

1. outbox creation: ``BroadcastStore.start`` (one ``INSERT … SELECT``) for 100,000 recipients;
2. flood emulation on, ``NETZWERKBOT_SEND_RATE=30``: messages per second against 30/s, and how
   many 429s the sandbox gave (target: >= 97 %, no 429);
3. flood emulation off, ``NETZWERKBOT_SEND_RATE=0``: messages per second against a bare PTB
   loop (``bot.send_message`` with the same text and entities, five at a time like the
   runner, PTB's default request layer) in its own process, same sandbox, same run (target
   >= 0.8x), and the peak RSS (VmHWM) of both processes.

Run: ``python -m bench.broadcast`` (about ten minutes); quicker: ``--n 20000 --n-flood 600``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import MessageEntity
from telegram.ext import ApplicationBuilder

from bench.sending import FIRST_CHAT, SandboxProcess, row
from bot.domain.circulars import Audience, Content
from storage.broadcasts import BroadcastStore
from storage.db import Database
from storage.migrations import migrate

ADMIN = 9_000_001
TEXT = "Rundschreiben: Das Netzwerktreffen im März findet online statt. Anmeldung bis Freitag."
ENTITIES = ({"type": "bold", "offset": 0, "length": 13},)
IN_FLIGHT = 5  # the runner's bound; the bare loop gets the same


def peak_rss_mib() -> float:
    """Return this process's peak resident set size (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------ the database


async def prepare(database: Path, n: int, *, plan: bool) -> tuple[int, float]:
    """Create n news subscribers and a broadcast; plan it just past, or start it here.

    Returns the broadcast's id and the seconds ``start`` took (0 when only planned).
    """
    db = await Database.open(database)
    try:
        await migrate(db)
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="seconds")
        chats = range(FIRST_CHAT, FIRST_CHAT + n)
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
        content = Content("text", text=TEXT, entities=ENTITIES)
        broadcast = await store.create(content, Audience("news"), by=ADMIN, chat_id=ADMIN, now=now)
        if plan:
            earlier = now - timedelta(minutes=1)
            await store.plan(broadcast.id, now - timedelta(seconds=1), by=ADMIN, now=earlier)
            return broadcast.id, 0.0
        started = time.perf_counter()
        recipients = await store.start(broadcast.id, by=ADMIN, now=now)
        seconds = time.perf_counter() - started
        assert recipients == n
        return broadcast.id, seconds
    finally:
        await db.close()


# ------------------------------------------------------------------------ the two senders


async def run_bot(base_url: str, token: str, database: Path, rate: float) -> None:
    """Run netzwerkbot until its broadcast is done; print its peak memory as JSON."""
    from bot.app import build_application, running, services_of
    from bot.config import Settings

    settings = Settings(
        token=token,
        api_url=base_url,
        database=database,
        send_rate=rate,
        admins=frozenset({ADMIN}),
        log_level="WARNING",
    )
    app = build_application(settings)
    async with running(app):
        store = services_of(app).stores.broadcasts
        while True:
            await asyncio.sleep(0.1)
            running_ones = await store.with_status("planned", "running")
            if not running_ones:
                break
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


async def run_bare(base_url: str, token: str, first: int, n: int) -> None:
    """Send the same message to every chat with plain PTB, five at a time; print memory."""
    bot = ApplicationBuilder().token(token).base_url(base_url).build().bot
    entities = [MessageEntity.de_json(dict(e), None) for e in ENTITIES]
    chats = iter(range(first, first + n))

    async def worker() -> None:
        for chat in chats:
            await bot.send_message(chat, TEXT, entities=entities)

    async with bot:
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


# ------------------------------------------------------------------------ measuring


@dataclasses.dataclass
class Measured:
    """One sender's run, timed from the sandbox's counters."""

    name: str
    sent: int
    seconds: float
    peak_rss_mib: float
    refusals: int = 0

    @property
    def rate(self) -> float:
        """Return messages per second."""
        return (self.sent - 1) / self.seconds if self.seconds else float("nan")


async def measure(name: str, sandbox: SandboxProcess, args: list[str], n: int) -> Measured:
    """Start a sender process and time its n messages from the first to the last."""
    before = await sandbox.counts()
    base, refusals = before["accepted_sends"], before["flood_refusals"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.broadcast",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PTB_TIMEDELTA": "true"},
    )
    first = last = None
    while True:
        counts = await sandbox.counts()
        done = counts["accepted_sends"] - base
        now = time.perf_counter()
        if first is None and done > 0:
            first = now
        if done >= n:
            last = now
            break
        if process.returncode is not None:
            raise RuntimeError(f"{name} stopped after {done} of {n} messages")
        await asyncio.sleep(0.05)
    out, _ = await process.communicate()
    result = json.loads(out.decode().strip().splitlines()[-1])
    after = await sandbox.counts()
    assert first is not None
    assert last is not None
    return Measured(
        name, done, last - first, result["peak_rss_mib"], after["flood_refusals"] - refusals
    )


async def part_creation(n: int, workdir: Path) -> list[str]:
    """Time the snapshot of n recipients into the outbox."""
    _, seconds = await prepare(workdir / "creation.sqlite3", n, plan=False)
    return [
        f"### Outbox creation: {n:,} recipients",
        "",
        f"`BroadcastStore.start` (one `INSERT … SELECT` in one transaction): {seconds:.2f} s "
        f"({n / seconds:,.0f} rows/s).",
    ]


async def part_flood(n: int, workdir: Path) -> list[str]:
    """Flood emulation on, budget 30/s: rate against 30/s and 429s."""
    database = workdir / "flood.sqlite3"
    await prepare(database, n, plan=True)
    sandbox = SandboxProcess(n + 1, flood=True)
    try:
        run = await measure(
            "netzwerkbot",
            sandbox,
            ["bot", sandbox.base_url, sandbox.token, str(database), "30"],
            n,
        )
    finally:
        sandbox.close()
    return [
        f"### Flood emulation on, NETZWERKBOT_SEND_RATE=30, {n:,} recipients",
        "",
        row("sender", "messages", "seconds", "messages/s", "of 30/s", "429s"),
        row("---", "---:", "---:", "---:", "---:", "---:"),
        row(
            run.name,
            run.sent,
            f"{run.seconds:.1f}",
            f"{run.rate:.2f}",
            f"{run.rate / 30 * 100:.1f} %",
            run.refusals,
        ),
    ]


async def part_unlimited(n: int, workdir: Path) -> list[str]:
    """Flood emulation off, budget 0: rate and memory against a bare PTB loop."""
    database = workdir / "unlimited.sqlite3"
    await prepare(database, n, plan=True)
    sandbox = SandboxProcess(n + 1, flood=False)
    try:
        bare = await measure(
            "bare PTB loop (5 at a time)",
            sandbox,
            ["bare", sandbox.base_url, sandbox.token, str(FIRST_CHAT), str(n)],
            n,
        )
        ours = await measure(
            "netzwerkbot broadcast",
            sandbox,
            ["bot", sandbox.base_url, sandbox.token, str(database), "0"],
            n,
        )
    finally:
        sandbox.close()
    lines = [
        f"### Flood emulation off, NETZWERKBOT_SEND_RATE=0, {n:,} recipients",
        "",
        row("sender", "messages", "seconds", "messages/s", "vs bare PTB", "peak RSS"),
        row("---", "---:", "---:", "---:", "---:", "---:"),
    ]
    for run in (bare, ours):
        lines.append(
            row(
                run.name,
                run.sent,
                f"{run.seconds:.1f}",
                f"{run.rate:,.0f}",
                f"{run.rate / bare.rate:.2f}x",
                f"{run.peak_rss_mib:.0f} MiB",
            )
        )
    return lines


async def main(args: argparse.Namespace) -> None:
    """Run the parts and print a markdown report."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        lines = await part_creation(args.n, workdir)
        lines += ["", *await part_unlimited(args.n, workdir)]
        lines += ["", *await part_flood(args.n_flood, workdir)]
    print("\n".join(lines))


def cli(argv: list[str] | None = None) -> None:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["bench", "bot", "bare"], default="bench")
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=100_000, help="recipients without flood")
    parser.add_argument("--n-flood", type=int, default=3_000, help="recipients with flood")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.mode == "bot":
        url, token, database, rate = args.rest
        asyncio.run(run_bot(url, token, Path(database), float(rate)))
    elif args.mode == "bare":
        url, token, first, n = args.rest
        asyncio.run(run_bare(url, token, int(first), int(n)))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
