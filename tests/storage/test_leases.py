"""Leases on rows in flight: recovery takes back only what no live process holds."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from storage.leases import LEASE_DURATION, Lease, owner_is_dead
from storage.outbox import OutboxStore
from storage.reminders import ReminderStore
from tests.storage.planning import (
    CHAT,
    KARLSRUHE,
    NOW,
    berlin,
    crashed_lease,
    event_sub,
    load_catalog,
    subscription_store,
)

if TYPE_CHECKING:
    from storage.db import Database
    from storage.subscriptions import SubscriptionStore


@pytest.fixture
async def subs(db: Database) -> SubscriptionStore:
    """Return the subscription store (catalog imported)."""
    await load_catalog(db)
    return subscription_store(db)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """Return the current test time."""
        return self.now


PAYLOAD = {"event": "x", "change": "cancelled"}


async def test_live_rows_are_kept_until_their_lease_ends(
    db: Database, subs: SubscriptionStore
) -> None:
    """A second process never takes back the rows of a live one; an expired lease it does."""
    clock = Clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    # Another process of this host that is alive (this test's own pid, another owner id).
    live = Lease(owner=f"{socket.gethostname()}:{os.getpid()}:first", clock=clock)
    second = Lease(clock=clock)
    first_store, second_store = OutboxStore(db, lease=live), OutboxStore(db, lease=second)
    await first_store.enqueue_notice([CHAT], PAYLOAD, now=clock())
    (item,) = await first_store.due(clock())
    assert await first_store.claim(item.id)
    row = await db.fetchone("SELECT claimed_by, lease_until FROM outbox WHERE id = ?", (item.id,))
    assert row is not None
    assert row["claimed_by"] == live.owner
    assert row["lease_until"] == (clock() + LEASE_DURATION).isoformat(timespec="seconds")

    assert await second_store.recover_in_flight() == 0
    # The live process renews its lease while it runs, so time passing changes nothing.
    clock.now += LEASE_DURATION - timedelta(seconds=5)
    assert await first_store.renew_leases() == 1
    clock.now += timedelta(seconds=30)
    assert await second_store.recover_in_flight() == 0
    # It stops renewing (hangs, or runs on another host and died): the lease runs out.
    clock.now += LEASE_DURATION
    assert await second_store.recover_in_flight() == 1
    assert [i.id for i in await second_store.due(clock())] == [item.id]


async def test_own_rows_are_never_recovered(db: Database, subs: SubscriptionStore) -> None:
    """A process never takes back its own rows, however old their lease."""
    clock = Clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    lease = Lease(clock=clock)
    store = OutboxStore(db, lease=lease)
    await store.enqueue_notice([CHAT], PAYLOAD, now=clock())
    (item,) = await store.due(clock())
    assert await store.claim(item.id)
    clock.now += 10 * LEASE_DURATION
    assert await store.recover_in_flight() == 0


async def test_rows_of_a_dead_process_come_back_at_once(
    db: Database, subs: SubscriptionStore
) -> None:
    """A crashed process of this host: its rows are pending again without waiting."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    crashed = ReminderStore(db, lease=crashed_lease())
    restarted = ReminderStore(db)
    (due,) = (await restarted.due(berlin(2027, 3, 17, 10, 0)))[:1]
    assert await crashed.claim(due.id)
    assert await restarted.recover_in_flight() == 1
    assert (await restarted.due(berlin(2027, 3, 17, 10, 0)))[0].id == due.id


async def test_rows_claimed_before_leases_existed(db: Database, subs: SubscriptionStore) -> None:
    """A row left 'sending' by a version without leases has no owner: it comes back."""
    store = OutboxStore(db)
    await store.enqueue_notice([CHAT], PAYLOAD, now=NOW)
    await db.execute("UPDATE outbox SET status = 'sending'")
    assert await store.recover_in_flight() == 1


def test_owner_is_dead() -> None:
    """Only a definite 'no such process' on this host counts as dead."""
    host = socket.gethostname()
    assert owner_is_dead(crashed_lease().owner)
    assert not owner_is_dead(f"{host}:{os.getpid()}:x")
    assert not owner_is_dead(f"elsewhere.example:{os.getpid() + 999_999}:x")
    assert not owner_is_dead("garbage")
