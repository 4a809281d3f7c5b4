"""Does the reply's timing tell whether an address exists? Known vs unknown, same bot.

The real bot (real polling over HTTP against the sandbox, SQLite, the mail queue sending to
a local aiosmtpd server, argon2 with the library's defaults) gets, in random order, ``--n``
addresses of members and ``--n`` addresses nobody has, each in a fresh chat that has just
sent /kennwort. Measured: time from the address's arrival in the sandbox to the sandbox
accepting the reply. A manual clock moves an hour after every request, so no rate limit
ever answers instead. Reported: p50 / p95 / mean per group and a Mann-Whitney U test's
z value (|z| < 2: no detectable difference); also when the mail arrived, for the known group.

Run: ``python -m bench.recovery_timing`` (about half a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import build_application, running, services_of
from bot.config import Settings
from bot.delivery.mail import SmtpSettings
from bot.domain.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sandbox.mailsink import SINK_SENDER, MailSink
from storage.members import MemberRow

NETWORK = "connect-it-heilbronn-franken"
RESULTS = Path(__file__).parent / "results" / "recovery_timing.json"


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def mann_whitney_z(a: list[float], b: list[float]) -> float:
    """Return the normal approximation's z of the Mann-Whitney U test (no tie correction)."""
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    rank_sum = sum(i + 1 for i, (_, group) in enumerate(ranked) if group == 0)
    n1, n2 = len(a), len(b)
    u = rank_sum - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return (u - mean) / sd


async def wait_for_reply(sandbox: Sandbox, chat_id: int, before: int) -> float:
    """Wait until the bot's next message in a chat exists; return when it was accepted."""
    deadline = time.monotonic() + 10
    while len(sandbox.messages(chat_id)) <= before:
        if time.monotonic() > deadline:
            raise TimeoutError(chat_id)
        await asyncio.sleep(0.0005)
    call = next(c for c in reversed(sandbox.accepted_sends) if c.chat_id == chat_id)
    return call.time


async def measure(n: int, seed: int) -> dict[str, Any]:
    """Run the comparison; return the results."""
    rng = random.Random(seed)
    clock = ManualClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory(prefix="netzwerkbot-bench-") as tmp:
        async with Sandbox() as sandbox, MailSink() as sink:
            settings = Settings(
                token=sandbox.token,
                api_url=sandbox.base_url,
                database=Path(tmp) / "bench.sqlite3",
                smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
            )
            app = build_application(settings, clock=clock)
            async with running(app):
                services = services_of(app)
                rows = [
                    MemberRow(i, f"mitglied{i}@example.org", f"Mitglied {i}", NETWORK)
                    for i in range(n)
                ]
                await services.stores.members.import_members(rows, now=clock.now())
                plan = [("known", f"mitglied{i}@example.org") for i in range(n)]
                plan += [("unknown", f"niemand{i}@example.org") for i in range(n)]
                rng.shuffle(plan)
                latency: dict[str, list[float]] = {"known": [], "unknown": []}
                mail_after: list[float] = []
                for number, (group, address) in enumerate(plan):
                    chat_id = 700_000 + number
                    sandbox.add_user(chat_id)
                    before = len(sandbox.messages(chat_id))
                    sandbox.send_text(chat_id, "/kennwort")
                    await wait_for_reply(sandbox, chat_id, before)
                    mails = len(sink.mails)
                    sent = time.monotonic()
                    sandbox.send_text(chat_id, address)
                    replied = await wait_for_reply(sandbox, chat_id, before + 1)
                    latency[group].append((replied - sent) * 1000)
                    if group == "known":
                        arrived = (await sink.wait_for(mails + 1))[mails].received_at
                        mail_after.append((arrived - sent) * 1000)
                    else:
                        await sandbox.wait_idle(chat_id, quiet=0.01)
                        assert services.mail is not None
                        await services.mail.join()
                        assert len(sink.mails) == mails, "no mail for an unknown address"
                    clock.advance(timedelta(hours=1, seconds=1))
    summary = {
        group: {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "mean_ms": round(statistics.fmean(values), 2),
        }
        for group, values in latency.items()
    }
    return {
        "reply_latency": summary,
        "mann_whitney_z": round(mann_whitney_z(latency["known"], latency["unknown"]), 2),
        "mail_after_ms_p50": round(percentile(mail_after, 50), 2),
    }


def main() -> None:
    """Parse arguments, measure, print and store the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="addresses per group")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    results = asyncio.run(measure(args.n, args.seed))
    print(json.dumps(results, indent=2))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
