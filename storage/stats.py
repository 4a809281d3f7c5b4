"""Read-only counts for the operator: readiness, the metrics' gauges, /statistik.

Every query here only reads, runs on an index where the table can grow large (reminders and
outbox by ``(status, due_at)``, subscriptions by ``(topic, target)``, broadcasts by
``status``), and takes ``now`` from the caller (the bot's injectable clock).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

from bot.domain.stats import CircularStats, Gauges, Report
from storage.codecs import utc_text

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

# /statistik and ``netzwerkbot stats``.
RECENT: Final = timedelta(days=30)
CIRCULAR_WINDOW: Final = timedelta(days=90)
MAX_CIRCULARS: Final = 20
LATE: Final = timedelta(seconds=60)  # a reminder sent later than this after its due time
QuestionOutcome = Literal["answered", "unknown"]

SQL_COUNT_QUESTION: Final = """
INSERT INTO question_stats (day, outcome, count) VALUES (:day, :outcome, 1)
ON CONFLICT (day, outcome) DO UPDATE SET count = count + 1"""
SQL_NETWORKS: Final = """
SELECT x.target, COUNT(*) AS n
FROM subscriptions AS x JOIN subscribers AS s ON s.chat_id = x.chat_id
WHERE x.topic = 'network' AND s.status = 'active'
GROUP BY x.target ORDER BY n DESC, x.target"""
SQL_NEW: Final = "SELECT COUNT(*) FROM subscribers WHERE created_at >= ?"
# /stopp keeps the subscriptions aside in `stopped`; blocking the bot sets `blocked_at`.
SQL_STOPPED: Final = """
SELECT COUNT(*) FROM subscribers
WHERE (stopped IS NOT NULL AND updated_at >= :since)
    OR (status = 'blocked' AND blocked_at >= :since)"""
SQL_CIRCULARS: Final = """
SELECT b.id, b.status, b.audience_kind, b.audience_target, b.created_at, b.started_at,
    b.recipients,
    COUNT(o.id) FILTER (WHERE o.status = 'sent') AS sent,
    COUNT(o.id) FILTER (WHERE o.status = 'blocked') AS blocked,
    COUNT(o.id) FILTER (WHERE o.status IN ('failed', 'unknown')) AS failed,
    COUNT(o.id) FILTER (WHERE o.status IN ('pending', 'sending')) AS open
FROM broadcasts AS b LEFT JOIN outbox AS o ON o.broadcast_id = b.id
WHERE b.created_at >= :since AND b.status <> 'draft'
GROUP BY b.id ORDER BY b.created_at DESC, b.id DESC
LIMIT :limit"""
# Reminders due in the window, by what became of them (reminders_due covers status, due_at).
SQL_REMINDERS: Final = """
SELECT
    COUNT(*) FILTER (WHERE status = 'sent') AS sent,
    COUNT(*) FILTER (WHERE status = 'failed') AS failed,
    COUNT(*) FILTER (
        WHERE status = 'sent' AND julianday(sent_at) - julianday(due_at) > :late
    ) AS late
FROM reminders
WHERE status IN ('sent', 'failed') AND due_at >= :since AND due_at <= :now"""
SQL_QUESTIONS: Final = """
SELECT outcome, SUM(count) AS n FROM question_stats WHERE day >= ? GROUP BY outcome"""


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


async def count_question(db: Database, outcome: QuestionOutcome, *, now: datetime) -> None:
    """Count one answered (or not known) question for today."""
    params = {"day": utc_text(now)[:10], "outcome": outcome}
    await db.execute(SQL_COUNT_QUESTION, params)


async def report(db: Database, now: datetime) -> Report:
    """Read the admins' statistics in one consistent snapshot."""
    since = utc_text(now - RECENT)
    async with db.snapshot():
        chats = await db.fetchall(SQL_CHATS)
        topics = await db.fetchall(SQL_TOPICS)
        networks = await db.fetchall(SQL_NETWORKS)
        new = await db.fetchone(SQL_NEW, (since,))
        stopped = await db.fetchone(SQL_STOPPED, {"since": since})
        circulars = await db.fetchall(
            SQL_CIRCULARS, {"since": utc_text(now - CIRCULAR_WINDOW), "limit": MAX_CIRCULARS}
        )
        reminders = await db.fetchone(
            SQL_REMINDERS,
            {"since": since, "now": utc_text(now), "late": LATE.total_seconds() / 86400},
        )
        questions = {
            str(r["outcome"]): int(r["n"]) for r in await db.fetchall(SQL_QUESTIONS, (since[:10],))
        }
    return Report(
        chats={str(r["status"]): int(r["n"]) for r in chats},
        subscribers_by_topic={str(r["topic"]): int(r["n"]) for r in topics},
        subscribers_by_network={str(r["target"]): int(r["n"]) for r in networks},
        new=int(new[0]) if new else 0,
        stopped=int(stopped[0]) if stopped else 0,
        circulars=tuple(
            CircularStats(
                id=int(r["id"]),
                status=str(r["status"]),
                audience_kind=str(r["audience_kind"]),
                audience_target=str(r["audience_target"]),
                created_at=datetime.fromisoformat(str(r["created_at"])),
                recipients=int(r["recipients"]),
                sent=int(r["sent"]),
                blocked=int(r["blocked"]),
                failed=int(r["failed"]),
                open=int(r["open"]),
            )
            for r in circulars
        ),
        reminders_sent=int(reminders["sent"] or 0) if reminders else 0,
        reminders_failed=int(reminders["failed"] or 0) if reminders else 0,
        reminders_late=int(reminders["late"] or 0) if reminders else 0,
        questions_answered=questions.get("answered", 0),
        questions_unknown=questions.get("unknown", 0),
    )
