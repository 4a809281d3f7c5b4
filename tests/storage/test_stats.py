"""Read-only statistics: the gauges, the oldest due row, the admins' report."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from storage.codecs import utc_text
from storage.stats import count_question, gauges, oldest_due_seconds, report
from storage.subscriptions import Subscription, SubscriptionStore, Topic
from tests.conftest import BERLIN, TODAY

if TYPE_CHECKING:
    from storage.catalog import CatalogStore
    from storage.db import Database


async def test_report_counts_reminders_questions_and_subscribers(
    db: Database, store: CatalogStore
) -> None:
    """Sent, late and failed reminders of 30 days; questions by outcome; topics; new ones."""
    await store.load_bundled(include_demo=True, now=TODAY, tz=BERLIN)
    subscriptions = SubscriptionStore(db, tz=BERLIN, default_quiet=None)
    for chat in (1, 2, 3):
        await subscriptions.subscribe(chat, Subscription(Topic.MEETINGS), now=TODAY)
    await subscriptions.mark_blocked(3, now=TODAY)
    rows = await db.fetchall("SELECT id FROM reminders WHERE chat_id IN (1, 2) ORDER BY id")
    assert len(rows) >= 3
    due = TODAY - timedelta(days=2)
    first, second, third = (int(r["id"]) for r in rows[:3])
    for reminder_id, status, delay in (
        (first, "sent", timedelta(seconds=5)),
        (second, "sent", timedelta(minutes=5)),
        (third, "failed", None),
    ):
        await db.execute(
            "UPDATE reminders SET status = ?, due_at = ?, sent_at = ? WHERE id = ?",
            (status, utc_text(due), utc_text(due + delay) if delay else None, reminder_id),
        )
    await count_question(db, "answered", now=TODAY)
    await count_question(db, "answered", now=TODAY)
    await count_question(db, "unknown", now=TODAY)
    await count_question(db, "unknown", now=TODAY - timedelta(days=40))  # outside the window
    numbers = await report(db, TODAY)
    assert (numbers.reminders_sent, numbers.reminders_late, numbers.reminders_failed) == (2, 1, 1)
    assert (numbers.questions_answered, numbers.questions_unknown) == (2, 1)
    assert numbers.chats == {"active": 2, "blocked": 1}
    assert numbers.subscribers_by_topic == {"meetings": 2}
    assert (numbers.new, numbers.stopped) == (3, 1)
    assert numbers.circulars == ()


async def test_oldest_due_ignores_future_and_blocked_rows(
    db: Database, store: CatalogStore
) -> None:
    """Only due rows of active subscribers count; nothing due is 0."""
    await store.load_bundled(include_demo=True, now=TODAY, tz=BERLIN)
    subscriptions = SubscriptionStore(db, tz=BERLIN, default_quiet=None)
    await subscriptions.subscribe(1, Subscription(Topic.MEETINGS), now=TODAY)
    assert await oldest_due_seconds(db, TODAY) == 0
    row = await db.fetchone("SELECT MIN(due_at) FROM reminders WHERE chat_id = 1")
    assert row is not None
    later = TODAY + timedelta(days=400)
    age = await oldest_due_seconds(db, later)
    assert age > 0
    await subscriptions.mark_blocked(1, now=TODAY)  # their pending rows are deleted
    assert await oldest_due_seconds(db, later) == 0
    numbers = await gauges(db, TODAY)
    assert numbers.chats == {"blocked": 1}
