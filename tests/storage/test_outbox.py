"""The outbox: weekly dedupe, due rows, claims, outcomes and crash recovery."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from storage.outbox import OutboxStore, enqueue
from tests.storage.planning import (
    CHAT,
    NOW,
    OTHER,
    WEEKLY,
    crashed_lease,
    load_catalog,
    subscription_store,
)

if TYPE_CHECKING:
    from storage.db import Database
    from storage.subscriptions import SubscriptionStore

THIRD = 1003
PAYLOAD: dict[str, Any] = {
    "event_id": "x",
    "kind": "changed",
    "changed": ["place"],
    "old": None,
    "new": {},
}


@pytest.fixture
def outbox(db: Database) -> OutboxStore:
    """Return the outbox store."""
    return OutboxStore(db)


@pytest.fixture
async def subs(db: Database) -> SubscriptionStore:
    """Return the subscription store (catalog imported)."""
    await load_catalog(db)
    return subscription_store(db)


async def test_weekly_once_per_week(outbox: OutboxStore) -> None:
    """A second run in the same week adds nothing; the next week adds again."""
    assert await outbox.enqueue_weekly([CHAT, OTHER, CHAT], week_key="2026-W48", now=NOW) == 2
    assert await outbox.enqueue_weekly([CHAT, OTHER, THIRD], week_key="2026-W48", now=NOW) == 1
    assert await outbox.enqueue_weekly([CHAT], week_key="2026-W49", now=NOW) == 1
    items = await outbox.due(NOW)
    assert len(items) == 4
    assert {(i.kind, i.chat_id) for i in items} == {
        ("weekly", CHAT),
        ("weekly", OTHER),
        ("weekly", THIRD),
    }
    assert items[0].payload == {"week": "2026-W48"}
    assert await outbox.enqueue_weekly([], week_key="2026-W50", now=NOW) == 0


async def test_due_respects_now_and_blocked_recipients(
    outbox: OutboxStore, subs: SubscriptionStore
) -> None:
    """Rows are due from their time on; a blocked subscriber's rows are skipped for good."""
    await subs.subscribe(CHAT, WEEKLY, now=NOW)
    await subs.subscribe(OTHER, WEEKLY, now=NOW)
    await outbox.enqueue_weekly(await subs.weekly_subscribers(), week_key="w", now=NOW)
    await outbox.enqueue_notice([THIRD], PAYLOAD, now=NOW)  # not a subscriber: still sent
    assert await outbox.due(NOW - timedelta(seconds=1)) == []
    assert await outbox.next_due() == NOW
    assert await subs.mark_blocked(CHAT, now=NOW)
    assert sorted(i.chat_id for i in await outbox.due(NOW)) == [OTHER, THIRD]
    await subs.mark_active(CHAT, now=NOW)
    assert sorted(i.chat_id for i in await outbox.due(NOW)) == [OTHER, THIRD]
    assert await subs.weekly_subscribers() == [CHAT, OTHER]
    assert await outbox.enqueue_weekly([CHAT], week_key="w", now=NOW) == 0


async def test_claim_outcomes_and_release(outbox: OutboxStore) -> None:
    """Only one claim wins; a released row comes back later, counted; outcomes are final."""
    await outbox.enqueue_notice([CHAT, OTHER, THIRD], PAYLOAD, now=NOW)
    first, second, third = await outbox.due(NOW)
    assert first.payload == PAYLOAD
    assert await outbox.claim(first.id)
    assert not await outbox.claim(first.id)
    retry = NOW + timedelta(seconds=30)
    assert await outbox.release(first.id, error="429", retry_at=retry)
    assert [i.id for i in await outbox.due(NOW)] == [second.id, third.id]
    (again,) = [i for i in await outbox.due(retry) if i.id == first.id]
    assert again.attempts == 1
    assert await outbox.claim(first.id)
    assert await outbox.mark_sent(first.id, now=retry)
    assert not await outbox.mark_sent(first.id, now=retry)
    assert await outbox.claim(second.id)
    assert await outbox.mark_blocked(second.id)
    assert await outbox.mark_failed(third.id, error="400")
    assert await outbox.due(retry) == []
    assert await outbox.next_due() is None


async def test_retry_keeps_the_first_failure_and_give_up_is_final(
    db: Database, outbox: OutboxStore
) -> None:
    """A transient failure makes the row due again later; the first failure's time stays."""
    await outbox.enqueue_notice([CHAT], PAYLOAD, now=NOW)
    (item,) = await outbox.due(NOW)
    assert item.first_failed_at is None
    assert await outbox.claim(item.id)
    five = NOW + timedelta(seconds=5)
    assert await outbox.retry(item.id, at=five, now=NOW, error="NetworkError at host")
    assert not await outbox.retry(item.id, at=five, now=NOW, error="x"), "not claimed"
    assert await outbox.due(five - timedelta(seconds=1)) == []
    assert await outbox.next_due(after=NOW) == five
    (again,) = await outbox.due(five)
    assert (again.attempts, again.first_failed_at) == (1, NOW)
    assert await outbox.claim(again.id)
    later = five + timedelta(seconds=15)
    assert await outbox.retry(again.id, at=later, now=five, error="TimedOut at host")
    (third,) = await outbox.due(later)
    assert (third.attempts, third.first_failed_at) == (2, NOW)
    assert await outbox.claim(third.id)
    assert await outbox.give_up(third.id, now=later, error="NetworkError at host")
    assert await outbox.due(later + timedelta(days=2)) == []
    row = await db.fetchone(
        "SELECT status, attempts, last_error, gave_up_at FROM outbox WHERE id = ?", (item.id,)
    )
    assert row is not None
    assert tuple(row) == ("failed", 3, "NetworkError at host", "2026-11-26T09:00:20+00:00")


async def test_recover_in_flight(db: Database, outbox: OutboxStore) -> None:
    """After a crash every row that was in flight goes out again (at least once)."""
    crashed = OutboxStore(db, lease=crashed_lease())
    await outbox.enqueue_notice([CHAT], PAYLOAD, now=NOW)
    async with db.transaction():
        await enqueue(
            db, [OTHER], "broadcast", {"broadcast": 1}, now=NOW, dedupe_key="b:{chat_id}"
        )
        # Enqueuing a broadcast twice (a resumed job) adds nothing.
        assert (
            await enqueue(
                db, [OTHER], "broadcast", {"broadcast": 1}, now=NOW, dedupe_key="b:{chat_id}"
            )
            == 0
        )
    for item in await outbox.due(NOW):
        assert await crashed.claim(item.id)
    assert await outbox.recover_in_flight() == 2
    assert await outbox.recover_in_flight() == 0
    notice, broadcast = await outbox.due(NOW)
    assert (notice.chat_id, notice.attempts) == (CHAT, 1)
    assert (broadcast.chat_id, broadcast.attempts) == (OTHER, 1)
    statuses = await db.fetchall("SELECT kind, status FROM outbox ORDER BY id")
    assert [tuple(r) for r in statuses] == [("notice", "pending"), ("broadcast", "pending")]
    assert await outbox.claim(notice.id)
    assert await outbox.mark_unknown(notice.id)


async def test_pending_for_and_payload_must_be_json(db: Database, outbox: OutboxStore) -> None:
    """A chat's pending rows list in order; the table refuses a payload that is not JSON."""
    await outbox.enqueue_notice([CHAT], PAYLOAD, now=NOW)
    await outbox.enqueue_notice([CHAT], {**PAYLOAD, "changed": ["time"]}, now=NOW)
    assert [i.payload["changed"] for i in await outbox.pending_for(CHAT)] == [["place"], ["time"]]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await db.execute(
            "INSERT INTO outbox (chat_id, kind, payload, due_at, created_at) "
            "VALUES (1, 'notice', 'kein json', 'x', 'x')"
        )


async def test_purge_deletes_only_finished_old_rows(db: Database, outbox: OutboxStore) -> None:
    """Sent, blocked and failed rows older than the cut-off go; pending ones stay."""
    await outbox.enqueue_notice([CHAT, OTHER, THIRD], PAYLOAD, now=NOW)
    first, second, third = await outbox.due(NOW)
    assert await outbox.claim(first.id)
    assert await outbox.mark_sent(first.id, now=NOW)
    assert await outbox.mark_failed(second.id, error="400")
    assert await outbox.purge(before=NOW) == 0, "not older than the cut-off"
    assert await outbox.purge(before=NOW + timedelta(days=1)) == 2
    assert [i.id for i in await outbox.due(NOW)] == [third.id]
