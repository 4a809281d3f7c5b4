"""A ten-minute Telegram outage in the middle of a circular to 10,000 recipients.

The real bot (polling, SQLite, the circular runner, the aiohttp request layer) and the sandbox
run in this process; the bot's clock is a ``ManualClock``, so the outage's ten minutes and the
waits after it pass without sleeping: the driver moves the clock by 5 s and wakes the runner,
as the periodic job would. When a third of the recipients have their message, the sandbox
fails every send (``--kind server_error``: HTTP 500; ``drop``: the connection closes without
an answer) for ten minutes of the bot's clock. Measured: whether every recipient got the
message exactly once, how many requests the outage refused, whether any row was tried before
its delay (5 s, 15 s, 1 min, 5 min, 15 min after its previous failure), the bot's-clock time
until the circular was done and the wall time of the run.

Run: ``python -m bench.outage`` (about a minute per kind; ``--n`` for another size).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import JOB_BROADCASTS, build_application, running, services_of
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.retry import retry_delay
from bot.sandbox import Sandbox
from bot.sandbox.flood import counts_for_flood
from storage.broadcasts import Audience, Content
from storage.codecs import utc_text

ADMIN = 9_000_001
FIRST = 40_000_000
TEXT = "Rundschreiben: Das Netzwerktreffen im März findet online statt."
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OUTAGE = timedelta(minutes=10)
STEP = timedelta(seconds=5)


async def run(kind: str, n: int) -> dict[str, object]:
    """Run one circular through one outage; return the measurements."""
    clock = ManualClock(START)
    chats = list(range(FIRST, FIRST + n))
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox() as sandbox:
            sandbox.add_user(ADMIN)
            for chat in chats:
                sandbox.add_user(chat, first_name="Mitglied")
            settings = Settings(
                token=sandbox.token,
                api_url=sandbox.base_url,
                database=Path(tmp) / "bot.sqlite3",
                admins=frozenset({ADMIN}),
                send_rate=0.0,
            )
            app = build_application(settings, clock=clock, seed_demo=True)
            wall = time.monotonic()
            async with running(app):
                assert app.job_queue is not None
                for job in app.job_queue.jobs():
                    if job.name is not None and job.name.startswith(JOB_BROADCASTS):
                        job.schedule_removal()
                services = services_of(app)
                db = services.stores.db
                stamp = utc_text(clock.now())
                async with db.transaction():
                    await db.executemany(
                        "INSERT INTO subscribers (chat_id, status, leads, created_at, "
                        "updated_at) VALUES (?, 'active', '[]', ?, ?)",
                        [(chat, stamp, stamp) for chat in chats],
                    )
                    await db.executemany(
                        "INSERT INTO subscriptions (chat_id, topic, target, created_at) "
                        "VALUES (?, 'news', '', ?)",
                        [(chat, stamp) for chat in chats],
                    )
                store = services.stores.broadcasts
                circular = await store.create(
                    Content("text", text=TEXT),
                    Audience("news"),
                    by=ADMIN,
                    chat_id=ADMIN,
                    now=clock.now(),
                )
                await store.start(circular.id, by=ADMIN, now=clock.now())
                started = time.monotonic()
                drain = services.broadcaster.wake()
                while len(sandbox.accepted_sends) < n // 3:  # noqa: ASYNC110 - a counter
                    await asyncio.sleep(0.001)
                sandbox.outage(kind, sends_only=True)  # type: ignore[arg-type]
                began = clock.now()
                await drain
                stamps: dict[int, list[tuple[datetime, int]]] = {}
                seen = 0
                while (current := await store.get(circular.id)) and current.status == "running":
                    for call in sandbox.calls[seen:]:
                        if call.chat_id not in (None, ADMIN) and counts_for_flood(call.method):
                            stamps.setdefault(call.chat_id, []).append((clock.now(), call.status))
                    seen = len(sandbox.calls)
                    if clock.now() - began >= OUTAGE:
                        sandbox.end_outage()
                    clock.advance(STEP)
                    await services.broadcaster.run()
                done_clock = clock.now() - began
                sending_wall = time.monotonic() - started
            wall = time.monotonic() - wall
            counts = Counter(c.chat_id for c in sandbox.accepted_sends if c.chat_id != ADMIN)
            early = 0
            for sends in stamps.values():
                pairs = itertools.pairwise(sends)
                for failures, ((at, _), (later, _)) in enumerate(pairs, start=1):
                    early += later - at < retry_delay(failures)
            return {
                "kind": kind,
                "recipients": n,
                "served_once": sum(counts[c] == 1 for c in chats),
                "served_twice_or_more": sum(counts[c] > 1 for c in chats),
                "not_served": sum(counts[c] == 0 for c in chats),
                "refused_during_outage": sandbox.outage_refusals,
                "tried_before_delay": early,
                "bot_clock_outage_start_to_done_s": done_clock.total_seconds(),
                "wall_sending_s": round(sending_wall, 1),
                "wall_total_s": round(wall, 1),
            }


def main() -> None:
    """Run the benchmark and print one JSON line per outage kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--kind", choices=("server_error", "drop", "both"), default="both")
    args = parser.parse_args()
    kinds = ("server_error", "drop") if args.kind == "both" else (args.kind,)
    for kind in kinds:
        print(json.dumps(asyncio.run(run(kind, args.n))), flush=True)


if __name__ == "__main__":
    main()
