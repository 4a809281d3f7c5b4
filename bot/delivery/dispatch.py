"""The dispatcher: sends what the database says is due (reminders, notices, weekly previews).

The database is the truth; jobs of PTB's JobQueue only wake the dispatcher. A wake starts one
drain task if none runs; the task sends every due row through the sender, in parallel up to
``MAX_IN_FLIGHT`` (the sender's budget paces them), and loops until nothing is due. Each row is
claimed before its request leaves and marked after, so a restart never repeats a delivered
reminder; rows a crash left claimed go back to pending at start-up (at least once for those).

A transient failure (HTTP 5xx, a network error, a timeout before the request left) puts the
row back with a growing delay (:mod:`bot.domain.retry`) and its redacted error; a reminder
gives up when its meeting starts, a notice a day after its first failure. Meanwhile the shared
:class:`~bot.domain.retry.Outage` holds every new push until the delay has passed, so an
outage is probed, not hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.delivery.sender import PushOutcome, PushResult, push
from bot.domain.clock import Clock, SystemClock
from bot.domain.retry import PATIENCE, Outage, next_attempt
from bot.domain.schedule import WEEKLY_PREVIEW_TIME, week_window
from bot.views import notices
from storage.subscriptions import covers

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from zoneinfo import ZoneInfo

    from telegram import Bot

    from bot.delivery.metrics import Metrics, PushKind, PushOutcomeName
    from bot.domain.models import Event
    from bot.views.common import RenderContext
    from bot.views.replies import Reply
    from storage.attendance import AttendanceStore
    from storage.outbox import OutboxItem, OutboxStore
    from storage.reminders import DueReminder, ReminderStore
    from storage.subscriptions import SubscriptionStore

MAX_IN_FLIGHT: Final = 32
BATCH: Final = 500
WAKE_INTERVAL: Final = timedelta(seconds=5)  # rows other processes write are seen this soon

log = logging.getLogger(__name__)


@dataclass
class DispatchStats:
    """What one drain did, for logs and tests."""

    sent: int = 0
    dropped: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0  # put back after a transient failure

    def add(self, other: DispatchStats) -> None:
        """Add another drain's numbers."""
        for name in ("sent", "dropped", "blocked", "failed", "skipped", "retrying"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dispatcher:
    """Drains due reminders and outbox rows; at most one drain runs at a time."""

    bot: Bot
    reminders: ReminderStore
    outbox: OutboxStore
    subscriptions: SubscriptionStore
    render_context: Callable[[], Awaitable[RenderContext]]
    metrics: Metrics | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock)
    # Shared with the circular runner: after a transient failure nobody sends until its delay.
    outage: Outage = field(default_factory=Outage)
    # "Ich komme": a reminder to someone who said they come says so.
    attendance: AttendanceStore | None = field(default=None, repr=False)
    totals: DispatchStats = field(default_factory=DispatchStats)
    _task: asyncio.Task[DispatchStats] | None = field(default=None, repr=False)
    _again: bool = field(default=False, repr=False)
    _in_flight: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT), repr=False
    )

    async def run(self) -> DispatchStats | None:
        """Send everything due and return what was done; None if a drain already runs.

        A drain that is already running is asked to look once more before it ends, so
        nothing written meanwhile waits for the next wake-up.
        """
        if self._task is not None and not self._task.done():
            self._again = True
            return None
        self._task = asyncio.get_running_loop().create_task(
            self._drain(), name="netzwerkbot-dispatcher"
        )
        return await self._task

    async def wait_idle(self) -> None:
        """Wait until no drain runs (one started by another wake-up finishes its pass)."""
        while self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Cancel a running drain (shutdown): claimed rows go back to pending next start."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _drain(self) -> DispatchStats:
        stats = DispatchStats()
        first = True
        while True:
            self._again = False
            ctx = await self.render_context()
            if first:
                # A batched plan whose process stopped (a crash, an import killed) holds
                # its event's reminders back until someone finishes it.
                await self.reminders.finish_stale_plans(now=ctx.now, tz=ctx.tz)
                first = False
            if self.outage.closed(self.clock.now()):
                break  # Telegram failed a moment ago: the rows wait for a later wake-up
            reminders = await self.reminders.due(ctx.now, limit=BATCH)
            items = await self.outbox.due(ctx.now, limit=BATCH)
            if not reminders and not items and not self._again:
                break
            results = await asyncio.gather(
                *(self._limited(self._send_reminder(ctx, r)) for r in reminders),
                *(self._limited(self._send_item(ctx, i)) for i in items),
            )
            for result in results:
                stats.add(result)
        if stats.dropped:
            log.info("Dropped %d reminders whose meeting had already begun", stats.dropped)
        self.totals.add(stats)
        return stats

    async def _limited(self, job: Awaitable[DispatchStats]) -> DispatchStats:
        async with self._in_flight:
            return await job

    async def _send_reminder(self, ctx: RenderContext, due: DueReminder) -> DispatchStats:
        event = ctx.catalog.event(due.event_id)
        if event is None:
            # Written by another process a moment ago; the cached catalog catches up within
            # a second (CatalogStore.current), the row waits until then.
            return DispatchStats()
        if event.status == "cancelled" or _has_begun(event, ctx.now):
            await self.reminders.mark_dropped(due.id, "begun or cancelled")
            return DispatchStats(dropped=1)
        if self.outage.closed(self.clock.now()):
            return DispatchStats()  # Telegram failed a moment ago: the row waits, unclaimed
        coming = self.attendance is not None and await self.attendance.is_coming(
            event.id, due.chat_id
        )
        if not await self.reminders.claim(due.id):
            return DispatchStats()  # another drain took it
        reply = notices.reminder_reply(ctx, event, coming=coming)
        result = await self._push(due.chat_id, reply)
        now = self.clock.now()
        self._count("reminder", result.outcome)
        if result.outcome is PushOutcome.SENT or result.outcome is PushOutcome.UNKNOWN:
            # Unknown: the request may have arrived; sending again could repeat it.
            await self.reminders.mark_sent(due.id, now=now)
            return DispatchStats(sent=1)
        if result.outcome is PushOutcome.BLOCKED:
            await self.reminders.release(due.id)
            return DispatchStats(blocked=1)
        error = result.error or result.outcome.value
        if result.outcome is PushOutcome.RETRY:
            # A reminder is worth trying until its meeting starts.
            at = next_attempt(
                due.attempts + 1,
                now,
                deadline=event.begins_at(),
                retry_after=result.retry_after,
            )
            if at is not None:
                await self.reminders.retry(due.id, at=at, error=error)
                self._count("reminder", "retried")
                return DispatchStats(retrying=1)
            log.warning("Gave up a reminder at its meeting's start: %s", error)
            self._count("reminder", "failed")
        await self.reminders.mark_failed(due.id, error=error)
        return DispatchStats(failed=1)

    async def _send_item(self, ctx: RenderContext, item: OutboxItem) -> DispatchStats:
        reply = await self._render_item(ctx, item)
        if reply is None:
            await self.outbox.mark_skipped(item.id)
            return DispatchStats(skipped=1)
        if self.outage.closed(self.clock.now()):
            return DispatchStats()  # Telegram failed a moment ago: the row waits, unclaimed
        if not await self.outbox.claim(item.id):
            return DispatchStats()
        result = await self._push(item.chat_id, reply)
        now = self.clock.now()
        kind: PushKind = "preview" if item.kind == "weekly" else "notice"
        self._count(kind, result.outcome)
        if result.outcome is PushOutcome.SENT:
            await self.outbox.mark_sent(item.id, now=now)
            return DispatchStats(sent=1)
        if result.outcome is PushOutcome.UNKNOWN:
            await self.outbox.mark_unknown(item.id, error=result.error)
            return DispatchStats(failed=1)
        if result.outcome is PushOutcome.BLOCKED:
            await self.outbox.mark_blocked(item.id, error=result.error)
            return DispatchStats(blocked=1)
        error = result.error or result.outcome.value
        if result.outcome is PushOutcome.RETRY:
            # A notice or a weekly preview keeps trying for a day after its first failure.
            first = item.first_failed_at or now
            at = next_attempt(
                item.attempts + 1, now, deadline=first + PATIENCE, retry_after=result.retry_after
            )
            if at is not None:
                await self.outbox.retry(item.id, at=at, now=now, error=error)
                self._count(kind, "retried")
                return DispatchStats(retrying=1)
            log.warning("Gave up a notice after a day of failures: %s", error)
            self._count(kind, "failed")
            await self.outbox.give_up(item.id, now=now, error=error)
            return DispatchStats(failed=1)
        await self.outbox.mark_failed(item.id, error=error)
        return DispatchStats(failed=1)

    async def _render_item(self, ctx: RenderContext, item: OutboxItem) -> Reply | None:
        """Return the German message for an outbox row, or None when there is nothing to say."""
        if item.kind == "weekly":
            events = await self._week_for(ctx, item.chat_id)
            return notices.weekly_preview(ctx, events) if events else None
        event_id = item.payload.get("event_id")
        event = ctx.catalog.event(event_id) if isinstance(event_id, str) else None
        if event is None:
            return None
        if item.payload.get("kind") == "cancelled":
            return notices.cancel_notice(ctx, event, item.payload)
        return notices.change_notice(ctx, event, item.payload)

    async def _week_for(self, ctx: RenderContext, chat_id: int) -> list[Event]:
        """Return the meetings of the coming week that this person follows."""
        subscriber = await self.subscriptions.get(chat_id, now=ctx.now)
        if subscriber is None:
            return []
        _, week_end = week_window(ctx.now, ctx.tz)
        return [
            event
            for event in ctx.catalog.upcoming_events(ctx.now)
            if (begins := event.begins_at(ctx.tz)) is not None
            and begins < week_end
            and any(covers(s, event) for s in subscriber.subscriptions)
        ]

    def _count(self, kind: PushKind, outcome: PushOutcome | PushOutcomeName) -> None:
        """Count a push's outcome; a transient failure is counted once it is decided."""
        if self.metrics is not None and outcome is not PushOutcome.RETRY:
            self.metrics.push(kind, outcome)

    async def _push(self, chat_id: int, reply: Reply) -> PushResult:
        result = await push(self.bot, chat_id, reply)
        now = self.clock.now()
        if result.outcome is PushOutcome.RETRY:
            until = self.outage.failed(now, retry_after=result.retry_after)
            log.warning("Telegram unreachable (%s); pushes wait until %s", result.error, until)
        elif result.outcome is not PushOutcome.UNKNOWN:
            self.outage.succeeded()  # Telegram answered, even if with a refusal
        if result.outcome is PushOutcome.BLOCKED:
            # 403 or "chat not found": stop sending to this person until they return.
            await self.subscriptions.mark_blocked(chat_id, now=now)
        elif result.outcome is PushOutcome.FAILED:
            log.warning("A push to a chat failed: %s", result.error)
        return result


async def make_weekly_previews(
    subscriptions: SubscriptionStore, outbox: OutboxStore, tz: ZoneInfo, now: datetime
) -> int:
    """Queue this week's Monday preview for every weekly subscriber; return rows added.

    Runs at Monday 08:00 and at every start: on a Monday from 08:00 on it queues what is
    missing (one row per person and week in the database), on other days nothing.
    """
    local = now.astimezone(tz)
    if local.weekday() != 0 or local.time() < WEEKLY_PREVIEW_TIME:
        return 0
    year, week, _ = local.isocalendar()
    chat_ids = await subscriptions.weekly_subscribers()
    return await outbox.enqueue_weekly(chat_ids, week_key=f"{year}-W{week:02d}", now=now)


def _has_begun(event: Event, now: datetime) -> bool:
    begins = event.begins_at()
    return begins is not None and begins <= now
