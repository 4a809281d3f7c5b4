"""Reminder rows: planned with the change that causes them, sent by the dispatcher.

The database is the truth: a reminder to send is a ``reminders`` row (UTC due time, unique
per event, chat and lead time), written in the same transaction as the event or the
subscription that causes it. Planning (:func:`plan_event`, :func:`plan_subscriber`) runs
inside the caller's open transaction and reconciles the existing rows with what the
subscriptions, lead times and quiet hours ask for (times from :mod:`bot.domain.schedule`):

* A missing row is inserted only if its due time lies strictly ahead, so nobody gets a
  stale reminder (an event added two hours before it starts gets no 1-day reminder).
* A pending row moves with its due time. One no longer covered (unsubscribed, lead time
  switched off, chat blocked) is deleted. One whose new due time has passed is ``dropped``.
  One whose unchanged due time has passed is owed (it came due while the bot was down):
  it stays for the dispatcher, which sends it unless the event has begun.
* Rows of a cancelled event that were pending become ``dropped``.
* On a reschedule (:attr:`EventChange.reschedules`), ``sent`` and ``failed`` rows whose due
  time changed and lies ahead become pending again: the person gets a notice now and a
  fresh reminder before the new date. ``dropped`` rows whose due time lies ahead again
  (an event moved back, a cancellation undone) are revived the same way.
* ``sending`` rows are left alone: the dispatcher owns them.

Changes of date, time or place and cancellations also put a notice into the outbox for
everyone already reminded of the event and everyone following that one event.
"""

from __future__ import annotations

import asyncio
import json
import time as time_
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from bot.domain.models import DATA_TIMEZONE, Event, Host
from bot.domain.schedule import Lead, QuietHours, due_reminders, quiet_from_columns, reminder_due
from storage.codecs import event_from_row, parse_utc, utc_text
from storage.leases import Lease, recover_params
from storage.outbox import enqueue_notice

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Collection, Iterable, Mapping
    from zoneinfo import ZoneInfo

    from bot.domain.models import EventChange
    from storage.db import Database

Key = tuple[str, int, Lead]  # (event id, chat id, lead)

NOTICE_CHANGED: Final = "changed"
NOTICE_CANCELLED: Final = "cancelled"
DROP_CANCELLED: Final = "event cancelled"
DROP_MOVED_PAST: Final = "moved into the past"

SQL_EVENTS: Final = "SELECT * FROM events"
SQL_EVENTS_BY_ID: Final = "SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?))"
SQL_HOSTS: Final = (
    "SELECT event_id, name, network_slug FROM event_hosts ORDER BY event_id, position"
)
SQL_HOSTS_BY_ID: Final = """
SELECT event_id, name, network_slug FROM event_hosts
WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id, position"""

SQL_SUBSCRIBER: Final = (
    "SELECT chat_id, status, leads, quiet_start, quiet_end FROM subscribers WHERE chat_id = ?"
)
SQL_SUBSCRIPTIONS_OF: Final = "SELECT topic, target FROM subscriptions WHERE chat_id = ?"
# Active chats whose subscriptions cover an event: its own, "meetings" for a network meeting
# or an alliance-wide event (no host network), or one of its host networks.
SQL_FOLLOWERS: Final = """
SELECT s.chat_id, s.leads, s.quiet_start, s.quiet_end FROM subscribers AS s
WHERE s.status = 'active' AND EXISTS (
    SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
        (x.topic = 'event' AND x.target = :event_id)
        OR (x.topic = 'meetings' AND :meeting)
        OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
    )
)
ORDER BY s.chat_id"""
SQL_EVENT_SUBSCRIBERS: Final = """
SELECT x.chat_id FROM subscriptions AS x JOIN subscribers AS s ON s.chat_id = x.chat_id
WHERE x.topic = 'event' AND x.target = ? AND s.status = 'active'"""
SQL_ACTIVE_AMONG: Final = """
SELECT chat_id FROM subscribers
WHERE status = 'active' AND chat_id IN (SELECT value FROM json_each(?))"""

SQL_ROWS_OF_EVENT: Final = (
    "SELECT id, event_id, chat_id, lead, due_at, status FROM reminders WHERE event_id = ?"
)
SQL_ROWS_OF_CHAT: Final = (
    "SELECT id, event_id, chat_id, lead, due_at, status FROM reminders WHERE chat_id = ?"
)
SQL_INSERT: Final = """
INSERT INTO reminders (event_id, chat_id, lead, due_at, status) VALUES (?, ?, ?, ?, 'pending')"""
SQL_DELETE: Final = "DELETE FROM reminders WHERE id = ?"
# A moved reminder is a fresh one: a retry waiting for Telegram starts over.
SQL_MOVE: Final = """
UPDATE reminders SET due_at = ?, next_attempt_at = NULL WHERE id = ? AND status = 'pending'"""
SQL_DROP: Final = (
    "UPDATE reminders SET status = 'dropped', last_error = ? WHERE id = ? AND status = 'pending'"
)
SQL_REVIVE: Final = """
UPDATE reminders SET status = 'pending', due_at = ?, sent_at = NULL, attempts = 0,
    last_error = NULL, next_attempt_at = NULL
WHERE id = ? AND status IN ('sent', 'failed', 'dropped')"""

# A row waiting for its next try after a transient failure is due once that time has come.
SQL_DUE: Final = """
SELECT r.id, r.event_id, r.chat_id, r.lead, r.due_at, r.attempts
FROM reminders AS r JOIN subscribers AS s ON s.chat_id = r.chat_id
WHERE r.status = 'pending' AND r.due_at <= :now AND s.status = 'active'
    AND NOT EXISTS (SELECT 1 FROM plan_queue AS q WHERE q.event_id = r.event_id)
    AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= :now)
ORDER BY r.due_at, r.id
LIMIT :limit"""
SQL_NEXT_DUE: Final = """
SELECT MIN(t) FROM (
    SELECT MIN(r.due_at) AS t FROM reminders AS r JOIN subscribers AS s ON s.chat_id = r.chat_id
    WHERE r.status = 'pending' AND s.status = 'active' AND r.due_at > :after
        AND r.next_attempt_at IS NULL
    UNION ALL
    SELECT MIN(r.next_attempt_at) FROM reminders AS r
    JOIN subscribers AS s ON s.chat_id = r.chat_id
    WHERE r.status = 'pending' AND s.status = 'active' AND r.next_attempt_at > :after
)"""
SQL_PENDING_FOR: Final = """
SELECT id, event_id, chat_id, lead, due_at, attempts FROM reminders
WHERE chat_id = ? AND status = 'pending' ORDER BY due_at, id"""
SQL_CLAIM: Final = """
UPDATE reminders SET status = 'sending', claimed_by = :owner, lease_until = :until
WHERE id = :id AND status = 'pending'"""
SQL_MARK_SENT: Final = """
UPDATE reminders SET status = 'sent', sent_at = :now, attempts = attempts + 1
WHERE id = :id AND status = 'sending'"""
SQL_MARK_DROPPED: Final = """
UPDATE reminders SET status = 'dropped', last_error = :reason
WHERE id = :id AND status IN ('pending', 'sending')"""
SQL_MARK_FAILED: Final = """
UPDATE reminders SET status = 'failed', attempts = attempts + 1, last_error = :error
WHERE id = :id AND status IN ('pending', 'sending')"""
SQL_RETRY: Final = """
UPDATE reminders SET status = 'pending', attempts = attempts + 1, last_error = :error,
    next_attempt_at = :at
WHERE id = :id AND status = 'sending'"""
SQL_RELEASE: Final = """
UPDATE reminders SET status = 'pending', attempts = attempts + 1
WHERE id = ? AND status = 'sending'"""

_NOTICE_FIELDS: Final = ("date", "time", "place")
# Followers planned per transaction when a caller asks for batches (about 30 ms each).
PLAN_BATCH: Final = 2_500
# A queued plan nobody advanced for this long is finished by the bot (its process stopped).
PLAN_STALE: Final = timedelta(seconds=60)
_BEFORE_ALL_CHATS: Final = -(2**63)
_AFTER_ALL_CHATS: Final = 2**63 - 1

# plan_event, set-based, for the followers in one range of chat ids (:after, :upto]. The
# send time of each (quiet-hours pair, lead) comes from Python (bot.domain.schedule, exact on
# DST and quiet hours) into temp.plan_due; the followers joined to it make temp.plan_targets;
# the statements below then apply _reconcile's rules to the event's rows in the range, each
# to rows that the earlier ones cannot have touched (they select disjoint states).
SQL_PLAN_SETUP: Final = (
    """CREATE TEMP TABLE IF NOT EXISTS plan_due (
        quiet_start TEXT, quiet_end TEXT, lead TEXT NOT NULL, due_at TEXT NOT NULL,
        ahead INTEGER NOT NULL)""",
    """CREATE TEMP TABLE IF NOT EXISTS plan_targets (
        chat_id INTEGER NOT NULL, lead TEXT NOT NULL, due_at TEXT NOT NULL,
        ahead INTEGER NOT NULL, PRIMARY KEY (chat_id, lead)) WITHOUT ROWID""",
    "DELETE FROM temp.plan_due",
    "DELETE FROM temp.plan_targets",
)
SQL_PLAN_CLEAR: Final = ("DELETE FROM temp.plan_due", "DELETE FROM temp.plan_targets")
# How far the next batch reaches: the :limit-th follower after :after (chat id order).
SQL_PLAN_RANGE: Final = """
SELECT count(*), max(chat_id) FROM (
    SELECT s.chat_id FROM subscribers AS s
    WHERE s.chat_id > :after AND s.status = 'active' AND EXISTS (
        SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
            (x.topic = 'event' AND x.target = :event_id)
            OR (x.topic = 'meetings' AND :meeting)
            OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
        )
    )
    ORDER BY s.chat_id LIMIT :limit
)"""
SQL_FOLLOWER_QUIET_HOURS: Final = """
SELECT DISTINCT s.quiet_start, s.quiet_end FROM subscribers AS s
WHERE s.chat_id > :after AND s.chat_id <= :upto AND s.status = 'active' AND EXISTS (
    SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
        (x.topic = 'event' AND x.target = :event_id)
        OR (x.topic = 'meetings' AND :meeting)
        OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
    )
)"""
SQL_PLAN_DUE: Final = "INSERT INTO temp.plan_due VALUES (?, ?, ?, ?, ?)"
SQL_PLAN_TARGETS: Final = """
INSERT OR IGNORE INTO temp.plan_targets (chat_id, lead, due_at, ahead)
SELECT s.chat_id, d.lead, d.due_at, d.ahead
FROM subscribers AS s, json_each(s.leads) AS l
JOIN temp.plan_due AS d ON d.lead = l.value
    AND d.quiet_start IS s.quiet_start AND d.quiet_end IS s.quiet_end
WHERE s.chat_id > :after AND s.chat_id <= :upto AND s.status = 'active' AND EXISTS (
    SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
        (x.topic = 'event' AND x.target = :event_id)
        OR (x.topic = 'meetings' AND :meeting)
        OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
    )
)"""
SQL_SENT_CHATS_OF_EVENT: Final = (
    "SELECT chat_id FROM reminders WHERE event_id = ? AND status = 'sent'"
)
SQL_PLAN_DELETE: Final = """
DELETE FROM reminders
WHERE event_id = :event_id AND chat_id > :after AND chat_id <= :upto
    AND status = 'pending' AND NOT EXISTS (
        SELECT 1 FROM temp.plan_targets AS t
        WHERE t.chat_id = reminders.chat_id AND t.lead = reminders.lead)"""
SQL_PLAN_DROP_UNCOVERED: Final = """
UPDATE reminders SET status = 'dropped', last_error = :cancelled
WHERE event_id = :event_id AND chat_id > :after AND chat_id <= :upto
    AND status = 'pending' AND NOT EXISTS (
        SELECT 1 FROM temp.plan_targets AS t
        WHERE t.chat_id = reminders.chat_id AND t.lead = reminders.lead)"""
SQL_PLAN_MOVE: Final = """
UPDATE reminders SET due_at = t.due_at, next_attempt_at = NULL FROM temp.plan_targets AS t
WHERE reminders.event_id = :event_id AND reminders.chat_id > :after
    AND reminders.chat_id <= :upto AND t.chat_id = reminders.chat_id
    AND t.lead = reminders.lead AND reminders.status = 'pending'
    AND t.ahead AND t.due_at <> reminders.due_at"""
SQL_PLAN_DROP_PAST: Final = """
UPDATE reminders SET status = 'dropped', last_error = :moved_past FROM temp.plan_targets AS t
WHERE reminders.event_id = :event_id AND reminders.chat_id > :after
    AND reminders.chat_id <= :upto AND t.chat_id = reminders.chat_id
    AND t.lead = reminders.lead AND reminders.status = 'pending'
    AND NOT t.ahead AND t.due_at <> reminders.due_at"""
SQL_PLAN_REVIVE: Final = """
UPDATE reminders SET status = 'pending', due_at = t.due_at, sent_at = NULL, attempts = 0,
    last_error = NULL, next_attempt_at = NULL
FROM temp.plan_targets AS t
WHERE reminders.event_id = :event_id AND reminders.chat_id > :after
    AND reminders.chat_id <= :upto AND t.chat_id = reminders.chat_id
    AND t.lead = reminders.lead AND t.ahead AND (reminders.status = 'dropped'
    OR (:revive_sent AND reminders.status IN ('sent', 'failed')
        AND t.due_at <> reminders.due_at))"""
SQL_PLAN_INSERT: Final = """
INSERT INTO reminders (event_id, chat_id, lead, due_at, status)
SELECT :event_id, t.chat_id, t.lead, t.due_at, 'pending' FROM temp.plan_targets AS t
WHERE t.ahead AND NOT EXISTS (
    SELECT 1 FROM reminders AS r
    WHERE r.event_id = :event_id AND r.chat_id = t.chat_id AND r.lead = t.lead)"""
# Plans still to finish (migration 0006_engine_plan_queue): the followers after `after` are
# not planned yet. The dispatcher sends nothing of such an event meanwhile.
SQL_QUEUE_PLAN: Final = """
INSERT INTO plan_queue (event_id, after, revive, updated_at)
VALUES (:event_id, :after, :revive, :stamp)
ON CONFLICT (event_id) DO UPDATE SET after = excluded.after,
    revive = max(plan_queue.revive, excluded.revive), updated_at = excluded.updated_at"""
SQL_UNQUEUE_PLAN: Final = "DELETE FROM plan_queue WHERE event_id = ?"
SQL_ADVANCE_PLAN: Final = (
    "UPDATE plan_queue SET after = :after, updated_at = :stamp WHERE event_id = :event_id"
)
SQL_QUEUED_PLAN_OF: Final = """
SELECT event_id, after, revive FROM plan_queue
WHERE event_id IN (SELECT value FROM json_each(:ids)) ORDER BY event_id LIMIT 1"""
SQL_STALE_PLANS: Final = "SELECT event_id FROM plan_queue WHERE updated_at < ?"


SQL_LEASE_OWNERS: Final = "SELECT DISTINCT claimed_by FROM reminders WHERE status = 'sending'"
SQL_RENEW_LEASES: Final = """
UPDATE reminders SET lease_until = :until WHERE status = 'sending' AND claimed_by = :owner"""
# Rows nobody holds: no owner (claimed before leases existed), an expired lease, or a dead
# owner (storage/leases.py); never this process's own rows.
SQL_RECOVER_LEASES: Final = """
UPDATE reminders SET status = 'pending', attempts = attempts + 1, claimed_by = NULL,
    lease_until = NULL
WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> :owner) AND (
    claimed_by IS NULL OR lease_until IS NULL OR lease_until <= :now
    OR claimed_by IN (SELECT value FROM json_each(:dead)))"""


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder row to send (or to list)."""

    id: int
    event_id: str
    chat_id: int
    lead: Lead
    due_at: datetime
    attempts: int = field(default=0, compare=False)  # tries so far; not part of its identity


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    key: Key
    due: datetime
    status: str


@dataclass(frozen=True, slots=True)
class _Follower:
    chat_id: int
    leads: tuple[Lead, ...]
    quiet: QuietHours | None


# --- reading the facts that planning needs ------------------------------------------------


def parse_leads(text: str) -> tuple[Lead, ...]:
    """Return the stored JSON list of lead codes as leads, in the order of :class:`Lead`."""
    codes = set(json.loads(text))
    return tuple(lead for lead in Lead if lead.value in codes)


def dump_leads(leads: Iterable[Lead]) -> str:
    """Return leads as the stored JSON list, in the order of :class:`Lead`."""
    chosen = {Lead(lead) for lead in leads}
    return json.dumps([lead.value for lead in Lead if lead in chosen])


def _follower(row: sqlite3.Row) -> _Follower:
    return _Follower(
        chat_id=int(row["chat_id"]),
        leads=parse_leads(row["leads"]),
        quiet=quiet_from_columns(row["quiet_start"], row["quiet_end"]),
    )


async def delete_chat_rows(db: Database, chat_id: int) -> int:
    """Delete every reminder row of a chat, inside the caller's transaction; return how many."""
    return await db.execute("DELETE FROM reminders WHERE chat_id = ?", (chat_id,))


async def delete_pending_rows(db: Database, chat_id: int) -> int:
    """Delete a chat's pending reminder rows, inside the caller's transaction."""
    return await db.execute(
        "DELETE FROM reminders WHERE chat_id = ? AND status = 'pending'", (chat_id,)
    )


async def move_chat_rows(db: Database, old: int, new: int) -> int:
    """Give a chat's reminder rows its new id (a group became a supergroup), in a transaction."""
    return await db.execute(
        "UPDATE OR IGNORE reminders SET chat_id = ? WHERE chat_id = ?", (new, old)
    )


async def load_events(db: Database, ids: Collection[str] | None = None) -> dict[str, Event]:
    """Return events by id for planning (all, or those in ``ids``), hosts included."""
    if ids is None:
        rows = await db.fetchall(SQL_EVENTS)
        host_rows = await db.fetchall(SQL_HOSTS)
    else:
        wanted = json.dumps(sorted(ids))
        rows = await db.fetchall(SQL_EVENTS_BY_ID, (wanted,))
        host_rows = await db.fetchall(SQL_HOSTS_BY_ID, (wanted,))
    hosts: dict[str, list[Host]] = {}
    for host in host_rows:
        hosts.setdefault(host["event_id"], []).append(
            Host(name=host["name"], network=host["network_slug"])
        )
    return {row["id"]: event_from_row(row, hosts=hosts.get(row["id"], ())) for row in rows}


def event_is_over(event: Event, now: datetime, tz: ZoneInfo = DATA_TIMEZONE) -> bool:
    """Tell whether an event is over: its end has passed, else its local day has passed."""
    if event.end is not None:
        return event.end <= now
    return event.date is not None and event.date < now.astimezone(tz).date()


def topic_covers(topic: str, target: str, event: Event) -> bool:
    """Tell whether a subscription (topic, target) covers an event's reminders."""
    if topic == "event":
        return target == event.id
    if topic == "meetings":
        return event.kind == "network_meeting" or not event.host_networks
    if topic == "network":
        return target in event.host_networks
    return False  # "news" and "weekly" create no reminders


def _plannable(event: Event) -> bool:
    return event.status != "cancelled" and event.date is not None and event.date_known


def _targets(event: Event, follower: _Follower, tz: ZoneInfo) -> dict[Key, datetime]:
    """Return every lead's send time for one follower, ahead or not."""
    if not _plannable(event):
        return {}
    targets: dict[Key, datetime] = {}
    for lead in follower.leads:
        due = reminder_due(event, lead, follower.quiet, tz)
        if due is not None:
            targets[(event.id, follower.chat_id, lead)] = due
    return targets


def _row(row: sqlite3.Row) -> _Row:
    return _Row(
        id=int(row["id"]),
        key=(str(row["event_id"]), int(row["chat_id"]), Lead(row["lead"])),
        due=parse_utc(row["due_at"]),
        status=str(row["status"]),
    )


async def _reconcile(
    db: Database,
    existing: Iterable[_Row],
    targets: Mapping[Key, datetime],
    ahead: Mapping[Key, datetime],
    *,
    now: datetime,
    revive_sent: bool,
    drop_uncovered: bool,
) -> int:
    """Bring the rows of one scope in line with the targets; return the rows changed.

    ``targets`` holds every wanted send time, ``ahead`` those strictly after ``now`` (from
    :func:`bot.domain.schedule.due_reminders`, which decides staleness).
    """
    inserts: list[tuple[str, int, str, str]] = []
    deletes: list[tuple[int]] = []
    moves: list[tuple[str, int]] = []
    drops: list[tuple[str, int]] = []
    revives: list[tuple[str, int]] = []
    seen: set[Key] = set()
    for row in existing:
        seen.add(row.key)
        target = targets.get(row.key)
        if row.status == "pending":
            if target is None:
                if drop_uncovered:
                    drops.append((DROP_CANCELLED, row.id))
                else:
                    deletes.append((row.id,))
            elif row.key in ahead:
                if target != row.due:
                    moves.append((utc_text(target), row.id))
            elif target != row.due:
                drops.append((DROP_MOVED_PAST, row.id))
            # else: owed, its unchanged due time passed while nobody sent it
        elif row.key in ahead and (
            row.status == "dropped"
            or (revive_sent and row.status in ("sent", "failed") and target != row.due)
        ):
            revives.append((utc_text(ahead[row.key]), row.id))
    for key, due in ahead.items():
        if key not in seen:
            inserts.append((key[0], key[1], key[2].value, utc_text(due)))
    for sql, params in (
        (SQL_DELETE, deletes),
        (SQL_MOVE, moves),
        (SQL_DROP, drops),
        (SQL_REVIVE, revives),
        (SQL_INSERT, inserts),
    ):
        if params:
            await db.executemany(sql, params)
    return len(inserts) + len(deletes) + len(moves) + len(drops) + len(revives)


# --- planning -----------------------------------------------------------------------------


async def followers(db: Database, event: Event) -> list[int]:
    """Return the active chats whose subscriptions cover an event's reminders."""
    return [f.chat_id for f in await _followers(db, event)]


async def _followers(db: Database, event: Event) -> list[_Follower]:
    params = {
        "event_id": event.id,
        "meeting": int(event.kind == "network_meeting" or not event.host_networks),
        "networks": json.dumps(list(event.host_networks)),
    }
    return [_follower(row) for row in await db.fetchall(SQL_FOLLOWERS, params)]


async def plan_event(
    db: Database,
    event: Event,
    *,
    now: datetime,
    tz: ZoneInfo,
    change: EventChange | None = None,
    previous: Event | None = None,
    batch: int | None = None,
) -> int:
    """Plan one event's reminders for its followers inside the caller's transaction.

    ``event`` is the event as now stored; for an update, ``change`` says what changed and
    ``previous`` is the event as it was (its values go into the notice). Returns the number
    of reminder rows inserted, moved, revived, dropped or deleted.

    Without ``batch`` every follower is planned here. With it, only the first ``batch``
    followers are; should there be more, the rest is queued and the caller runs
    :func:`finish_plans` after its commit, which plans them ``batch`` at a time, each batch
    in its own short transaction: 100,000 followers then hold the write lock (and the
    connection) for a few dozen milliseconds at a time instead of seconds.

    Set-based, so that followers never block the event loop: a follower's send time depends
    only on the event, the lead and the follower's quiet hours, so Python computes it
    (exactly, with :mod:`bot.domain.schedule`) once per distinct quiet-hours pair and lead,
    and SQL joins the followers to that and reconciles the event's rows with the same rules
    as :func:`_reconcile` (see the module docstring).
    """
    reminded: set[int] = set()
    if change is not None:
        rows = await db.fetchall(SQL_SENT_CHATS_OF_EVENT, (event.id,))
        reminded = {int(row[0]) for row in rows}
    revive = change is not None and change.reschedules
    written, after = await _plan_range(
        db, event, now=now, tz=tz, revive_sent=revive, after=_BEFORE_ALL_CHATS, limit=batch
    )
    if after is None:
        await db.execute(SQL_UNQUEUE_PLAN, (event.id,))  # an older unfinished plan is done
    else:
        params = {"event_id": event.id, "after": after, "revive": int(revive), "stamp": _stamp()}
        await db.execute(SQL_QUEUE_PLAN, params)
    if change is not None:
        await _notify(db, event, change, previous, reminded, now=now, tz=tz)
    return written


async def finish_plans(
    db: Database,
    event_ids: Collection[str] | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    batch: int = PLAN_BATCH,
    pause: float = 0.0,
) -> int:
    """Plan the queued followers of these events, ``batch`` per transaction; return rows.

    With ``event_ids`` None, the plans that nobody has advanced for ``PLAN_STALE`` (the
    process that queued them stopped) are finished instead. Each batch reads the event and
    the queue anew, so a change made meanwhile, or another process finishing the same plan,
    is simply carried on. After each batch the write lock stays free for ``pause`` times as
    long as the batch held it: another process (``netzwerkbot import``) passes 1, so the
    bot's writes, which poll for the lock, find it free half of the time.
    """
    written = 0
    if event_ids is None:
        stale = (datetime.now(UTC) - PLAN_STALE).isoformat()
        event_ids = [str(row[0]) for row in await db.fetchall(SQL_STALE_PLANS, (stale,))]
    params = {"ids": json.dumps(sorted(event_ids))}
    # A look outside a transaction first: nothing queued (the usual case) takes no lock.
    while await db.fetchone(SQL_QUEUED_PLAN_OF, params) is not None:
        began = time_.monotonic()
        async with db.transaction():
            queued = await db.fetchone(SQL_QUEUED_PLAN_OF, params)
            if queued is None:  # finished by someone else meanwhile
                break
            event_id = str(queued["event_id"])
            event = (await load_events(db, [event_id])).get(event_id)
            after: int | None = None
            if event is not None:
                done, after = await _plan_range(
                    db,
                    event,
                    now=now,
                    tz=tz,
                    revive_sent=bool(queued["revive"]),
                    after=int(queued["after"]),
                    limit=batch,
                )
                written += done
            if after is None:
                await db.execute(SQL_UNQUEUE_PLAN, (event_id,))
            else:
                advance = {"event_id": event_id, "after": after, "stamp": _stamp()}
                await db.execute(SQL_ADVANCE_PLAN, advance)
        # Whoever waits for the connection goes first (in this process, asyncio.Lock is
        # fair); another process's writers need the lock to stay free for a while.
        await asyncio.sleep(pause * (time_.monotonic() - began))
    return written


def _stamp() -> str:
    """Return the real time for the queue's liveness (not the bot's clock: across processes)."""
    return datetime.now(UTC).isoformat()


async def _plan_range(
    db: Database,
    event: Event,
    *,
    now: datetime,
    tz: ZoneInfo,
    revive_sent: bool,
    after: int,
    limit: int | None,
) -> tuple[int, int | None]:
    """Plan the followers after chat id ``after``, at most ``limit`` of them.

    Returns the rows changed and the last chat id planned, or None if no follower is left.
    """
    params: dict[str, Any] = {
        "event_id": event.id,
        "meeting": int(event.kind == "network_meeting" or not event.host_networks),
        "networks": json.dumps(list(event.host_networks)),
        "after": after,
        "upto": _AFTER_ALL_CHATS,
    }
    upto: int | None = None
    if limit is not None:
        found = await db.fetchone(SQL_PLAN_RANGE, {**params, "limit": limit})
        if found is not None and int(found[0]) >= limit:
            upto = int(found[1])
            params["upto"] = upto
    for sql in SQL_PLAN_SETUP:
        await db.execute(sql)
    if _plannable(event):
        begins = utc_text(now)
        dues = []
        for row in await db.fetchall(SQL_FOLLOWER_QUIET_HOURS, params):
            quiet = quiet_from_columns(row["quiet_start"], row["quiet_end"])
            for lead in Lead:
                due = reminder_due(event, lead, quiet, tz)
                if due is not None:
                    text = utc_text(due)
                    dues.append(
                        (row["quiet_start"], row["quiet_end"], lead.value, text, text > begins)
                    )
        await db.executemany(SQL_PLAN_DUE, dues)
        await db.execute(SQL_PLAN_TARGETS, params)
    steps = {
        **params,
        "cancelled": DROP_CANCELLED,
        "moved_past": DROP_MOVED_PAST,
        "revive_sent": int(revive_sent),
    }
    uncovered = SQL_PLAN_DROP_UNCOVERED if event.status == "cancelled" else SQL_PLAN_DELETE
    written = 0
    for sql in (uncovered, SQL_PLAN_MOVE, SQL_PLAN_DROP_PAST, SQL_PLAN_REVIVE):
        written += await db.execute(sql, steps)
    written += await db.execute(SQL_PLAN_INSERT, {"event_id": event.id})
    for sql in SQL_PLAN_CLEAR:
        await db.execute(sql)
    return written, upto


async def plan_subscriber(db: Database, chat_id: int, *, now: datetime, tz: ZoneInfo) -> int:
    """Plan one chat's reminders for all events inside the caller's transaction.

    A chat that is blocked or unknown gets none: its pending rows are deleted. Returns the
    number of reminder rows changed.
    """
    existing = [_row(row) for row in await db.fetchall(SQL_ROWS_OF_CHAT, (chat_id,))]
    targets: dict[Key, datetime] = {}
    ahead: dict[Key, datetime] = {}
    subscriber = await db.fetchone(SQL_SUBSCRIBER, (chat_id,))
    if subscriber is not None and subscriber["status"] == "active":
        follower = _follower(subscriber)
        subscriptions = [
            (str(row["topic"]), str(row["target"]))
            for row in await db.fetchall(SQL_SUBSCRIPTIONS_OF, (chat_id,))
        ]
        if subscriptions and follower.leads:
            for event in (await load_events(db)).values():
                if not _plannable(event) or not any(
                    topic_covers(topic, target, event) for topic, target in subscriptions
                ):
                    continue
                targets.update(_targets(event, follower, tz))
                for lead, due in due_reminders(
                    event, follower.leads, follower.quiet, tz, now=now
                ).items():
                    ahead[(event.id, chat_id, lead)] = due
    return await _reconcile(
        db, existing, targets, ahead, now=now, revive_sent=False, drop_uncovered=False
    )


# --- notices ------------------------------------------------------------------------------


def _snapshot(event: Event) -> dict[str, Any]:
    """Return the values a notice shows of an event (as stored, times in UTC)."""
    return {
        "status": event.status,
        "date": None if event.date is None else event.date.isoformat(),
        "date_text": event.date_text,
        "start": None if event.start is None else utc_text(event.start),
        "end": None if event.end is None else utc_text(event.end),
        "city": event.city,
        "region": event.region,
        "venue": event.venue,
        "venue_note": event.venue_note,
    }


def notice_payload(
    event: Event, change: EventChange, previous: Event | None
) -> dict[str, Any] | None:
    """Return the notice for a change, or None if the change is not worth one.

    The payload is ``{"event_id", "kind": "changed"|"cancelled", "changed": [...], "old",
    "new"}``; ``changed`` lists "date", "time" and "place", or "status" when a cancelled
    event takes place again; ``old`` is None when the previous state is not known.
    """
    newly_cancelled = (
        event.status == "cancelled"
        and change.status
        and (previous is None or previous.status != "cancelled")
    )
    if newly_cancelled:
        kind, changed = NOTICE_CANCELLED, []
    elif event.status == "cancelled":
        return None
    else:
        kind = NOTICE_CHANGED
        changed = [name for name in _NOTICE_FIELDS if getattr(change, name)]
        if change.status and previous is not None and previous.status == "cancelled":
            changed.append("status")
        if not changed:
            return None
    return {
        "event_id": event.id,
        "kind": kind,
        "changed": changed,
        "old": None if previous is None else _snapshot(previous),
        "new": _snapshot(event),
    }


async def _notify(
    db: Database,
    event: Event,
    change: EventChange,
    previous: Event | None,
    reminded: set[int],
    *,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    """Queue the notice of a change for those reminded and those following the event."""
    payload = notice_payload(event, change, previous)
    if payload is None:
        return 0
    # A correction of an event long over is nobody's news.
    if event_is_over(event, now, tz) and (previous is None or event_is_over(previous, now, tz)):
        return 0
    chats = {int(row[0]) for row in await db.fetchall(SQL_EVENT_SUBSCRIBERS, (event.id,))}
    if reminded:
        active = await db.fetchall(SQL_ACTIVE_AMONG, (json.dumps(sorted(reminded)),))
        chats.update(int(row[0]) for row in active)
    return await enqueue_notice(db, sorted(chats), payload, now=now)


# --- the dispatcher's side ----------------------------------------------------------------


def _due(row: sqlite3.Row) -> DueReminder:
    return DueReminder(
        id=int(row["id"]),
        event_id=str(row["event_id"]),
        chat_id=int(row["chat_id"]),
        lead=Lead(row["lead"]),
        due_at=parse_utc(row["due_at"]),
        attempts=int(row["attempts"]),
    )


# Reminders that are over (sent, dropped, failed) and were due before the cut-off. A row due
# that long ago is never planned again, so deleting it cannot make a reminder go out twice.
SQL_PURGE_DONE: Final = """
DELETE FROM reminders WHERE status IN ('sent', 'dropped', 'failed') AND due_at < ?"""


class ReminderStore:
    """The reminders as the dispatcher sees them: what is due, and what became of it.

    A row goes ``pending`` -> ``sending`` (:meth:`claim`) -> ``sent`` / ``dropped`` /
    ``failed``, or back to ``pending`` (:meth:`release`, or :meth:`retry` after a transient
    failure: due again at its ``next_attempt_at``). A claim is a lease of this
    process (:mod:`storage.leases`); rows a crashed process left ``sending`` go back to
    ``pending`` once their lease is void (:meth:`recover_in_flight`): a crash between
    Telegram's answer and :meth:`mark_sent` repeats those few (at least once), while
    everything recorded ``sent`` is never sent again.
    """

    def __init__(self, db: Database, *, lease: Lease | None = None) -> None:
        self._db = db
        self._lease = lease or Lease()

    async def purge(self, *, before: datetime) -> int:
        """Delete the reminders that are over and were due before ``before``; return how many."""
        async with self._db.transaction():
            return await self._db.execute(SQL_PURGE_DONE, (utc_text(before),))

    async def due(self, now: datetime, *, limit: int = 500) -> list[DueReminder]:
        """Return pending rows due by ``now`` for active chats, earliest first."""
        rows = await self._db.fetchall(SQL_DUE, {"now": utc_text(now), "limit": limit})
        return [_due(row) for row in rows]

    async def claim(self, reminder_id: int) -> bool:
        """Take a pending row for sending; False if it is not pending any more."""
        return await self._db.execute(SQL_CLAIM, {"id": reminder_id, **self._lease.params()}) == 1

    async def mark_sent(self, reminder_id: int, *, now: datetime) -> bool:
        """Record that a claimed row reached Telegram."""
        params = {"id": reminder_id, "now": utc_text(now)}
        return await self._db.execute(SQL_MARK_SENT, params) == 1

    async def mark_dropped(self, reminder_id: int, reason: str) -> bool:
        """Record that a row will not be sent (e.g. its event began while the bot was down)."""
        params = {"id": reminder_id, "reason": reason}
        return await self._db.execute(SQL_MARK_DROPPED, params) == 1

    async def mark_failed(self, reminder_id: int, *, error: str | None = None) -> bool:
        """Record that a row cannot be sent; it is not retried."""
        params = {"id": reminder_id, "error": error}
        return await self._db.execute(SQL_MARK_FAILED, params) == 1

    async def retry(self, reminder_id: int, *, at: datetime, error: str) -> bool:
        """Put a claimed row back after a transient failure, to be tried again at ``at``."""
        params = {"id": reminder_id, "error": error, "at": utc_text(at)}
        return await self._db.execute(SQL_RETRY, params) == 1

    async def release(self, reminder_id: int) -> bool:
        """Put a claimed row back for a later try, counting the attempt."""
        return await self._db.execute(SQL_RELEASE, (reminder_id,)) == 1

    async def recover_in_flight(self) -> int:
        """Put rows no live process holds back to ``pending``; return how many."""
        async with self._db.transaction():
            owners = [row[0] for row in await self._db.fetchall(SQL_LEASE_OWNERS)]
            return await self._db.execute(SQL_RECOVER_LEASES, recover_params(owners, self._lease))

    async def renew_leases(self) -> int:
        """Extend the leases of this process's rows in flight; return how many."""
        return await self._db.execute(SQL_RENEW_LEASES, self._lease.params())

    async def next_due(self, *, after: datetime | None = None) -> datetime | None:
        """Return when the earliest pending row of an active chat is due (after ``after``)."""
        row = await self._db.fetchone(
            SQL_NEXT_DUE, {"after": "" if after is None else utc_text(after)}
        )
        return None if row is None or row[0] is None else parse_utc(row[0])

    async def finish_stale_plans(self, *, now: datetime, tz: ZoneInfo) -> int:
        """Finish the batched plans whose process stopped (see :func:`finish_plans`)."""
        return await finish_plans(self._db, None, now=now, tz=tz)

    async def pending_for(self, chat_id: int) -> list[DueReminder]:
        """Return a chat's pending rows, earliest first (for listings and tests)."""
        return [_due(row) for row in await self._db.fetchall(SQL_PENDING_FOR, (chat_id,))]
