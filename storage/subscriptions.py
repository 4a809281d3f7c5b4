"""Who follows what, with their reminder settings; every change re-plans their reminders.

A subscriber is a chat: a private chat (chat id == user id), a group or a channel. Topics:
a network (target = slug), "meetings" (every network meeting and every alliance-wide event,
i.e. one without a host network), "news" (broadcasts of a later issue), one event
(target = event id, listed until the event is over) and "weekly" (the Monday preview). Each
write runs in one transaction together with the reminder planning of
:mod:`storage.reminders`; ``now`` always comes from the caller (the bot's injectable clock).

Blocked chats: :meth:`SubscriptionStore.mark_blocked` deletes their pending reminders and
skips their pending outbox rows, since nothing is owed to someone who blocked the bot;
:meth:`SubscriptionStore.mark_active` (``/start``) re-plans, so they get only reminders
still ahead. Their subscriptions and settings stay.

Groups and channels subscribe with their negative chat ids like anyone else. When the bot
leaves one (``my_chat_member``, a 403 on a send, ``/kanal_trennen``), :meth:`end_chat` ends
its subscriptions at once; a group or channel is never merely "blocked", as only its admins
can bring the bot back, and they then choose its topics afresh. Connected channels have a row
in ``channels`` (:meth:`connect_channel`), deleted with the subscriber.

Event subscriptions whose event is over are hidden by :meth:`SubscriptionStore.get` (it
takes ``now``); the rows stay until the chat changes its subscriptions or is deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal, cast

from bot.domain.schedule import (
    DEFAULT_LEADS,
    Lead,
    QuietHours,
    quiet_from_columns,
    quiet_to_columns,
)
from storage import outbox as outbox_rows
from storage import reminders as reminder_rows
from storage.codecs import utc_text
from storage.errors import StorageError
from storage.outbox import skip_pending
from storage.reminders import (
    dump_leads,
    event_is_over,
    followers,
    load_events,
    parse_leads,
    plan_subscriber,
    topic_covers,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from bot.domain.models import Event
    from storage.db import Database

SubscriberStatus = Literal["active", "blocked"]
SKIP_BLOCKED: Final = "recipient blocked the bot"
SKIP_ENDED: Final = "the bot left the group or channel"

SQL_SUBSCRIBER: Final = "SELECT * FROM subscribers WHERE chat_id = ?"
SQL_SUBSCRIPTIONS: Final = (
    "SELECT topic, target FROM subscriptions WHERE chat_id = ? ORDER BY created_at, topic, target"
)
SQL_CREATE_SUBSCRIBER: Final = """
INSERT OR IGNORE INTO subscribers (chat_id, status, leads, quiet_start, quiet_end,
    created_at, updated_at)
VALUES (:chat_id, 'active', :leads, :quiet_start, :quiet_end, :now, :now)"""
SQL_TOUCH: Final = "UPDATE subscribers SET updated_at = ? WHERE chat_id = ?"
SQL_SUBSCRIBE: Final = """
INSERT OR IGNORE INTO subscriptions (chat_id, topic, target, created_at) VALUES (?, ?, ?, ?)"""
SQL_UNSUBSCRIBE: Final = "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ? AND target = ?"
SQL_UNSUBSCRIBE_ALL: Final = "DELETE FROM subscriptions WHERE chat_id = ?"
SQL_SET_STOPPED: Final = "UPDATE subscribers SET stopped = ?, updated_at = ? WHERE chat_id = ?"
SQL_SET_LEADS: Final = "UPDATE subscribers SET leads = ?, updated_at = ? WHERE chat_id = ?"
SQL_SET_QUIET: Final = """
UPDATE subscribers SET quiet_start = ?, quiet_end = ?, updated_at = ? WHERE chat_id = ?"""
SQL_SET_STATUS: Final = """
UPDATE subscribers SET status = :status, blocked_at = :blocked_at, updated_at = :now
WHERE chat_id = :chat_id AND status <> :status"""
SQL_NETWORK_EXISTS: Final = "SELECT 1 FROM networks WHERE slug = ?"
SQL_WEEKLY: Final = """
SELECT s.chat_id FROM subscribers AS s JOIN subscriptions AS x ON x.chat_id = s.chat_id
WHERE s.status = 'active' AND x.topic = 'weekly' ORDER BY s.chat_id"""
SQL_NETWORKS_FOLLOWED: Final = """
SELECT x.target FROM subscriptions AS x LEFT JOIN networks AS n ON n.slug = x.target
WHERE x.chat_id = ? AND x.topic = 'network' ORDER BY n.position, x.target"""
SQL_COUNT_ACTIVE: Final = """
SELECT COUNT(*) FROM subscribers AS s
WHERE s.status = 'active' AND EXISTS (SELECT 1 FROM subscriptions AS x WHERE x.chat_id = s.chat_id)
"""
SQL_DELETE_SUBSCRIBER: Final = "DELETE FROM subscribers WHERE chat_id = ?"
SQL_CONNECT_CHANNEL: Final = """
INSERT INTO channels (chat_id, title, username, connected_by, connected_at)
VALUES (:chat_id, :title, :username, :by, :now)
ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, username = excluded.username"""
# A group that became a supergroup has a new chat id: everything moves over to it.
SQL_MOVE_SUBSCRIBER: Final = """
INSERT OR IGNORE INTO subscribers (chat_id, status, leads, quiet_start, quiet_end, stopped,
    created_at, updated_at, blocked_at)
SELECT :new, status, leads, quiet_start, quiet_end, stopped, created_at, :now, blocked_at
FROM subscribers WHERE chat_id = :old"""
SQL_MOVE_SUBSCRIPTIONS: Final = (
    "UPDATE OR IGNORE subscriptions SET chat_id = :new WHERE chat_id = :old"
)
SQL_CHANNEL: Final = "SELECT * FROM channels WHERE chat_id = ?"
SQL_CHANNELS: Final = "SELECT * FROM channels ORDER BY title COLLATE NOCASE, chat_id"


class Topic(StrEnum):
    """What one can follow; values live in the database."""

    NETWORK = "network"
    MEETINGS = "meetings"
    NEWS = "news"
    EVENT = "event"
    WEEKLY = "weekly"


TARGETED: Final = frozenset({Topic.NETWORK, Topic.EVENT})


class UnknownTarget(StorageError):
    """A subscription names a network that does not exist or an event that is not ahead."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        super().__init__(f"cannot subscribe to {subscription.topic} {subscription.target!r}")


@dataclass(frozen=True, slots=True)
class Subscription:
    """One thing a chat follows; ``target`` is a slug or event id, else empty."""

    topic: Topic
    target: str = ""

    def __post_init__(self) -> None:
        topic = Topic(self.topic)
        object.__setattr__(self, "topic", topic)
        if (topic in TARGETED) != bool(self.target):
            raise ValueError(
                f"topic {topic} with target {self.target!r}: a target is needed "
                "exactly for networks and events"
            )


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A chat that follows something, with its reminder settings."""

    chat_id: int
    status: SubscriberStatus
    leads: tuple[Lead, ...]
    quiet: QuietHours | None
    subscriptions: frozenset[Subscription]
    # Whether a /stopp can be undone (its snapshot is kept).
    stopped: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel an alliance admin connected; it follows topics under its chat id."""

    chat_id: int
    title: str
    username: str | None
    connected_by: int
    connected_at: datetime


def covers(subscription: Subscription, event: Event) -> bool:
    """Tell whether a subscription covers an event's reminders (news and weekly never do)."""
    return topic_covers(subscription.topic, subscription.target, event)


# Subscribers who follow nothing any more (after /stopp, or never) and changed nothing since
# the cut-off, and those who blocked the bot before it: their settings, an undo snapshot and
# their remaining rows go (reminders by the foreign key's cascade).
SQL_PURGE_STOPPED: Final = """
DELETE FROM subscribers
WHERE (status = 'blocked' AND blocked_at < :before)
    OR (updated_at < :before
        AND NOT EXISTS (SELECT 1 FROM subscriptions AS s WHERE s.chat_id = subscribers.chat_id))
"""


class SubscriptionStore:
    """Subscribers, their subscriptions and settings; writes re-plan their reminders."""

    def __init__(self, db: Database, *, tz: ZoneInfo, default_quiet: QuietHours | None) -> None:
        self._db = db
        self._tz = tz
        self._default_quiet = default_quiet

    # --- reading ---------------------------------------------------------------------------

    async def get(self, chat_id: int, *, now: datetime | None = None) -> Subscriber | None:
        """Return a chat's settings and subscriptions (without events over by ``now``).

        Without ``now`` every stored subscription is returned, events over included.
        """
        async with self._db.snapshot():
            row = await self._db.fetchone(SQL_SUBSCRIBER, (chat_id,))
            if row is None:
                return None
            subscriptions = await self._live_subscriptions(chat_id, now=now)
        return Subscriber(
            chat_id=chat_id,
            status=cast("SubscriberStatus", row["status"]),
            leads=parse_leads(row["leads"]),
            quiet=quiet_from_columns(row["quiet_start"], row["quiet_end"]),
            subscriptions=frozenset(subscriptions),
            stopped=row["stopped"] is not None,
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    async def weekly_subscribers(self) -> list[int]:
        """Return the active chats that want the Monday preview."""
        return [int(row[0]) for row in await self._db.fetchall(SQL_WEEKLY)]

    async def followers_of_event(self, event: Event) -> list[int]:
        """Return the active chats whose subscriptions cover an event's reminders."""
        return await followers(self._db, event)

    async def networks_followed(self, chat_id: int) -> list[str]:
        """Return the slugs of the networks a chat follows, in catalog order."""
        rows = await self._db.fetchall(SQL_NETWORKS_FOLLOWED, (chat_id,))
        return [str(row[0]) for row in rows]

    async def count_active(self) -> int:
        """Return how many chats follow something and have not blocked the bot."""
        row = await self._db.fetchone(SQL_COUNT_ACTIVE)
        return 0 if row is None else int(row[0])

    # --- subscribing -----------------------------------------------------------------------

    async def subscribe(self, chat_id: int, sub: Subscription, *, now: datetime) -> bool:
        """Follow something; False if already followed.

        Raises:
            UnknownTarget: the network does not exist, or the event is not upcoming.
        """
        async with self._db.transaction():
            return await self._subscribe(chat_id, sub, now=now)

    async def unsubscribe(self, chat_id: int, sub: Subscription, *, now: datetime) -> bool:
        """Stop following something; False if it was not followed."""
        async with self._db.transaction():
            return await self._unsubscribe(chat_id, sub, now=now)

    async def toggle(self, chat_id: int, sub: Subscription, *, now: datetime) -> bool:
        """Follow or stop following; return whether it is followed now.

        Raises:
            UnknownTarget: switching on a network or event that cannot be followed.
        """
        async with self._db.transaction():
            if await self._unsubscribe(chat_id, sub, now=now):
                return False
            await self._subscribe(chat_id, sub, now=now)
            return True

    async def purge(self, *, before: datetime) -> int:
        """Delete subscribers who follow nothing or blocked the bot, since before ``before``."""
        async with self._db.transaction():
            return await self._db.execute(SQL_PURGE_STOPPED, {"before": utc_text(before)})

    async def stop_all(self, chat_id: int, *, now: datetime) -> int:
        """Unsubscribe from everything, keeping a snapshot for undo; return how many.

        A second /stopp with nothing left keeps the first snapshot, so undo still works.
        """
        async with self._db.transaction():
            if await self._db.fetchone(SQL_SUBSCRIBER, (chat_id,)) is None:
                return 0
            live = await self._live_subscriptions(chat_id, now=now)
            await self._db.execute(SQL_UNSUBSCRIBE_ALL, (chat_id,))
            if live:
                snapshot = json.dumps([[s.topic.value, s.target] for s in live])
                await self._db.execute(SQL_SET_STOPPED, (snapshot, utc_text(now), chat_id))
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
            return len(live)

    async def undo_stop(self, chat_id: int, *, now: datetime) -> int:
        """Restore what the last /stopp removed and re-plan; return how many were restored.

        Events now over and networks that no longer exist are skipped; reminders whose time
        passed meanwhile are not sent late.
        """
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_SUBSCRIBER, (chat_id,))
            if row is None or row["stopped"] is None:
                return 0
            wanted = [Subscription(Topic(t), target) for t, target in json.loads(row["stopped"])]
            restored = 0
            for sub in wanted:
                if await self._valid(sub, now=now):
                    restored += await self._db.execute(
                        SQL_SUBSCRIBE, (chat_id, sub.topic.value, sub.target, utc_text(now))
                    )
            await self._db.execute(SQL_SET_STOPPED, (None, utc_text(now), chat_id))
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
            return restored

    # --- settings --------------------------------------------------------------------------

    async def set_leads(self, chat_id: int, leads: Iterable[Lead], *, now: datetime) -> None:
        """Choose the lead times (any subset of Lead) and re-plan the pending reminders."""
        stored = dump_leads(leads)
        async with self._db.transaction():
            await self._ensure(chat_id, now=now)
            await self._db.execute(SQL_SET_LEADS, (stored, utc_text(now), chat_id))
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)

    async def set_quiet(self, chat_id: int, quiet: QuietHours | None, *, now: datetime) -> None:
        """Choose the quiet hours (None: none) and re-plan the pending reminders."""
        start, end = quiet_to_columns(quiet)
        async with self._db.transaction():
            await self._ensure(chat_id, now=now)
            await self._db.execute(SQL_SET_QUIET, (start, end, utc_text(now), chat_id))
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)

    async def mark_blocked(self, chat_id: int, *, now: datetime) -> bool:
        """Record that a chat blocked the bot; True if its status changed.

        Its pending reminders are deleted and its pending outbox rows skipped; an unknown chat
        is not recorded. A group or channel (negative id) that refused a message has removed
        the bot: its subscriptions end (see :meth:`end_chat`).
        """
        if chat_id < 0:
            return await self.end_chat(chat_id)
        async with self._db.transaction():
            params = {"chat_id": chat_id, "status": "blocked", "blocked_at": utc_text(now)}
            if await self._db.execute(SQL_SET_STATUS, {**params, "now": utc_text(now)}) == 0:
                return False
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
            await skip_pending(self._db, chat_id, reason=SKIP_BLOCKED)
            return True

    async def mark_active(self, chat_id: int, *, now: datetime) -> bool:
        """Record that a chat is back (``/start``) and re-plan; True if its status changed.

        Planning starts afresh: nothing that came due while the chat was blocked is owed
        (a row a dispatcher released after the block is deleted too).
        """
        async with self._db.transaction():
            params = {"chat_id": chat_id, "status": "active", "blocked_at": None}
            if await self._db.execute(SQL_SET_STATUS, {**params, "now": utc_text(now)}) == 0:
                return False
            await reminder_rows.delete_pending_rows(self._db, chat_id)
            await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
            return True

    async def end_chat(self, chat_id: int) -> bool:
        """End a group's or channel's subscriptions: nothing more is sent there.

        The subscriber row goes (with its subscriptions, reminders and channel row); pending
        outbox rows are skipped, sent ones stay for the circulars' reports. True if the chat
        followed anything or was a connected channel.
        """
        async with self._db.transaction():
            await skip_pending(self._db, chat_id, reason=SKIP_ENDED)
            return await self._db.execute(SQL_DELETE_SUBSCRIBER, (chat_id,)) == 1

    async def move_chat(self, old: int, new: int, *, now: datetime) -> bool:
        """Move a group's subscriptions, reminders and pending rows to its new chat id.

        Telegram gives a group that becomes a supergroup a new id and refuses sends to the old
        one. True if the old id followed anything; moving twice changes nothing.
        """
        params = {"old": old, "new": new, "now": utc_text(now)}
        async with self._db.transaction():
            if await self._db.fetchone(SQL_SUBSCRIBER, (old,)) is None:
                return False
            await self._db.execute(SQL_MOVE_SUBSCRIBER, params)
            await self._db.execute(SQL_MOVE_SUBSCRIPTIONS, params)
            await reminder_rows.move_chat_rows(self._db, old, new)
            await outbox_rows.move_chat_rows(self._db, old, new)
            await self._db.execute(SQL_DELETE_SUBSCRIBER, (old,))
            await plan_subscriber(self._db, new, now=now, tz=self._tz)
            return True

    async def connect_channel(
        self, chat_id: int, *, title: str, username: str | None, by: int, now: datetime
    ) -> bool:
        """Connect a channel (or update its title); True if it was not connected before."""
        if chat_id >= 0:
            raise ValueError("channel chat ids are negative")
        async with self._db.transaction():
            known = await self._db.fetchone(SQL_CHANNEL, (chat_id,)) is not None
            await self._ensure(chat_id, now=now)
            params = {
                "chat_id": chat_id,
                "title": title,
                "username": username,
                "by": by,
                "now": utc_text(now),
            }
            await self._db.execute(SQL_CONNECT_CHANNEL, params)
            return not known

    async def channel(self, chat_id: int) -> Channel | None:
        """Return a connected channel, or None."""
        row = await self._db.fetchone(SQL_CHANNEL, (chat_id,))
        return None if row is None else _channel(row)

    async def channels(self) -> list[Channel]:
        """Return the connected channels by title."""
        return [_channel(row) for row in await self._db.fetchall(SQL_CHANNELS)]

    async def delete_chat(self, chat_id: int) -> bool:
        """Delete everything stored about a chat (subscriptions, reminders, outbox rows)."""
        async with self._db.transaction():
            await outbox_rows.delete_chat_rows(self._db, chat_id)
            return await self._db.execute(SQL_DELETE_SUBSCRIBER, (chat_id,)) == 1

    # --- inside a transaction --------------------------------------------------------------

    async def _ensure(self, chat_id: int, *, now: datetime) -> None:
        """Create the subscriber with the default settings if it is new."""
        start, end = quiet_to_columns(self._default_quiet)
        await self._db.execute(
            SQL_CREATE_SUBSCRIBER,
            {
                "chat_id": chat_id,
                "leads": dump_leads(DEFAULT_LEADS),
                "quiet_start": start,
                "quiet_end": end,
                "now": utc_text(now),
            },
        )

    async def _valid(self, sub: Subscription, *, now: datetime) -> bool:
        """Tell whether a subscription may be added now (its target exists and is ahead)."""
        if sub.topic == Topic.NETWORK:
            return await self._db.fetchone(SQL_NETWORK_EXISTS, (sub.target,)) is not None
        if sub.topic == Topic.EVENT:
            event = (await load_events(self._db, [sub.target])).get(sub.target)
            return event is not None and event.is_upcoming(now, self._tz)
        return True

    async def _subscribe(self, chat_id: int, sub: Subscription, *, now: datetime) -> bool:
        if not await self._valid(sub, now=now):
            raise UnknownTarget(sub)
        await self._ensure(chat_id, now=now)
        params = (chat_id, sub.topic.value, sub.target, utc_text(now))
        if await self._db.execute(SQL_SUBSCRIBE, params) == 0:
            return False
        await self._db.execute(SQL_TOUCH, (utc_text(now), chat_id))
        await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
        return True

    async def _unsubscribe(self, chat_id: int, sub: Subscription, *, now: datetime) -> bool:
        params = (chat_id, sub.topic.value, sub.target)
        if await self._db.execute(SQL_UNSUBSCRIBE, params) == 0:
            return False
        await self._db.execute(SQL_TOUCH, (utc_text(now), chat_id))
        await plan_subscriber(self._db, chat_id, now=now, tz=self._tz)
        return True

    async def _live_subscriptions(
        self, chat_id: int, *, now: datetime | None
    ) -> list[Subscription]:
        """Return a chat's subscriptions without those of events over by ``now`` or gone."""
        rows: list[sqlite3.Row] = await self._db.fetchall(SQL_SUBSCRIPTIONS, (chat_id,))
        subs = [Subscription(Topic(row["topic"]), str(row["target"])) for row in rows]
        if now is None:
            return subs
        event_ids = [s.target for s in subs if s.topic == Topic.EVENT]
        events = await load_events(self._db, event_ids) if event_ids else {}
        return [
            s
            for s in subs
            if s.topic != Topic.EVENT
            or ((e := events.get(s.target)) is not None and not event_is_over(e, now, self._tz))
        ]


def _channel(row: sqlite3.Row) -> Channel:
    return Channel(
        chat_id=int(row["chat_id"]),
        title=str(row["title"]),
        username=None if row["username"] is None else str(row["username"]),
        connected_by=int(row["connected_by"]),
        connected_at=datetime.fromisoformat(row["connected_at"]),
    )


async def delete_subscriber(db: Database, chat_id: int) -> tuple[int, int]:
    """Delete a chat's subscriptions and settings, inside the caller's transaction.

    Returns (subscriptions, settings rows) deleted; reminders and outbox rows are their
    stores' (:func:`storage.reminders.delete_chat_rows`, :func:`storage.outbox.delete_chat_rows`).
    """
    subscriptions = await db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
    settings = await db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
    return subscriptions, settings
