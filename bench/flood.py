"""One chat floods the bot: how long do the other chats wait for their replies?

netzwerkbot runs in its own process and polls the sandbox (in this process) over real HTTP,
once with its update processor (``netzwerkbot``) and once with the one it had before issue 9
(``legacy``: a global slot taken before the chat's lock, no cap on a chat's backlog), on the
same machine in the same run. Other chats write at a fixed rate (``--rate`` per second for
``--seconds``, each a new chat asking a question); every ``--every`` seconds one chat sends
``--burst`` questions in one burst. Measured: the other chats' reply latency (injection to
the sandbox accepting the first reply), overall and for those that arrived within one second
after a burst, and how many of the flood's messages were answered.

Run: ``python -m bench.flood`` (about half a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from itertools import cycle
from pathlib import Path

from bench.replies import QUESTIONS, USER_IDS, FirstReplies, start_bot, throughput, wait_answered
from bot.sandbox import Sandbox

KINDS = ("legacy", "netzwerkbot")


def quantile(values: list[float], q: int) -> float:
    """Return the q-th percentile (inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def flood_run(sandbox: Sandbox, args: argparse.Namespace) -> dict[str, float]:
    """Run other chats at a fixed rate with bursts from one chat; return the latencies."""
    replies = FirstReplies(sandbox)
    questions = cycle(QUESTIONS)
    flooder = next(USER_IDS)
    sandbox.add_user(flooder, first_name="Flut")
    total = int(args.rate * args.seconds)
    sent: dict[int, float] = {}
    bursts: list[float] = []
    start = time.monotonic()
    next_burst = start + args.every / 2
    for i in range(total):
        target = start + i / args.rate
        await asyncio.sleep(max(0.0, target - time.monotonic()))
        if time.monotonic() >= next_burst:
            bursts.append(time.monotonic())
            for _ in range(args.burst):
                sandbox.send_text(flooder, next(questions))
            next_burst += args.every
        chat = next(USER_IDS)
        sent[chat] = time.monotonic()
        sandbox.send_text(chat, next(questions))
    await wait_answered(replies, list(sent), limit=120)
    await sandbox.wait_idle(quiet=1.0, timeout=120)
    latency = {c: (replies.times[c] - t) * 1000 for c, t in sent.items()}
    after_burst = [ms for c, ms in latency.items() if any(0 <= sent[c] - b < 1.0 for b in bursts)]
    values = sorted(latency.values())
    return {
        "p50_ms": statistics.median(values),
        "p99_ms": quantile(values, 99),
        "max_ms": values[-1],
        "after_burst_p99_ms": quantile(after_burst, 99),
        "after_burst_n": len(after_burst),
        "bursts": len(bursts),
        "flood_answered": len(sandbox.messages(flooder)),
    }


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """Start one bot and run the flood against it."""
    async with Sandbox() as sandbox:
        process = await start_bot(kind, sandbox, workdir)
        try:
            await throughput(sandbox, 50)  # warm-up: imports, caches, connections
            return await flood_run(sandbox, args)
        finally:
            process.terminate()
            process.wait(timeout=30)


async def main() -> None:
    """Measure both update processors and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {kind: await measure(kind, args, Path(tmp)) for kind in KINDS}
    print(
        f"| processor | p50 ms | p99 ms | max ms | p99 ms within 1 s after a burst "
        f"| flood messages answered (sent: {args.burst} per burst) |"
    )
    print("|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} "
            f"| {r['after_burst_p99_ms']:.1f} (n={r['after_burst_n']:.0f}) "
            f"| {r['flood_answered']:.0f} in {r['bursts']:.0f} bursts |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
