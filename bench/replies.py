"""Replies through the full stack: netzwerkbot next to a bare PTB echo bot, same sandbox.

Both bots run in their own process and poll the sandbox (in this process) over real HTTP.
Measured for each:

1. throughput: ``--burst`` updates (one per new private chat) injected at once; updates
   answered per second until every chat has its reply;
2. latency: updates arriving at a fixed rate (``--rate`` per second for ``--seconds``), each
   in a new chat; time from injection to the sandbox accepting the first reply, p50 and p99.

netzwerkbot answers free-text questions (real polling, SQLite, Babel, question answering);
the echo bot repeats the text. Run: ``python -m bench.replies`` (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import count, cycle
from pathlib import Path

from bot.sandbox import Sandbox

QUESTIONS = (
    "Wann ist das nächste Treffen?",
    "was macht cyberlago",
    "Wer leitet smart businessIT?",
    "netzwerk in ulm?",
    "wie viele netzwerke gibt es",
    "Förderung?",
    "wo war das 4. treffen",
    "Welche Netzwerke gehören alle zum Bündnis?",
)
USER_IDS = count(100_000)


class FirstReplies:
    """When each chat got its first reply, read incrementally from the sandbox's record."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._seen = 0
        self.times: dict[int, float] = {}

    def refresh(self) -> dict[int, float]:
        """Take in the sends accepted since the last call; return chat -> first reply time."""
        sends = self._sandbox.accepted_sends
        for call in sends[self._seen :]:
            if call.chat_id is not None:
                self.times.setdefault(call.chat_id, call.time)
        self._seen = len(sends)
        return self.times


async def start_bot(kind: str, sandbox: Sandbox, workdir: Path) -> subprocess.Popen[bytes]:
    """Start a bot process and wait until it polls."""
    polls = sum(1 for c in sandbox.calls if c.method == "getUpdates")
    process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own module, started once
        [
            sys.executable,
            "-m",
            "bench.bot_process",
            kind,
            sandbox.base_url,
            sandbox.token,
            str(workdir / f"{kind}.sqlite3"),
        ],
    )
    deadline = time.monotonic() + 30
    while sum(1 for c in sandbox.calls if c.method == "getUpdates") <= polls:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{kind} bot did not start polling")
        await asyncio.sleep(0.05)
    return process


async def wait_answered(replies: FirstReplies, chats: list[int], limit: float) -> None:
    """Wait until every chat has a reply."""
    deadline = time.monotonic() + limit
    pending = set(chats)
    while pending:
        pending -= replies.refresh().keys()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} chats unanswered")
        await asyncio.sleep(0.005)


async def throughput(sandbox: Sandbox, burst: int) -> float:
    """Inject ``burst`` updates at once; return updates answered per second."""
    replies = FirstReplies(sandbox)
    chats = [next(USER_IDS) for _ in range(burst)]
    questions = cycle(QUESTIONS)
    start = time.monotonic()
    for chat in chats:
        sandbox.send_text(chat, next(questions))
    await wait_answered(replies, chats, limit=300)
    last = max(replies.times[c] for c in chats)
    return burst / (last - start)


async def latency(sandbox: Sandbox, rate: float, seconds: float) -> tuple[float, float]:
    """Inject updates at a fixed rate; return p50 and p99 reply latency in milliseconds."""
    replies = FirstReplies(sandbox)
    total = int(rate * seconds)
    questions = cycle(QUESTIONS)
    sent: dict[int, float] = {}
    start = time.monotonic()
    for i in range(total):
        target = start + i / rate
        await asyncio.sleep(max(0.0, target - time.monotonic()))
        chat = next(USER_IDS)
        sent[chat] = time.monotonic()
        sandbox.send_text(chat, next(questions))
    await wait_answered(replies, list(sent), limit=60)
    latencies = sorted((replies.times[c] - t) * 1000 for c, t in sent.items())
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return statistics.median(latencies), quantiles[98]


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """Run one bot through both measurements."""
    async with Sandbox() as sandbox:
        process = await start_bot(kind, sandbox, workdir)
        try:
            await throughput(sandbox, 50)  # warm-up: imports, caches, connections
            rate = await throughput(sandbox, args.burst)
            p50, p99 = await latency(sandbox, args.rate, args.seconds)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"updates_per_s": rate, "p50_ms": p50, "p99_ms": p99}


async def main() -> None:
    """Measure both bots and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {kind: await measure(kind, args, Path(tmp)) for kind in ("echo", "netzwerkbot")}
    ratio = results["netzwerkbot"]["updates_per_s"] / results["echo"]["updates_per_s"]
    print(
        f"| bot | updates/s (burst of {args.burst}) | p50 ms | p99 ms "
        f"(at {args.rate:g}/s for {args.seconds:g} s) |"
    )
    print("|---|---|---|---|")
    for kind, r in results.items():
        print(f"| {kind} | {r['updates_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    print(f"\nthroughput ratio netzwerkbot / echo: {ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
