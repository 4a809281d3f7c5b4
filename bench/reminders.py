"""Reminders that all fall due at once: N subscribers of "meetings", one meeting, one instant.

Each run prepares a SQLite file the way the product fills it: migrations, the bundled data
with the demo meetings, N subscribers following "meetings" with the 1-day lead only, then
``plan_event`` for the Karlsruhe demo meeting, so that N reminder rows share one due time.
The real bot (``build_application`` + ``running``, its own request layer) then runs in its
own process with a ``ManualClock`` standing at that due time, so all N rows are due from the
moment it starts. The sandbox and this driver share the other process (two cores: one for
the bot, one for the sandbox). Each sender reports on stdout when it is ready (the monotonic
clock is shared by all processes of the machine); the sandbox records when each accepted
message arrived.

a. flood emulation on, ``NETZWERKBOT_SEND_RATE=30``: time from due (the bot ready) to the last
   accepted reminder against the floor N/30 s, and the 429s. It includes the wait for the
   dispatcher's first wake: PTB's ``run_repeating(first=0)`` first runs one interval
   (``WAKE_INTERVAL``, 5 s) after start, as PTB's documentation warns.
b. flood emulation off, ``NETZWERKBOT_SEND_RATE=0``: reminders per second from the first
   accepted send to the last, against a bare PTB loop (``bot.send_message`` with PTB's
   default request layer, ``MAX_IN_FLIGHT`` at a time, the same rendered text and buttons) and
   the same loop on the bot's aiohttp request layer, sending to the same chats on the same
   sandbox, alternating, best of ``--rounds``;
memory: peak RSS (``VmHWM``) of the bot process dispatching to ``--memory-n`` subscribers
   (flood off, rate 0) next to the bare PTB loop's process sending the same messages (it
   imports nothing of netzwerkbot, and the bot process nothing of this driver:
   ``bench/_common.py``).

Run: ``python -m bench.reminders`` (about twelve minutes: (a) alone takes N/30 s); one part:
``--only a``, ``--only b`` or ``--only memory``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from bot.app import FEATURES
from bot.config import DEFAULT_TIMEZONE
from bot.delivery.dispatch import MAX_IN_FLIGHT
from bot.domain.schedule import Lead, reminder_due
from bot.i18n import translator
from bot.sandbox import Sandbox
from bot.views.common import RenderContext
from bot.views.notices import reminder_reply
from storage.catalog import CatalogStore
from storage.codecs import utc_text
from storage.db import Database
from storage.importer import bundled_catalog
from storage.migrations import migrate
from storage.reminders import load_events, plan_event

FIRST_CHAT: Final = 10_000_000
EVENT_ID: Final = "demo-2027-03-karlsruhe"
FLOOR_RATE: Final = 30.0  # Telegram's (and the sandbox's) global limit, messages per second
TZ: Final = ZoneInfo(DEFAULT_TIMEZONE)
BARE: Final = "bare PTB loop (HTTPXRequest)"
BARE_NAMES: Final = {"httpx": BARE, "aiohttp": "bare PTB loop (AiohttpRequest)"}

SQL_SUBSCRIBER: Final = """
INSERT INTO subscribers (chat_id, status, leads, created_at, updated_at)
VALUES (?, 'active', '["1d"]', ?, ?)"""
SQL_MEETINGS: Final = """
INSERT INTO subscriptions (chat_id, topic, target, created_at) VALUES (?, 'meetings', '', ?)"""
SQL_COUNT_DUE: Final = "SELECT COUNT(*) FROM reminders WHERE status = 'pending' AND due_at = ?"


# ------------------------------------------------------------------------ the database


def due_instant() -> datetime:
    """Return when the Karlsruhe meeting's 1-day reminder falls due (aware UTC)."""
    event = bundled_catalog(include_demo=True).event(EVENT_ID)
    assert event is not None
    due = reminder_due(event, Lead.DAY, None, TZ)
    assert due is not None
    return due


async def prepare(path: Path, n: int, due: datetime) -> None:
    """Write a database with ``n`` subscribers whose reminders all fall due at ``due``."""
    planned_at = due - timedelta(days=14)
    db = await Database.open(path)
    try:
        await migrate(db)
        await CatalogStore(db).load_bundled(include_demo=True, now=planned_at, tz=TZ)
        created = utc_text(planned_at)
        chats = range(FIRST_CHAT, FIRST_CHAT + n)
        async with db.transaction():
            await db.executemany(SQL_SUBSCRIBER, ((c, created, created) for c in chats))
            await db.executemany(SQL_MEETINGS, ((c, created) for c in chats))
            # As an import of the meeting would: plan its reminders for all followers.
            event = (await load_events(db, [EVENT_ID]))[EVENT_ID]
            planned = await plan_event(db, event, now=planned_at, tz=TZ)
        row = await db.fetchone(SQL_COUNT_DUE, (utc_text(due),))
        assert planned == n, (planned, n)
        assert row is not None
        assert row[0] == n, (row[0], n)
    finally:
        await db.close()


def rendered_reminder(due: datetime) -> dict[str, object]:
    """Return the reminder as the bot renders it: text and reply_markup (for the bare loop)."""
    catalog = bundled_catalog(include_demo=True)
    event = catalog.event(EVENT_ID)
    assert event is not None
    ctx = RenderContext(catalog=catalog, tr=translator(), tz=TZ, now=due, features=FEATURES)
    reply = reminder_reply(ctx, event)
    return {"text": reply.text, "reply_markup": reply.markup().to_dict()}


# ------------------------------------------------------------------------ the driver


@dataclass(slots=True)
class Run:
    """One measured run: a sender process delivering to N chats."""

    name: str
    n: int
    seconds: float  # from ready (the due instant) to the last accepted send
    first_send: float  # from ready to the first accepted send
    cpu: float  # the sender process's CPU seconds from ready to the end
    peak_rss_kb: int
    refusals: int = 0

    @property
    def span(self) -> float:
        """Return the seconds from the first accepted send to the last."""
        return self.seconds - self.first_send

    @property
    def rate(self) -> float:
        """Return messages per second from the first accepted send to the last."""
        return self.n / self.span


def proc_status_kb(pid: int, field: str) -> int:
    """Return a ``/proc/<pid>/status`` value in kB (VmHWM: peak resident set size)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def proc_cpu_seconds(pid: int) -> float:
    """Return a process's user plus system CPU time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(name: str, sandbox: Sandbox, n: int, argv: list[str], limit: float) -> Run:
    """Run ``python -m *argv`` until all ``n`` chats have their message; measure it."""
    chats = range(FIRST_CHAT, FIRST_CHAT + n)
    seen = len(sandbox.accepted_sends)
    refusals = sandbox.flood_refusals
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *argv, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if not line.startswith(b"ready "):
            raise RuntimeError(f"{name} did not start")
        ready = float(line.split()[1])
        cpu_at_ready = proc_cpu_seconds(process.pid)
        delivered: list[float] = []
        deadline = time.monotonic() + limit
        while len(delivered) < n:
            sends = sandbox.accepted_sends
            delivered += [c.time for c in sends[seen:] if c.chat_id in chats]
            seen = len(sends)
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {len(delivered)} of {n} delivered")
            await asyncio.sleep(0.05)
        if len(delivered) > n:
            raise RuntimeError(f"{name}: {len(delivered)} sends for {n} chats")
        return Run(
            name,
            n,
            seconds=max(delivered) - ready,
            first_send=min(delivered) - ready,
            cpu=proc_cpu_seconds(process.pid) - cpu_at_ready,
            peak_rss_kb=proc_status_kb(process.pid, "VmHWM"),
            refusals=sandbox.flood_refusals - refusals,
        )
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)


def check_text(sandbox: Sandbox, message: dict[str, object]) -> None:
    """Make sure the bare loop sent exactly what the bot sent."""
    texts = {c.params.get("text") for c in sandbox.accepted_sends if c.method == "sendMessage"}
    if texts != {message["text"]}:
        raise RuntimeError(f"the senders sent different texts: {texts}")


class Workspace:
    """Prepared databases (one per N, copied per run) and the rendered message."""

    def __init__(self, root: Path, due: datetime) -> None:
        self.root = root
        self.due = due
        self.rendered = rendered_reminder(due)
        self.message = root / "message.json"
        self.message.write_text(json.dumps(self.rendered))
        self._prepared: dict[int, Path] = {}
        self._copies = 0

    async def database(self, n: int) -> Path:
        """Return a fresh copy of the database with ``n`` subscribers."""
        if n not in self._prepared:
            path = self.root / f"prepared-{n}.sqlite3"
            started = time.perf_counter()
            await prepare(path, n, self.due)
            print(f"prepared {n} subscribers in {time.perf_counter() - started:.1f} s")
            self._prepared[n] = path
        self._copies += 1
        copy = self.root / f"run-{self._copies}.sqlite3"
        shutil.copyfile(self._prepared[n], copy)
        return copy

    def size_mb(self, n: int) -> float:
        """Return the size of the prepared database file in MB."""
        return self._prepared[n].stat().st_size / 1e6

    async def bot(self, sandbox: Sandbox, n: int, rate: float, limit: float) -> Run:
        """Measure netzwerkbot dispatching ``n`` reminders."""
        argv = ["bench._common", "bot", sandbox.base_url, sandbox.token]
        argv.append(str(await self.database(n)))
        argv += [self.due.isoformat(), str(rate)]
        return await measure("netzwerkbot", sandbox, n, argv, limit)

    async def bare(self, sandbox: Sandbox, n: int, limit: float, layer: str = "httpx") -> Run:
        """Measure a bare PTB loop sending the same ``n`` messages, as many at a time."""
        argv = ["bench._common", "bare", sandbox.base_url, sandbox.token, str(self.message)]
        argv += [str(FIRST_CHAT), str(n), str(MAX_IN_FLIGHT), layer]
        return await measure(BARE_NAMES[layer], sandbox, n, argv, limit)


async def started_sandbox(n: int, *, flood: bool) -> Sandbox:
    """Return a running sandbox with the ``n`` subscribers' private chats."""
    sandbox = Sandbox(flood=flood)
    for chat in range(FIRST_CHAT, FIRST_CHAT + n):
        sandbox.add_user(chat, first_name="Mitglied")
    await sandbox.start()
    return sandbox


# ------------------------------------------------------------------------ the report


def row(*cells: object) -> str:
    """Return a markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


async def part_a(work: Workspace, n: int) -> list[str]:
    """Flood emulation on, send rate 30: duration against the floor N/30, 429s."""
    sandbox = await started_sandbox(n, flood=True)
    try:
        floor = n / FLOOR_RATE
        run = await work.bot(sandbox, n, FLOOR_RATE, limit=2 * floor + 120)
    finally:
        await sandbox.stop()
    return [
        f"### a. flood emulation on, NETZWERKBOT_SEND_RATE=30, {n:,} reminders due at once",
        "",
        row(
            "sender",
            "due to last delivery",
            "floor N/30",
            "vs floor",
            "due to first send",
            "first to last send",
            "429s",
        ),
        row("---", "---:", "---:", "---:", "---:", "---:", "---:"),
        row(
            run.name,
            f"{run.seconds:.2f} s",
            f"{floor:.2f} s",
            f"{(run.seconds / floor - 1) * 100:+.2f} %",
            f"{run.first_send:.2f} s",
            f"{run.span:.2f} s",
            run.refusals,
        ),
    ]


def throughput_rows(runs: list[Run], baseline: Run) -> list[str]:
    """Return table rows: timings, messages/s against the baseline, CPU and peak RSS."""
    lines = [
        row(
            "sender",
            "ready to first send",
            "first to last send",
            "messages/s",
            "vs bare PTB",
            "sender CPU per message",
            "peak RSS",
        ),
        row("---", "---:", "---:", "---:", "---:", "---:", "---:"),
    ]
    for run in runs:
        lines.append(
            row(
                run.name,
                f"{run.first_send:.2f} s",
                f"{run.span:.2f} s",
                f"{run.rate:,.0f}",
                f"{run.rate / baseline.rate:.2f}x",
                f"{run.cpu / run.n * 1000:.3f} ms",
                f"{run.peak_rss_kb / 1024:.0f} MB",
            )
        )
    return lines


async def part_b(work: Workspace, n: int, rounds: int) -> list[str]:
    """Flood emulation off, send rate 0: the bot against a bare PTB loop, best of rounds."""
    sandbox = await started_sandbox(n, flood=False)
    best: dict[str, Run] = {}
    try:
        for _ in range(rounds):
            runs = [
                await work.bare(sandbox, n, 300),
                await work.bare(sandbox, n, 300, layer="aiohttp"),
                await work.bot(sandbox, n, 0, 300),
            ]
            for run in runs:
                print(f"  {run.name}: {run.rate:,.0f} messages/s")
                if run.name not in best or run.rate > best[run.name].rate:
                    best[run.name] = run
        check_text(sandbox, work.rendered)
    finally:
        await sandbox.stop()
    bare, ours = best[BARE], best["netzwerkbot"]
    return [
        f"### b. flood emulation off, NETZWERKBOT_SEND_RATE=0, {n:,} reminders, "
        f"{MAX_IN_FLIGHT} in flight, best of {rounds}",
        "",
        *throughput_rows(list(best.values()), bare),
        "",
        f"ready to last send: netzwerkbot {ours.seconds:.2f} s, bare PTB {bare.seconds:.2f} s "
        f"(ratio of rates {bare.seconds / ours.seconds:.2f}x)",
    ]


async def part_memory(work: Workspace, n: int) -> list[str]:
    """Peak RSS of the bot dispatching ``n`` reminders and of the bare loop sending them."""
    sandbox = await started_sandbox(n, flood=False)
    try:
        ours = await work.bot(sandbox, n, 0, 900)
        bare = await work.bare(sandbox, n, 900)
    finally:
        await sandbox.stop()
    return [
        f"### memory: {n:,} subscribers, flood emulation off, NETZWERKBOT_SEND_RATE=0",
        "",
        *throughput_rows([bare, ours], bare),
        "",
        f"peak RSS netzwerkbot / bare PTB: {ours.peak_rss_kb / bare.peak_rss_kb:.2f}x; "
        f"database file: {work.size_mb(n):.1f} MB",
    ]


async def main(args: argparse.Namespace) -> None:
    """Run the chosen parts and print a markdown report."""
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Workspace(Path(tmp), due_instant())
        if args.only in (None, "b"):
            lines += [*await part_b(work, args.n, args.rounds), ""]
        if args.only in (None, "memory"):
            lines += [*await part_memory(work, args.memory_n), ""]
        if args.only in (None, "a"):
            lines += await part_a(work, args.n)
    print("\n".join(lines))


def cli(argv: list[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="subscribers in parts a and b")
    parser.add_argument("--memory-n", type=int, default=100_000, help="subscribers for memory")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of part b")
    parser.add_argument("--only", choices=["a", "b", "memory"], default=None)
    args = parser.parse_args(argv)
    # PTB 22 warns when it builds RetryAfter unless timedeltas are switched on.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
