"""Pushes other than reminders, as rows: notices of changed events and the Monday preview.

Every push to one chat is one ``outbox`` row, written in the same transaction as the change
that causes it. Storage stays language-free: ``payload`` is structured JSON that the bot
renders in the recipient's language when it sends the row.

A dispatcher reads :meth:`OutboxStore.due`, takes each row with :meth:`OutboxStore.claim`
(``pending`` -> ``sending``, atomic, so two dispatchers never send one row), sends it and
records the outcome (``sent``, ``blocked`` on a 403, ``failed``, :meth:`retry` after a
transient failure, which makes the row due again later, or :meth:`give_up` when its patience
has run out). Rows of a blocked chat are not due. Broadcast rows (``broadcast_id`` set, see
:mod:`storage.broadcasts`) are not the dispatcher's: :meth:`OutboxStore.due` leaves them to the
broadcast runner, which claims and marks them with the same statements.

After a crash, rows left ``sending`` may or may not have reached Telegram; all of them go out
again (at least once), once no live process holds them (a lease, see :mod:`storage.leases`).
For broadcasts the issue asks for exactly this: the few rows in flight
(at most five) are the only duplicates allowed, and no recipient is lost. In a running
process a timeout after the request left still makes a row ``unknown``, never resent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from storage.codecs import parse_utc, utc_text
from storage.leases import Lease, recover_params

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from storage.db import Database

OutboxKind = Literal["notice", "weekly", "broadcast"]
KIND_NOTICE: Final = "notice"
KIND_WEEKLY: Final = "weekly"
KIND_BROADCAST: Final = "broadcast"
DEFAULT_BATCH: Final = 100

SQL_ENQUEUE: Final = """
INSERT OR IGNORE INTO outbox (chat_id, kind, payload, dedupe_key, status, due_at, created_at)
VALUES (:chat_id, :kind, :payload, :dedupe_key, 'pending', :due_at, :now)"""
# One statement for many chats (json_each), so a large job is one round trip.
SQL_ENQUEUE_WEEKLY: Final = """
INSERT OR IGNORE INTO outbox (chat_id, kind, payload, dedupe_key, status, due_at, created_at)
SELECT value, 'weekly', :payload, 'weekly:' || :week || ':' || value, 'pending', :now, :now
FROM json_each(:chats)"""
SQL_DUE: Final = """
SELECT o.id, o.chat_id, o.kind, o.payload, o.due_at, o.attempts, o.first_failed_at
FROM outbox AS o LEFT JOIN subscribers AS s ON s.chat_id = o.chat_id
WHERE o.status = 'pending' AND o.due_at <= :now AND o.broadcast_id IS NULL
    AND COALESCE(s.status, 'active') = 'active'
ORDER BY o.due_at, o.id
LIMIT :limit"""
SQL_CLAIM: Final = """
UPDATE outbox SET status = 'sending', claimed_by = :owner, lease_until = :until
WHERE id = :id AND status = 'pending'"""
SQL_MARK_SENT: Final = """
UPDATE outbox SET status = 'sent', sent_at = :now, attempts = attempts + 1
WHERE id = :id AND status = 'sending'"""
SQL_MARK_DONE: Final = """
UPDATE outbox SET status = :status, attempts = attempts + 1, last_error = :error
WHERE id = :id AND status IN ('pending', 'sending')"""
SQL_RELEASE: Final = """
UPDATE outbox SET status = 'pending', attempts = attempts + 1, last_error = :error,
    due_at = COALESCE(:due_at, due_at)
WHERE id = :id AND status = 'sending'"""
# A transient failure: back to pending, due at the next try, the error kept (redacted).
SQL_RETRY: Final = """
UPDATE outbox SET status = 'pending', attempts = attempts + 1, last_error = :error,
    due_at = :due_at, first_failed_at = COALESCE(first_failed_at, :now)
WHERE id = :id AND status = 'sending'"""
SQL_GIVE_UP: Final = """
UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = :error,
    first_failed_at = COALESCE(first_failed_at, :now), gave_up_at = :now
WHERE id = :id AND status = 'sending'"""
SQL_SKIP_CHAT: Final = """
UPDATE outbox SET status = 'skipped', last_error = :reason
WHERE chat_id = :chat_id AND status = 'pending'"""
SQL_NEXT_DUE: Final = """
SELECT MIN(o.due_at) FROM outbox AS o LEFT JOIN subscribers AS s ON s.chat_id = o.chat_id
WHERE o.status = 'pending' AND o.broadcast_id IS NULL AND COALESCE(s.status, 'active') = 'active'
  AND o.due_at > :after
"""
SQL_FOR_CHAT: Final = """
SELECT id, chat_id, kind, payload, due_at, attempts, first_failed_at FROM outbox
WHERE chat_id = ? AND status = 'pending' ORDER BY due_at, id"""


SQL_LEASE_OWNERS: Final = "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sending'"
SQL_RENEW_LEASES: Final = """
UPDATE outbox SET lease_until = :until WHERE status = 'sending' AND claimed_by = :owner"""
# Rows nobody holds: no owner (claimed before leases existed), an expired lease, or a dead
# owner (storage/leases.py); never this process's own rows.
SQL_RECOVER_LEASES: Final = """
UPDATE outbox SET status = 'pending', attempts = attempts + 1, claimed_by = NULL,
    lease_until = NULL
WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> :owner) AND (
    claimed_by IS NULL OR lease_until IS NULL OR lease_until <= :now
    OR claimed_by IN (SELECT value FROM json_each(:dead)))"""


# A circular's rows (storage/broadcasts.py decides when; these statements write them).
SQL_SNAPSHOT_BROADCAST: Final = """
INSERT INTO outbox (chat_id, kind, payload, status, due_at, created_at, broadcast_id)
SELECT s.chat_id, 'broadcast', '{}', 'pending', :now, :now, :broadcast_id
FROM subscribers AS s
WHERE s.status = 'active' AND EXISTS (
    SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
        (x.topic = 'news' AND :news)
        OR (x.topic = 'event' AND x.target = :event_id)
        OR (x.topic = 'meetings' AND :meeting)
        OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
    )
)
ORDER BY s.chat_id"""
# Take one row for sending: only while its broadcast runs; 'skipped' if the recipient left
# the audience (unsubscribed, blocked) since the snapshot. Returns the new status.
SQL_CLAIM_BROADCAST: Final = """
UPDATE outbox SET
    status = IIF(a.member, 'sending', 'skipped'),
    last_error = IIF(a.member, last_error, :left),
    claimed_by = IIF(a.member, :owner, claimed_by),
    lease_until = IIF(a.member, :until, lease_until)
FROM (
    SELECT EXISTS (
        SELECT 1 FROM subscribers AS s
        WHERE s.chat_id = :chat_id AND s.status = 'active' AND EXISTS (
            SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
                (x.topic = 'news' AND :news)
                OR (x.topic = 'event' AND x.target = :event_id)
                OR (x.topic = 'meetings' AND :meeting)
                OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
            )
        )
    ) AS member
) AS a
WHERE outbox.id = :id AND outbox.status = 'pending' AND EXISTS (
    SELECT 1 FROM broadcasts AS b WHERE b.id = outbox.broadcast_id AND b.status = 'running'
)
RETURNING outbox.status"""
SQL_RELEASE_SENDING: Final = """
UPDATE outbox SET status = 'pending'
WHERE broadcast_id = :id AND status = 'sending' AND claimed_by = :owner"""
SQL_SKIP_OPEN: Final = """
UPDATE outbox SET status = 'skipped', last_error = :reason
WHERE broadcast_id = :id AND status = 'pending'"""
# Rows a crash left pending under a broadcast that had ended meanwhile (cancelled while
# they were in flight, then put back by OutboxStore.recover_in_flight).
SQL_SKIP_ENDED: Final = """
UPDATE outbox SET status = 'skipped', last_error = :reason
WHERE status = 'pending' AND broadcast_id IN (
    SELECT id FROM broadcasts WHERE status IN ('done', 'cancelled')
)"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One push to send: ``payload`` is the JSON object the bot renders."""

    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int = 0
    first_failed_at: datetime | None = None  # the first transient failure, if any


def _dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


async def enqueue(
    db: Database,
    chat_ids: Iterable[int],
    kind: OutboxKind,
    payload: Mapping[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> int:
    """Add one row per chat inside the caller's transaction; return how many were added.

    ``dedupe_key`` may contain ``{chat_id}``; a row whose key exists already is not added.
    """
    body = _dumps(payload)
    stamp = utc_text(now)
    added = 0
    for chat_id in dict.fromkeys(chat_ids):
        key = None if dedupe_key is None else dedupe_key.format(chat_id=chat_id)
        added += await db.execute(
            SQL_ENQUEUE,
            {
                "chat_id": chat_id,
                "kind": kind,
                "payload": body,
                "dedupe_key": key,
                "due_at": stamp,
                "now": stamp,
            },
        )
    return added


async def enqueue_notice(
    db: Database, chat_ids: Iterable[int], payload: Mapping[str, Any], *, now: datetime
) -> int:
    """Add a notice for each chat, due now, inside the caller's transaction."""
    return await enqueue(db, chat_ids, KIND_NOTICE, payload, now=now)


async def skip_pending(db: Database, chat_id: int, *, reason: str) -> int:
    """Mark a chat's pending rows ``skipped`` inside the caller's transaction."""
    return await db.execute(SQL_SKIP_CHAT, {"chat_id": chat_id, "reason": reason})


async def delete_chat_rows(db: Database, chat_id: int) -> int:
    """Delete every outbox row of a chat, inside the caller's transaction; return how many."""
    return await db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))


async def move_chat_rows(db: Database, old: int, new: int) -> int:
    """Give a chat's pending rows its new id (a group became a supergroup), in a transaction."""
    return await db.execute(
        "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'", (new, old)
    )


async def snapshot_broadcast(
    db: Database, broadcast_id: int, audience: Mapping[str, Any], *, now: datetime
) -> int:
    """Insert one pending row per member of a circular's audience, in the caller's transaction.

    ``audience`` holds the audience predicate's parameters (``storage.broadcasts``); returns
    the number of recipients.
    """
    params = {**audience, "broadcast_id": broadcast_id, "now": utc_text(now)}
    return await db.execute(SQL_SNAPSHOT_BROADCAST, params)


async def claim_broadcast_row(db: Database, params: Mapping[str, Any]) -> str | None:
    """Claim a circular's row while its circular runs; 'sending', 'skipped' or None."""
    rows = await db.execute_returning(SQL_CLAIM_BROADCAST, params)
    return str(rows[0][0]) if rows else None


async def release_broadcast_rows(db: Database, broadcast_id: int, *, owner: str) -> int:
    """Put a circular's rows this process has in flight back to pending; return how many."""
    return await db.execute(SQL_RELEASE_SENDING, {"id": broadcast_id, "owner": owner})


async def skip_broadcast_rows(db: Database, broadcast_id: int, *, reason: str) -> int:
    """Skip a circular's pending rows (it was cancelled); return how many."""
    return await db.execute(SQL_SKIP_OPEN, {"id": broadcast_id, "reason": reason})


async def skip_ended_broadcast_rows(db: Database, *, reason: str) -> int:
    """Skip pending rows whose circular has ended (a crash put them back); return how many."""
    return await db.execute(SQL_SKIP_ENDED, {"reason": reason})


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        kind=str(row["kind"]),
        payload=json.loads(row["payload"]),
        due_at=parse_utc(row["due_at"]),
        attempts=int(row["attempts"]),
        first_failed_at=None
        if row["first_failed_at"] is None
        else parse_utc(row["first_failed_at"]),
    )


# Pushes that are over, older than the cut-off. A circular's rows go only once the circular
# is done or cancelled (its report counts them until then).
SQL_PURGE_DONE: Final = """
DELETE FROM outbox
WHERE status IN ('sent', 'blocked', 'failed', 'skipped', 'unknown')
    AND COALESCE(sent_at, due_at) < :before
    AND (broadcast_id IS NULL OR broadcast_id IN (
        SELECT id FROM broadcasts WHERE status IN ('done', 'cancelled')))"""


class OutboxStore:
    """The pushes waiting to be sent, and what became of them."""

    def __init__(self, db: Database, *, lease: Lease | None = None) -> None:
        self._db = db
        self._lease = lease or Lease()

    async def purge(self, *, before: datetime) -> int:
        """Delete the pushes that are over and older than ``before``; return how many."""
        async with self._db.transaction():
            return await self._db.execute(SQL_PURGE_DONE, {"before": utc_text(before)})

    async def enqueue_notice(
        self, chat_ids: Iterable[int], payload: Mapping[str, Any], *, now: datetime
    ) -> int:
        """Add a notice for each chat in a transaction of its own."""
        async with self._db.transaction():
            return await enqueue_notice(self._db, chat_ids, payload, now=now)

    async def enqueue_weekly(
        self, chat_ids: Iterable[int], *, week_key: str, now: datetime
    ) -> int:
        """Add the Monday preview for each chat once per week; return how many were added."""
        chats = json.dumps(sorted(set(chat_ids)))
        payload = _dumps({"week": week_key})
        async with self._db.transaction():
            return await self._db.execute(
                SQL_ENQUEUE_WEEKLY,
                {"chats": chats, "payload": payload, "week": week_key, "now": utc_text(now)},
            )

    async def due(self, now: datetime, *, limit: int = DEFAULT_BATCH) -> list[OutboxItem]:
        """Return due pending rows (not broadcasts) of chats that have not blocked the bot."""
        rows = await self._db.fetchall(SQL_DUE, {"now": utc_text(now), "limit": limit})
        return [_item(row) for row in rows]

    async def pending_for(self, chat_id: int) -> list[OutboxItem]:
        """Return a chat's pending rows (for listings and tests)."""
        return [_item(row) for row in await self._db.fetchall(SQL_FOR_CHAT, (chat_id,))]

    async def next_due(self, *, after: datetime | None = None) -> datetime | None:
        """Return when the earliest pending row is due (after ``after``), if any."""
        row = await self._db.fetchone(
            SQL_NEXT_DUE, {"after": "" if after is None else utc_text(after)}
        )
        return None if row is None or row[0] is None else parse_utc(row[0])

    async def claim(self, item_id: int) -> bool:
        """Take a pending row for sending; False if it is not pending (someone else has it)."""
        return await self._db.execute(SQL_CLAIM, {"id": item_id, **self._lease.params()}) == 1

    async def mark_sent(self, item_id: int, *, now: datetime) -> bool:
        """Record that a claimed row reached Telegram."""
        return await self._db.execute(SQL_MARK_SENT, {"id": item_id, "now": utc_text(now)}) == 1

    async def mark_blocked(self, item_id: int, *, error: str | None = None) -> bool:
        """Record that the recipient has blocked the bot (403); the row is not retried."""
        params = {"id": item_id, "status": "blocked", "error": error}
        return await self._db.execute(SQL_MARK_DONE, params) == 1

    async def mark_failed(self, item_id: int, *, error: str | None = None) -> bool:
        """Record that a row cannot be sent (e.g. a 400 from Telegram); it is not retried."""
        params = {"id": item_id, "status": "failed", "error": error}
        return await self._db.execute(SQL_MARK_DONE, params) == 1

    async def mark_unknown(self, item_id: int, *, error: str | None = None) -> bool:
        """Record that a send may or may not have arrived (a timeout); it is not repeated."""
        params = {"id": item_id, "status": "unknown", "error": error}
        return await self._db.execute(SQL_MARK_DONE, params) == 1

    async def mark_skipped(self, item_id: int, *, reason: str | None = None) -> bool:
        """Record that a row was not sent on purpose (e.g. its event is gone)."""
        params = {"id": item_id, "status": "skipped", "error": reason}
        return await self._db.execute(SQL_MARK_DONE, params) == 1

    async def release(
        self, item_id: int, *, error: str | None = None, retry_at: datetime | None = None
    ) -> bool:
        """Put a claimed row back for a later try (a flood limit, a network error)."""
        params = {
            "id": item_id,
            "error": error,
            "due_at": None if retry_at is None else utc_text(retry_at),
        }
        return await self._db.execute(SQL_RELEASE, params) == 1

    async def retry(self, item_id: int, *, at: datetime, now: datetime, error: str) -> bool:
        """Put a claimed row back after a transient failure, to be tried again at ``at``."""
        params = {"id": item_id, "error": error, "due_at": utc_text(at), "now": utc_text(now)}
        return await self._db.execute(SQL_RETRY, params) == 1

    async def give_up(self, item_id: int, *, now: datetime, error: str) -> bool:
        """Record that a claimed row failed transiently once too often: ``failed`` for good."""
        params = {"id": item_id, "error": error, "now": utc_text(now)}
        return await self._db.execute(SQL_GIVE_UP, params) == 1

    async def recover_in_flight(self) -> int:
        """Put rows no live process holds back to pending; return how many.

        Every kind is sent at least once: a crash between Telegram's answer and
        :meth:`mark_sent` repeats the few rows that were in flight.
        """
        async with self._db.transaction():
            owners = [row[0] for row in await self._db.fetchall(SQL_LEASE_OWNERS)]
            return await self._db.execute(SQL_RECOVER_LEASES, recover_params(owners, self._lease))

    async def renew_leases(self) -> int:
        """Extend the leases of this process's rows in flight; return how many."""
        return await self._db.execute(SQL_RENEW_LEASES, self._lease.params())
