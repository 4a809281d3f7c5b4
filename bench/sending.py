"""Pushes through SendBudget and push() against the sandbox, next to a bare PTB loop.

The sandbox runs in its own process (``python -m bench.sending serve``) with N registered
private chats; this process is the bot and sends one push to each chat, ``--concurrency``
pushes at a time. Measured:

a. flood emulation on (Telegram's 30/s, burst 30; 1/s, burst 3 per chat), budget 30/s:
   the duration against the floor N/30 s, and how many 429s the sandbox gave;
b. flood emulation off, budget 0 (no limit in the bot): messages per second and the bot
   process's CPU time per message, against a bare PTB loop (``bot.send_message`` with PTB's
   default request layer) and the same bare loop on our aiohttp request layer, sending the same
   messages to the same sandbox, alternating, best of ``--rounds``.

Run: ``python -m bench.sending`` (10,000 pushes: about six minutes, mostly (a)); a quick run:
``python -m bench.sending --n 600``; only one part: ``--only a`` or ``--only b``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ExtBot

from bot.delivery.sender import PushOutcome, SendBudget, push
from bot.http import AiohttpRequest
from bot.sandbox import Sandbox
from bot.views.replies import Button, Reply

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

FIRST_CHAT = 10_000_000
FLOOR_RATE = 30.0  # Telegram's (and the sandbox's) global limit, messages per second
BARE_HTTPX = "bare PTB loop (HTTPXRequest)"
BARE_AIOHTTP = "bare PTB loop (AiohttpRequest)"
OURS_UNLIMITED = "SendBudget(0) + push (AiohttpRequest)"


def message(chat: int) -> Reply:
    """Return the push for one chat: a reminder with a button, as the bot sends them."""
    return Reply(
        f"<b>Erinnerung</b>: morgen, 10:00 Uhr, Treffen in Karlsruhe (Nr. {chat}).",
        ((Button("Abmelden", data=f"sub:off:{chat % 1000}"),),),
    )


# ------------------------------------------------------------------------ the sandbox


async def serve(n: int, flood: bool) -> None:
    """Run a sandbox with ``n`` chats until stdin closes; print its base_url first."""
    sandbox = Sandbox(flood=flood)
    await sandbox.start()
    for chat in range(FIRST_CHAT, FIRST_CHAT + n):
        sandbox.add_user(chat, first_name="Mitglied")
    sys.stdout.write(f"{sandbox.base_url} {sandbox.token}\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sandbox.stop()


class SandboxProcess:
    """The sandbox in a child process, so that its CPU does not count as the bot's."""

    def __init__(self, n: int, flood: bool) -> None:
        args = [sys.executable, "-m", "bench.sending", "serve", "--n", str(n)]
        self.process = subprocess.Popen(  # noqa: S603 - our own module
            [*args, "--flood"] if flood else args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first_line = self.process.stdout.readline().split()
        if len(first_line) != 2:
            raise RuntimeError("the sandbox did not start")
        self.base_url, self.token = first_line

    async def counts(self) -> dict[str, Any]:
        """Return the sandbox's call totals (accepted sends, flood refusals)."""
        control = self.base_url.removesuffix("/bot") + "/_sandbox/calls/count"
        async with aiohttp.ClientSession() as session, session.get(control) as response:
            body: dict[str, Any] = (await response.json())["result"]
            return body

    def close(self) -> None:
        """Stop the child process."""
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------------ the senders


@dataclass(slots=True)
class Run:
    """One measured run."""

    name: str
    sent: int
    seconds: float
    cpu: float  # seconds of this process's CPU time

    @property
    def rate(self) -> float:
        """Return messages per second."""
        return self.sent / self.seconds


async def drive(
    name: str, send: Callable[[int], Awaitable[bool]], chats: list[int], concurrency: int
) -> Run:
    """Send to every chat with ``concurrency`` workers; time it."""
    pending: Iterator[int] = iter(chats)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for chat in pending:  # one shared iterator: each chat once
            ok = await send(chat)
            sent += ok

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(name, sent, time.perf_counter() - started, time.process_time() - cpu)


async def with_budget(
    name: str, sandbox: SandboxProcess, rate: float, chats: list[int], concurrency: int
) -> Run:
    """Push to every chat through SendBudget and push(), on the aiohttp request layer."""
    bot: ExtBot[str] = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .rate_limiter(SendBudget(rate))
        .request(AiohttpRequest(connection_pool_size=max(concurrency, 1)))
        .build()
        .bot
    )

    async def send(chat: int) -> bool:
        return (await push(bot, chat, message(chat))).outcome is PushOutcome.SENT

    async with bot:
        return await drive(name, send, chats, concurrency)


async def bare(
    name: str, sandbox: SandboxProcess, chats: list[int], concurrency: int, *, aiohttp_: bool
) -> Run:
    """Send the same messages with plain ``bot.send_message``, no rate limiter."""
    builder = ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url)
    if aiohttp_:
        builder = builder.request(AiohttpRequest(connection_pool_size=max(concurrency, 1)))
    bot = builder.build().bot
    no_preview = LinkPreviewOptions(is_disabled=True)

    async def send(chat: int) -> bool:
        reply = message(chat)
        await bot.send_message(
            chat,
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.markup(),
            link_preview_options=no_preview,
        )
        return True

    async with bot:
        return await drive(name, send, chats, concurrency)


# ------------------------------------------------------------------------ the report


def row(*cells: object) -> str:
    """Return a markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


async def part_a(n: int, concurrency: int) -> list[str]:
    """Flood emulation on, budget 30/s: duration against N/30, number of 429s."""
    sandbox = SandboxProcess(n, flood=True)
    try:
        chats = list(range(FIRST_CHAT, FIRST_CHAT + n))
        run = await with_budget("SendBudget(30) + push", sandbox, FLOOR_RATE, chats, concurrency)
        counts = await sandbox.counts()
    finally:
        sandbox.close()
    floor = n / FLOOR_RATE
    return [
        f"### a. flood emulation on, NETZWERKBOT_SEND_RATE=30, {n} pushes to {n} chats",
        "",
        row("sender", "delivered", "seconds", "floor N/30 s", "vs floor", "429s"),
        row("---", "---:", "---:", "---:", "---:", "---:"),
        row(
            run.name,
            f"{counts['accepted_sends']}/{n}",
            f"{run.seconds:.2f}",
            f"{floor:.2f}",
            f"{(run.seconds / floor - 1) * 100:+.2f} %",
            counts["flood_refusals"],
        ),
    ]


async def part_b(n: int, concurrency: int, rounds: int) -> list[str]:
    """Flood emulation off, budget 0: throughput and CPU against bare PTB loops."""
    sandbox = SandboxProcess(n, flood=False)
    best: dict[str, Run] = {}
    try:
        chats = list(range(FIRST_CHAT, FIRST_CHAT + n))
        for _ in range(rounds):
            runs = [
                await bare(BARE_HTTPX, sandbox, chats, concurrency, aiohttp_=False),
                await bare(BARE_AIOHTTP, sandbox, chats, concurrency, aiohttp_=True),
                await with_budget(OURS_UNLIMITED, sandbox, 0, chats, concurrency),
            ]
            for run in runs:
                if run.name not in best or run.rate > best[run.name].rate:
                    best[run.name] = run
    finally:
        sandbox.close()
    baseline = best[BARE_HTTPX]
    lines = [
        f"### b. flood emulation off, NETZWERKBOT_SEND_RATE=0, {n} messages, "
        f"concurrency {concurrency}, best of {rounds}",
        "",
        row("sender", "sent", "seconds", "messages/s", "vs bare PTB", "bot CPU ms/message"),
        row("---", "---:", "---:", "---:", "---:", "---:"),
    ]
    for run in best.values():
        lines.append(
            row(
                run.name,
                run.sent,
                f"{run.seconds:.2f}",
                f"{run.rate:.0f}",
                f"{run.rate / baseline.rate:.2f}x",
                f"{run.cpu / max(run.sent, 1) * 1000:.3f}",
            )
        )
    return lines


async def main(args: argparse.Namespace) -> None:
    """Run the chosen parts and print a markdown report."""
    lines: list[str] = []
    if args.only in (None, "b"):
        lines += await part_b(args.n, args.concurrency, args.rounds)
        lines.append("")
    if args.only in (None, "a"):
        lines += await part_a(args.n, args.concurrency)
    print("\n".join(lines))


def cli(argv: list[str] | None = None) -> None:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.sending", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["bench", "serve"], default="bench")
    parser.add_argument("--n", type=int, default=10_000, help="pushes (and chats)")
    parser.add_argument("--concurrency", type=int, default=64, help="pushes at a time")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of part b")
    parser.add_argument("--only", choices=["a", "b"], default=None)
    parser.add_argument("--flood", action="store_true", help="serve: emulate flood control")
    args = parser.parse_args(argv)
    # PTB 22 warns when it builds RetryAfter unless timedeltas are switched on.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.mode == "serve":
        asyncio.run(serve(args.n, args.flood))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
