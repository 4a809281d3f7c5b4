"""The broadcast runner: sends running broadcasts from the outbox, starts planned ones.

It is separate from the reminder dispatcher, so a broadcast to 100,000 people never holds up a
reminder: a wake-up (the ``broadcasts`` job, an admin's action) starts one background drain
task if none runs, and returns at once. The drain starts planned broadcasts whose time has come
(the database is the truth, the clock is injectable), then sends every running broadcast's
pending rows through the shared ``SendBudget`` (bulk lane, so replies keep priority).

Crash safety: exactly ``MAX_IN_FLIGHT`` workers each take one row at a time: claim it
(``sending``, committed before the request leaves), send, record the outcome. So at most five
rows are ever ``sending``; after ``kill -9`` they go back to pending at start-up and are sent
again (the only duplicates), and the drain resumes by itself where it stopped.

Outcomes: sent; 403 or "chat not found" -> ``blocked`` and the subscriber is marked blocked;
a timeout after the request left -> ``unknown``, never resent; a transient failure (HTTP 5xx,
a network error, a timeout before the request left, a 429 that outlasts SendBudget's retries)
-> back to pending with a growing delay (:mod:`bot.domain.retry`) and its redacted error, until
24 hours after the row's first failure (then ``failed``, counted as given up) or until the
circular is cancelled (``skipped``); other refusals (a 400) -> ``failed``.

Outages: after a transient failure the shared :class:`~bot.domain.retry.Outage` holds every new
push until its delay has passed (5 s, 15 s, 1 min, 5 min, then 15 min while failures go on).
A drain that meets a closed gate, or only rows whose next try lies ahead, ends with the circular
still running and its status message saying that it waits for Telegram; the periodic wake-up
(every 5 seconds) resumes it. No row is ever sent before its own delay has passed.

Progress: one status message to the admin, edited at most every ``PROGRESS_INTERVAL``
seconds, and at the end the report (delivered, blocked, failed, given up, unknown, skipped,
duration).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from telegram.error import BadRequest, TelegramError

from bot.delivery.sender import INTERACTIVE, PushOutcome, push_content
from bot.domain.retry import PATIENCE, Outage, next_attempt
from bot.domain.tracebacks import describe_without_messages
from bot.views.circulars import status_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from telegram.ext import ExtBot

    from bot.delivery.metrics import Metrics
    from bot.domain.circulars import Broadcast
    from bot.domain.clock import Clock
    from bot.i18n import Translator
    from storage.broadcasts import AudienceParams, BroadcastStore, PendingRow
    from storage.outbox import OutboxStore
    from storage.subscriptions import SubscriptionStore

MAX_IN_FLIGHT: Final = 5
BATCH: Final = 500
PROGRESS_INTERVAL: Final = 3.0  # seconds between edits of the status message
STOP_GRACE: Final = 5.0  # seconds a stop waits for the sends in flight

log = logging.getLogger(__name__)


@dataclass
class Broadcaster:
    """Sends running broadcasts and starts planned ones; at most one drain runs at a time."""

    bot: ExtBot[Any]
    store: BroadcastStore
    outbox: OutboxStore
    subscriptions: SubscriptionStore
    clock: Clock
    tr: Translator
    tz: ZoneInfo
    metrics: Metrics | None = field(default=None, repr=False)
    progress_interval: float = PROGRESS_INTERVAL
    in_flight: int = MAX_IN_FLIGHT
    # Shared with the reminder dispatcher: after a transient failure nobody sends until its delay.
    outage: Outage = field(default_factory=Outage)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _again: bool = field(default=False, repr=False)
    _stopping: bool = field(default=False, repr=False)
    _edited: dict[int, str] = field(default_factory=dict, repr=False)

    def wake(self) -> asyncio.Task[None]:
        """Start a drain in the background unless one runs (then it looks once more)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return self._task
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(
            self._drain(), name="netzwerkbot-broadcasts"
        )
        self._task.add_done_callback(_log_failure)
        return self._task

    async def run(self) -> None:
        """Wake the runner and wait until it has nothing left to do (tests, the CLI)."""
        await asyncio.shield(self.wake())

    async def stop(self) -> None:
        """Take no new rows, let the sends in flight finish (a few seconds), then stop."""
        task = self._task
        if task is None or task.done():
            return
        self._stopping = True
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except (TelegramError, OSError):  # logged by _log_failure
            pass

    async def refresh(self, broadcast_id: int) -> None:
        """Bring the admin's status message up to date (after pause, resume, cancel)."""
        broadcast = await self.store.get(broadcast_id)
        if broadcast is not None:
            await self._show(broadcast)

    # ------------------------------------------------------------------ the drain

    async def _drain(self) -> None:
        while not self._stopping:
            self._again = False
            now = self.clock.now()
            for broadcast_id in await self.store.due_planned(now):
                recipients = await self.store.start(broadcast_id, by=None, now=now)
                if recipients is not None:
                    log.info(
                        "Started planned broadcast %d (%d recipients)", broadcast_id, recipients
                    )
            for broadcast in await self.store.with_status("running"):
                if self._stopping:
                    return
                await self._deliver(broadcast)
            if not self._again:
                return

    async def _deliver(self, broadcast: Broadcast) -> None:
        """Send a running broadcast's pending rows until none is left or it stops running."""
        if broadcast.status_message_id is None:
            broadcast = await self._open_status(broadcast)
        audience = await self.store.params(broadcast.audience)
        progress = asyncio.get_running_loop().create_task(self._progress(broadcast))
        try:
            while not self._stopping:
                if self.outage.closed(self.clock.now()):
                    break  # the status message says it waits for Telegram; a wake resumes
                # Rows waiting for their next try are not due yet; the circular stays running.
                rows = await self.store.pending(broadcast.id, now=self.clock.now(), limit=BATCH)
                if not rows:
                    break
                queue = iter(rows)
                # A TaskGroup: if one worker fails, the others are cancelled with it, so no
                # orphan keeps claiming rows next to the drain that a later wake-up starts.
                try:
                    async with asyncio.TaskGroup() as group:
                        workers = [
                            group.create_task(self._worker(broadcast, audience, queue))
                            for _ in range(self.in_flight)
                        ]
                except BaseException:
                    # Every worker has ended: rows they had claimed go back to pending, or the
                    # broadcast could not finish before the next restart.
                    await asyncio.shield(self.store.release_sending(broadcast.id))
                    raise
                if not all(worker.result() for worker in workers):
                    break  # paused or cancelled
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
        if self._stopping:
            return
        if await self.store.finish(broadcast.id, now=self.clock.now()):
            log.info("Broadcast %d is done", broadcast.id)
        await self.refresh(broadcast.id)

    async def _worker(
        self, broadcast: Broadcast, audience: AudienceParams, queue: Iterator[PendingRow]
    ) -> bool:
        """Send rows from the shared queue one at a time; False once the broadcast halted."""
        for row in queue:  # one shared iterator: every row goes to one worker
            if self._stopping or self.outage.closed(self.clock.now()):
                return True  # stopping, or Telegram failed a moment ago: the row stays pending
            claimed = await self.store.claim(row, audience)
            if claimed is None:
                current = await self.store.get(broadcast.id)
                if current is None or current.status != "running":
                    return False
                continue  # skipped meanwhile (the recipient blocked the bot)
            if claimed == "sending":
                await self._send(broadcast, row)
        return True

    async def _send(self, broadcast: Broadcast, row: PendingRow) -> None:
        result = await push_content(self.bot, row.chat_id, broadcast.content)
        now = self.clock.now()
        if result.outcome is PushOutcome.RETRY:
            retried = await self._retry_later(row, result.error or "", result.retry_after, now)
            self._count("retried" if retried else "failed")
            return
        self._count(result.outcome.value)
        if result.outcome is not PushOutcome.UNKNOWN:
            self.outage.succeeded()  # Telegram answered, even if with a refusal
        if result.outcome is PushOutcome.SENT:
            await self.outbox.mark_sent(row.id, now=now)
        elif result.outcome is PushOutcome.UNKNOWN:
            # The request may have arrived; sending again could repeat it.
            await self.outbox.mark_unknown(row.id, error=result.error)
        elif result.outcome is PushOutcome.BLOCKED:
            await self.outbox.mark_blocked(row.id, error=result.error)
            await self.subscriptions.mark_blocked(row.chat_id, now=now)
        else:
            log.warning("A broadcast message failed: %s", result.error)
            await self.outbox.mark_failed(row.id, error=result.error)

    async def _retry_later(
        self, row: PendingRow, error: str, retry_after: float | None, now: datetime
    ) -> bool:
        """Put a row back after a transient failure (True), or give it up after 24 hours."""
        until = self.outage.failed(now, retry_after=retry_after)
        first = row.first_failed_at or now
        at = next_attempt(
            row.attempts + 1, now, deadline=first + PATIENCE, retry_after=retry_after
        )
        if at is None:
            log.warning("Gave up a circular's message after a day of failures: %s", error)
            await self.outbox.give_up(row.id, now=now, error=error)
            return False
        log.info("Telegram unreachable (%s); circular pushes wait until %s", error, until)
        await self.outbox.retry(row.id, at=at, now=now, error=error)
        return True

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.push("circular", outcome)

    # ------------------------------------------------------------------ the status message

    async def _open_status(self, broadcast: Broadcast) -> Broadcast:
        """Send the status message of a broadcast that has none yet and remember it."""
        counts = await self.store.counts(broadcast.id)
        text = status_text(self.tr, self.tz, broadcast, counts)
        try:
            # The interactive lane waits for the admin's chat to be free (the confirmation
            # went out a moment ago) and retries a 429, so the status message is not lost,
            # but it does not queue behind the pushes' budget (the circular's own rows).
            message = await self.bot.send_message(
                broadcast.status_chat_id, text, rate_limit_args=INTERACTIVE
            )
        except TelegramError as error:
            log.warning("Could not send a broadcast's status message: %s", error)
            return broadcast
        await self.store.set_status_message(
            broadcast.id, broadcast.status_chat_id, message.message_id
        )
        self._edited[broadcast.id] = text
        return await self.store.get(broadcast.id) or broadcast

    async def _progress(self, broadcast: Broadcast) -> None:
        """Edit the status message every few seconds while the broadcast is sent."""
        while True:
            await asyncio.sleep(self.progress_interval)
            await self.refresh(broadcast.id)

    async def _show(self, broadcast: Broadcast) -> None:
        """Edit the status message to show the broadcast's state, if it changed."""
        if broadcast.status_message_id is None:
            return
        counts = await self.store.counts(broadcast.id)
        duration = None
        if broadcast.started_at is not None and broadcast.finished_at is not None:
            duration = broadcast.finished_at - broadcast.started_at
        text = status_text(
            self.tr,
            self.tz,
            broadcast,
            counts,
            duration=duration,
            waiting=self.outage.closed(self.clock.now()),
        )
        if self._edited.get(broadcast.id) == text:
            return
        try:
            await self.bot.edit_message_text(
                text, chat_id=broadcast.status_chat_id, message_id=broadcast.status_message_id
            )
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning("Could not edit a broadcast's status message: %s", error.message)
                return
        except TelegramError:
            log.warning("Could not edit a broadcast's status message", exc_info=True)
            return
        self._edited[broadcast.id] = text
        if broadcast.status in ("done", "cancelled"):
            self._edited.pop(broadcast.id, None)


def _log_failure(task: asyncio.Task[None]) -> None:
    """Log a drain that ended with an error; the next wake-up starts a fresh one."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("The broadcast runner failed:\n%s", describe_without_messages(error))
        log.debug("The broadcast runner failed", exc_info=error)
