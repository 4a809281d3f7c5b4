"""News broadcasts (circulars): the stored message, its audience, its life and its outbox rows.

A broadcast is created as a ``draft`` with its content and audience, then started at once
(``running``) or ``planned`` for a time; running and planned ones can be ``paused``, resumed
and ``cancelled``; a running one becomes ``done`` when none of its rows is open any more.

Starting snapshots the audience into the outbox with one ``INSERT … SELECT`` in the
transaction that sets ``running``, so the recipients are fixed at that moment and a restart
resumes exactly that list. Sending (see :mod:`bot.delivery.broadcast`) claims one row at a
time with
:meth:`BroadcastStore.claim`, which also checks that the broadcast is still running and that
the recipient still belongs to the audience (else the row is ``skipped``); outcomes are
recorded with :class:`storage.outbox.OutboxStore`. Every admin action is audited in the
transaction that makes it, without the message text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from bot.domain.circulars import (
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastStatus,
    Content,
    Counts,
)
from storage import outbox as outbox_rows
from storage.admins import write_audit
from storage.codecs import parse_utc, utc_text
from storage.errors import StorageError
from storage.leases import Lease
from storage.outbox import KIND_BROADCAST
from storage.reminders import load_events

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from storage.db import Database


DEFAULT_BATCH: Final = 500
FINAL_ROW_STATES: Final = ("sent", "blocked", "failed", "unknown", "skipped")
SKIP_LEFT: Final = "left the audience"
SKIP_CANCELLED: Final = "broadcast cancelled"

# Who belongs to an audience, given the parameters of :func:`audience_params`: an active
# subscriber with a subscription that covers it. For a meeting these are the chats its
# reminders go to (the meeting itself, "all meetings", a host network), as in
# storage.reminders.SQL_FOLLOWERS. The predicate appears three times below (count, snapshot,
# claim), spelled out, so every statement is a plain constant.
SQL_COUNT_AUDIENCE: Final = """
SELECT COUNT(*) FROM subscribers AS s
WHERE s.status = 'active' AND EXISTS (
    SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id AND (
        (x.topic = 'news' AND :news)
        OR (x.topic = 'event' AND x.target = :event_id)
        OR (x.topic = 'meetings' AND :meeting)
        OR (x.topic = 'network' AND x.target IN (SELECT value FROM json_each(:networks)))
    )
)"""
SQL_INSERT: Final = """
INSERT INTO broadcasts (created_by, created_at, content, audience_kind, audience_target,
    status, status_chat_id, updated_at)
VALUES (:by, :now, :content, :kind, :target, 'draft', :chat_id, :now)"""
SQL_GET: Final = "SELECT * FROM broadcasts WHERE id = ?"
SQL_LAST_ID: Final = "SELECT last_insert_rowid()"
SQL_BY_STATUS: Final = """
SELECT * FROM broadcasts WHERE status IN (SELECT value FROM json_each(?))
ORDER BY COALESCE(started_at, planned_at, created_at), id"""
SQL_DUE_PLANNED: Final = """
SELECT id FROM broadcasts WHERE status = 'planned' AND planned_at <= ? ORDER BY planned_at, id"""
SQL_SET_RUNNING: Final = """
UPDATE broadcasts SET status = 'running', started_at = :now, updated_at = :now
WHERE id = :id AND status IN ('draft', 'planned')"""
SQL_SET_RECIPIENTS: Final = "UPDATE broadcasts SET recipients = ? WHERE id = ?"
SQL_SET_PLANNED: Final = """
UPDATE broadcasts SET status = 'planned', planned_at = :when, updated_at = :now
WHERE id = :id AND status = 'draft'"""
SQL_SET_PAUSED: Final = """
UPDATE broadcasts SET status = 'paused', updated_at = :now
WHERE id = :id AND status IN ('running', 'planned')"""
# A broadcast paused before its start goes back to waiting for its time (perhaps past).
SQL_SET_RESUMED: Final = """
UPDATE broadcasts SET status = IIF(started_at IS NULL, 'planned', 'running'), updated_at = :now
WHERE id = :id AND status = 'paused'"""
SQL_SET_CANCELLED: Final = """
UPDATE broadcasts SET status = 'cancelled', finished_at = :now, updated_at = :now
WHERE id = :id AND status IN ('draft', 'planned', 'running', 'paused')"""
SQL_SET_DONE: Final = """
UPDATE broadcasts SET status = 'done', finished_at = :now, updated_at = :now
WHERE id = :id AND status = 'running' AND NOT EXISTS (
    SELECT 1 FROM outbox WHERE broadcast_id = :id AND status IN ('pending', 'sending')
)"""
SQL_SET_STATUS_MESSAGE: Final = """
UPDATE broadcasts SET status_chat_id = ?, status_message_id = ? WHERE id = ?"""
# Rows waiting for their next try after a transient failure count as 'waiting'; rows failed
# because their patience ran out as 'gave_up'.
SQL_COUNTS: Final = """
SELECT CASE
        WHEN status = 'pending' AND first_failed_at IS NOT NULL THEN 'waiting'
        WHEN status = 'failed' AND gave_up_at IS NOT NULL THEN 'gave_up'
        ELSE status
    END AS state, COUNT(*)
FROM outbox WHERE broadcast_id = ? GROUP BY state"""
SQL_ROWS: Final = """
SELECT chat_id, status FROM outbox WHERE broadcast_id = ? AND kind = ? ORDER BY id"""
SQL_PENDING: Final = """
SELECT id, chat_id, attempts, first_failed_at FROM outbox
WHERE broadcast_id = ? AND status = 'pending' AND due_at <= ?
ORDER BY id LIMIT ?"""
SQL_PENDING_ALL: Final = """
SELECT id, chat_id, attempts, first_failed_at FROM outbox
WHERE broadcast_id = ? AND status = 'pending'
ORDER BY id LIMIT ?"""


class BroadcastError(StorageError):
    """A broadcast cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class PendingRow:
    """An outbox row of a broadcast waiting to be sent."""

    id: int
    chat_id: int
    attempts: int = 0
    first_failed_at: datetime | None = None  # the first transient failure, if any


@dataclass(frozen=True, slots=True)
class AudienceParams:
    """The parameters of the audience predicate, fixed for one broadcast run."""

    values: Mapping[str, Any] = field(default_factory=dict)


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_utc(value)


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        id=int(row["id"]),
        created_by=int(row["created_by"]),
        created_at=parse_utc(row["created_at"]),
        content=Content.from_json(row["content"]),
        audience=Audience(cast("AudienceKind", row["audience_kind"]), str(row["audience_target"])),
        status=cast("BroadcastStatus", row["status"]),
        planned_at=_time(row["planned_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        recipients=int(row["recipients"]),
        status_chat_id=int(row["status_chat_id"]),
        status_message_id=None
        if row["status_message_id"] is None
        else int(row["status_message_id"]),
    )


async def audience_params(db: Database, audience: Audience) -> AudienceParams:
    """Return the audience predicate's parameters (a meeting's hosts are looked up now)."""
    news, event_id, meeting, networks = False, None, False, [audience.target]
    if audience.kind == "news":
        news, networks = True, []
    elif audience.kind == "event":
        event = (await load_events(db, [audience.target])).get(audience.target)
        event_id = audience.target
        networks = list(event.host_networks) if event else []
        meeting = event is not None and (
            event.kind == "network_meeting" or not event.host_networks
        )
    return AudienceParams(
        {
            "news": int(news),
            "event_id": event_id,
            "meeting": int(meeting),
            "networks": json.dumps(networks),
        }
    )


class BroadcastStore:
    """Broadcasts and their outbox rows."""

    def __init__(self, db: Database, *, lease: Lease | None = None) -> None:
        self._db = db
        self._lease = lease or Lease()

    # --- reading ---------------------------------------------------------------------------

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """Return a broadcast, if it exists."""
        row = await self._db.fetchone(SQL_GET, (broadcast_id,))
        return None if row is None else _broadcast(row)

    async def with_status(self, *statuses: BroadcastStatus) -> list[Broadcast]:
        """Return the broadcasts in these states, oldest first."""
        rows = await self._db.fetchall(SQL_BY_STATUS, (json.dumps(statuses),))
        return [_broadcast(row) for row in rows]

    async def count_audience(self, audience: Audience) -> int:
        """Return how many recipients the audience has right now."""
        params = await audience_params(self._db, audience)
        row = await self._db.fetchone(SQL_COUNT_AUDIENCE, dict(params.values))
        return 0 if row is None else int(row[0])

    async def counts(self, broadcast_id: int) -> Counts:
        """Return how many of a broadcast's rows are in each state."""
        rows = await self._db.fetchall(SQL_COUNTS, (broadcast_id,))
        return Counts(**{str(row[0]): int(row[1]) for row in rows})

    async def pending(
        self, broadcast_id: int, *, now: datetime | None = None, limit: int = DEFAULT_BATCH
    ) -> list[PendingRow]:
        """Return the next pending rows of a broadcast, in snapshot order.

        With ``now``, only rows due by then: not those waiting for a retry after a failure.
        """
        if now is None:
            rows = await self._db.fetchall(SQL_PENDING_ALL, (broadcast_id, limit))
        else:
            rows = await self._db.fetchall(SQL_PENDING, (broadcast_id, utc_text(now), limit))
        return [PendingRow(int(row[0]), int(row[1]), int(row[2]), _time(row[3])) for row in rows]

    async def params(self, audience: Audience) -> AudienceParams:
        """Return the audience predicate's parameters for sending (see :meth:`claim`)."""
        return await audience_params(self._db, audience)

    async def due_planned(self, now: datetime) -> list[int]:
        """Return the planned broadcasts whose time has come."""
        return [int(row[0]) for row in await self._db.fetchall(SQL_DUE_PLANNED, (utc_text(now),))]

    # --- the admin's actions (audited) -----------------------------------------------------

    async def create(
        self, content: Content, audience: Audience, *, by: int, chat_id: int, now: datetime
    ) -> Broadcast:
        """Store a draft; ``chat_id`` is where its status message goes."""
        params = {
            "by": by,
            "now": utc_text(now),
            "content": content.to_json(),
            "kind": audience.kind,
            "target": audience.target,
            "chat_id": chat_id,
        }
        async with self._db.transaction():
            await self._db.execute(SQL_INSERT, params)
            row = await self._db.fetchone(SQL_LAST_ID)
            assert row is not None  # noqa: S101 - always one row
            broadcast_id = int(row[0])
            await write_audit(
                self._db,
                by,
                "broadcast_created",
                {
                    "broadcast_id": broadcast_id,
                    "kind": content.kind,
                    "audience": audience.kind,
                    "target": audience.target,
                },
                now=now,
            )
            created = await self._db.fetchone(SQL_GET, (broadcast_id,))
        assert created is not None  # noqa: S101 - inserted above
        return _broadcast(created)

    async def start(self, broadcast_id: int, *, by: int | None, now: datetime) -> int | None:
        """Start a draft or planned broadcast: snapshot its audience; return the recipients.

        Returns None if it is not a draft or planned (already started, paused, cancelled).
        ``by`` None: started by the bot at its planned time.
        """
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_GET, (broadcast_id,))
            if row is None:
                return None
            broadcast = _broadcast(row)
            params = {"id": broadcast_id, "now": utc_text(now)}
            if await self._db.execute(SQL_SET_RUNNING, params) != 1:
                return None
            audience = await audience_params(self._db, broadcast.audience)
            recipients = await outbox_rows.snapshot_broadcast(
                self._db, broadcast_id, audience.values, now=now
            )
            await self._db.execute(SQL_SET_RECIPIENTS, (recipients, broadcast_id))
            await write_audit(
                self._db,
                by,
                "broadcast_started",
                {"broadcast_id": broadcast_id, "recipients": recipients},
                now=now,
            )
        return recipients

    async def plan(self, broadcast_id: int, when: datetime, *, by: int, now: datetime) -> bool:
        """Plan a draft for ``when`` (in the future); False if it is no draft."""
        if when <= now:
            raise BroadcastError("a broadcast can only be planned for the future")
        params = {"id": broadcast_id, "when": utc_text(when), "now": utc_text(now)}
        detail = {"broadcast_id": broadcast_id, "planned_at": utc_text(when)}
        return await self._change(SQL_SET_PLANNED, params, by, "broadcast_planned", detail, now)

    async def pause(self, broadcast_id: int, *, by: int, now: datetime) -> bool:
        """Pause a running or planned broadcast; rows in flight still finish."""
        params = {"id": broadcast_id, "now": utc_text(now)}
        detail = {"broadcast_id": broadcast_id}
        return await self._change(SQL_SET_PAUSED, params, by, "broadcast_paused", detail, now)

    async def resume(self, broadcast_id: int, *, by: int, now: datetime) -> bool:
        """Resume a paused broadcast (a planned one waits for its time again)."""
        params = {"id": broadcast_id, "now": utc_text(now)}
        detail = {"broadcast_id": broadcast_id}
        return await self._change(SQL_SET_RESUMED, params, by, "broadcast_resumed", detail, now)

    async def cancel(self, broadcast_id: int, *, by: int, now: datetime) -> bool:
        """Cancel a broadcast; its pending rows become ``skipped`` (rows in flight finish)."""
        async with self._db.transaction():
            params = {"id": broadcast_id, "now": utc_text(now)}
            if await self._db.execute(SQL_SET_CANCELLED, params) != 1:
                return False
            skipped = await outbox_rows.skip_broadcast_rows(
                self._db, broadcast_id, reason=SKIP_CANCELLED
            )
            await write_audit(
                self._db,
                by,
                "broadcast_cancelled",
                {"broadcast_id": broadcast_id, "skipped": skipped},
                now=now,
            )
        return True

    async def _change(
        self,
        sql: str,
        params: Mapping[str, Any],
        by: int,
        action: str,
        detail: Mapping[str, Any],
        now: datetime,
    ) -> bool:
        async with self._db.transaction():
            if await self._db.execute(sql, params) != 1:
                return False
            await write_audit(self._db, by, action, detail, now=now)
        return True

    # --- sending ---------------------------------------------------------------------------

    async def claim(self, row: PendingRow, audience: AudienceParams) -> str | None:
        """Take a row for sending; return 'sending', 'skipped' (left the audience) or None.

        None: the row is not pending or its broadcast is not running (paused, cancelled).
        """
        params = {
            **audience.values,
            **self._lease.params(),
            "id": row.id,
            "chat_id": row.chat_id,
            "left": SKIP_LEFT,
        }
        return await outbox_rows.claim_broadcast_row(self._db, params)

    async def release_sending(self, broadcast_id: int) -> int:
        """Put a broadcast's ``sending`` rows back to pending once no worker holds them.

        For a drain whose workers ended with an error: like the recovery after a crash, the
        rows are sent again (their requests may have arrived: the allowed duplicates).
        """
        async with self._db.transaction():
            return await outbox_rows.release_broadcast_rows(
                self._db, broadcast_id, owner=self._lease.owner
            )

    async def finish(self, broadcast_id: int, *, now: datetime) -> bool:
        """Mark a running broadcast ``done`` if none of its rows is open any more."""
        params = {"id": broadcast_id, "now": utc_text(now)}
        return await self._db.execute(SQL_SET_DONE, params) == 1

    async def set_status_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Remember the admin's status message, which progress edits."""
        await self._db.execute(SQL_SET_STATUS_MESSAGE, (chat_id, message_id, broadcast_id))

    async def recover(self) -> int:
        """At start-up, skip rows a crash put back under broadcasts that had ended."""
        return await outbox_rows.skip_ended_broadcast_rows(self._db, reason=SKIP_CANCELLED)

    async def snapshot_rows(self, broadcast_id: int) -> Sequence[tuple[int, str]]:
        """Return (chat id, status) of every row of a broadcast (for tests and checks)."""
        rows = await self._db.fetchall(SQL_ROWS, (broadcast_id, KIND_BROADCAST))
        return [(int(row[0]), str(row[1])) for row in rows]
