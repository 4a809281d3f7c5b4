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

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bot.domain.models import DATA_TIMEZONE, Event, Host
from bot.domain.schedule import Lead, QuietHours, due_reminders, quiet_from_columns, reminder_due
from storage.codecs import event_from_row, parse_utc, utc_text
from storage.outbox import enqueue_notice

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Collection, Iterable, Mapping
    from datetime import datetime
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
SQL_MOVE: Final = "UPDATE reminders SET due_at = ? WHERE id = ? AND status = 'pending'"
SQL_DROP: Final = (
    "UPDATE reminders SET status = 'dropped', last_error = ? WHERE id = ? AND status = 'pending'"
)
SQL_REVIVE: Final = """
UPDATE reminders SET status = 'pending', due_at = ?, sent_at = NULL, attempts = 0,
    last_error = NULL
WHERE id = ? AND status IN ('sent', 'failed', 'dropped')"""

SQL_DUE: Final = """
SELECT r.id, r.event_id, r.chat_id, r.lead, r.due_at
FROM reminders AS r JOIN subscribers AS s ON s.chat_id = r.chat_id
WHERE r.status = 'pending' AND r.due_at <= :now AND s.status = 'active'
ORDER BY r.due_at, r.id
LIMIT :limit"""
SQL_NEXT_DUE: Final = """
SELECT MIN(r.due_at) FROM reminders AS r JOIN subscribers AS s ON s.chat_id = r.chat_id
WHERE r.status = 'pending' AND s.status = 'active' AND r.due_at > :after"""
SQL_PENDING_FOR: Final = """
SELECT id, event_id, chat_id, lead, due_at FROM reminders
WHERE chat_id = ? AND status = 'pending' ORDER BY due_at, id"""
SQL_CLAIM: Final = "UPDATE reminders SET status = 'sending' WHERE id = ? AND status = 'pending'"
SQL_MARK_SENT: Final = """
UPDATE reminders SET status = 'sent', sent_at = :now, attempts = attempts + 1
WHERE id = :id AND status = 'sending'"""
SQL_MARK_DROPPED: Final = """
UPDATE reminders SET status = 'dropped', last_error = :reason
WHERE id = :id AND status IN ('pending', 'sending')"""
SQL_MARK_FAILED: Final = """
UPDATE reminders SET status = 'failed', attempts = attempts + 1, last_error = :error
WHERE id = :id AND status IN ('pending', 'sending')"""
SQL_RELEASE: Final = """
UPDATE reminders SET status = 'pending', attempts = attempts + 1
WHERE id = ? AND status = 'sending'"""
SQL_RECOVER: Final = (
    "UPDATE reminders SET status = 'pending', attempts = attempts + 1 WHERE status = 'sending'"
)

_NOTICE_FIELDS: Final = ("date", "time", "place")


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder row to send (or to list)."""

    id: int
    event_id: str
    chat_id: int
    lead: Lead
    due_at: datetime


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
) -> int:
    """Plan one event's reminders for all its followers inside the caller's transaction.

    ``event`` is the event as now stored; for an update, ``change`` says what changed and
    ``previous`` is the event as it was (its values go into the notice). Returns the number
    of reminder rows inserted, moved, revived, dropped or deleted.
    """
    existing = [_row(row) for row in await db.fetchall(SQL_ROWS_OF_EVENT, (event.id,))]
    targets: dict[Key, datetime] = {}
    ahead: dict[Key, datetime] = {}
    for follower in await _followers(db, event):
        targets.update(_targets(event, follower, tz))
        if _plannable(event):
            for lead, due in due_reminders(
                event, follower.leads, follower.quiet, tz, now=now
            ).items():
                ahead[(event.id, follower.chat_id, lead)] = due
    reminded = {row.key[1] for row in existing if row.status == "sent"}
    written = await _reconcile(
        db,
        existing,
        targets,
        ahead,
        now=now,
        revive_sent=change is not None and change.reschedules,
        drop_uncovered=event.status == "cancelled",
    )
    if change is not None:
        await _notify(db, event, change, previous, reminded, now=now, tz=tz)
    return written


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
    )


class ReminderStore:
    """The reminders as the dispatcher sees them: what is due, and what became of it.

    A row goes ``pending`` -> ``sending`` (:meth:`claim`) -> ``sent`` / ``dropped`` /
    ``failed``, or back to ``pending`` (:meth:`release`). Rows a crash left ``sending`` go
    back to ``pending`` at start-up (:meth:`recover_in_flight`): a crash between
    Telegram's answer and :meth:`mark_sent` repeats those few (at least once), while
    everything recorded ``sent`` is never sent again.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, now: datetime, *, limit: int = 500) -> list[DueReminder]:
        """Return pending rows due by ``now`` for active chats, earliest first."""
        rows = await self._db.fetchall(SQL_DUE, {"now": utc_text(now), "limit": limit})
        return [_due(row) for row in rows]

    async def claim(self, reminder_id: int) -> bool:
        """Take a pending row for sending; False if it is not pending any more."""
        return await self._db.execute(SQL_CLAIM, (reminder_id,)) == 1

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

    async def release(self, reminder_id: int) -> bool:
        """Put a claimed row back for a later try, counting the attempt."""
        return await self._db.execute(SQL_RELEASE, (reminder_id,)) == 1

    async def recover_in_flight(self) -> int:
        """At start-up, put rows a crash left ``sending`` back to ``pending``; return how many."""
        return await self._db.execute(SQL_RECOVER)

    async def next_due(self, *, after: datetime | None = None) -> datetime | None:
        """Return when the earliest pending row of an active chat is due (after ``after``)."""
        row = await self._db.fetchone(
            SQL_NEXT_DUE, {"after": "" if after is None else utc_text(after)}
        )
        return None if row is None or row[0] is None else parse_utc(row[0])

    async def pending_for(self, chat_id: int) -> list[DueReminder]:
        """Return a chat's pending rows, earliest first (for listings and tests)."""
        return [_due(row) for row in await self._db.fetchall(SQL_PENDING_FOR, (chat_id,))]
