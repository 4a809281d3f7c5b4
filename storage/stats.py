"""Read-only counts for the operator: readiness, the metrics' gauges, /statistik.

Every query here only reads, runs on an index where the table can grow large (reminders and
outbox by ``(status, due_at)``, subscriptions by ``(topic, target)``, broadcasts by
``status``), and takes ``now`` from the caller (the bot's injectable clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from storage.outbox import utc_text

if TYPE_CHECKING:
    from storage.db import Database

# The rows the dispatcher would send now (storage.reminders.SQL_DUE, storage.outbox.SQL_DUE),
# plus those it has claimed and not finished; broadcast rows are the runner's, paced on
# purpose, so they are not "behind".
SQL_OLDEST_DUE: Final = """
SELECT MIN(due_at) FROM (
    SELECT MIN(r.due_at) AS due_at
    FROM reminders AS r JOIN subscribers AS s ON s.chat_id = r.chat_id
    WHERE r.status IN ('pending', 'sending') AND r.due_at <= :now AND s.status = 'active'
    UNION ALL
    SELECT MIN(o.due_at)
    FROM outbox AS o LEFT JOIN subscribers AS s ON s.chat_id = o.chat_id
    WHERE o.status IN ('pending', 'sending') AND o.due_at <= :now
        AND o.broadcast_id IS NULL AND COALESCE(s.status, 'active') = 'active'
)"""
SQL_REMINDERS_PENDING: Final = "SELECT COUNT(*) FROM reminders WHERE status = 'pending'"
SQL_OUTBOX_PENDING: Final = """
SELECT kind, COUNT(*) AS n FROM outbox WHERE status = 'pending' GROUP BY kind ORDER BY kind"""
SQL_CHATS: Final = "SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status ORDER BY status"
SQL_TOPICS: Final = """
SELECT x.topic, COUNT(DISTINCT x.chat_id) AS n
FROM subscriptions AS x JOIN subscribers AS s ON s.chat_id = x.chat_id
WHERE s.status = 'active'
GROUP BY x.topic ORDER BY x.topic"""
SQL_OPEN_CIRCULARS: Final = """
SELECT COUNT(*) FROM broadcasts WHERE status IN ('planned', 'running', 'paused')"""


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the metrics show about the database at one moment."""

    reminders_pending: int
    outbox_pending: dict[str, int]
    oldest_due_seconds: float
    chats: dict[str, int]
    subscribers_by_topic: dict[str, int]
    open_circulars: int


async def oldest_due_seconds(db: Database, now: datetime) -> float:
    """Return how long the oldest due-but-unsent push has been due (0: none is due)."""
    row = await db.fetchone(SQL_OLDEST_DUE, {"now": utc_text(now)})
    if row is None or row[0] is None:
        return 0.0
    return max(0.0, (now - datetime.fromisoformat(str(row[0]))).total_seconds())


async def gauges(db: Database, now: datetime) -> Gauges:
    """Read the gauges in one consistent snapshot."""
    async with db.snapshot():
        reminders = await db.fetchone(SQL_REMINDERS_PENDING)
        outbox = await db.fetchall(SQL_OUTBOX_PENDING)
        oldest = await oldest_due_seconds(db, now)
        chats = await db.fetchall(SQL_CHATS)
        topics = await db.fetchall(SQL_TOPICS)
        circulars = await db.fetchone(SQL_OPEN_CIRCULARS)
    return Gauges(
        reminders_pending=int(reminders[0]) if reminders else 0,
        outbox_pending={str(r["kind"]): int(r["n"]) for r in outbox},
        oldest_due_seconds=oldest,
        chats={str(r["status"]): int(r["n"]) for r in chats},
        subscribers_by_topic={str(r["topic"]): int(r["n"]) for r in topics},
        open_circulars=int(circulars[0]) if circulars else 0,
    )
