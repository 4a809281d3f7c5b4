"""Reminder rows: moves and notices on imports, the dispatcher's side, planning properties."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.schedule import Lead, due_reminders
from storage.db import Database
from storage.importer import bundled_files
from storage.migrations import migrate
from storage.outbox import OutboxStore
from storage.reminders import ReminderStore, load_events, plan_event
from storage.subscriptions import Subscription, SubscriptionStore, covers
from tests.storage.planning import (
    BERLIN,
    CHAT,
    DEMO_MEETINGS,
    KARLSRUHE,
    LAGO,
    LAGO_MEETING,
    MEETINGS,
    NEWS,
    NOW,
    OTHER,
    PRESS,
    ULM,
    WEEKLY,
    berlin,
    crashed_lease,
    event_sub,
    load_catalog,
    one_event,
    subscription_store,
    utc,
)

if TYPE_CHECKING:
    from datetime import datetime

    from storage.catalog import CatalogStore

DEMO_TEXT = bundled_files()[1].read_text(encoding="utf-8")
THIRD = 1003


def demo_with(old: str, new: str) -> str:
    """Return the demo file with one snippet replaced."""
    assert DEMO_TEXT.count(old) == 1, old
    return DEMO_TEXT.replace(old, new)


MOVED_LATER = demo_with(
    "date = 2027-03-18\nstart = 2027-03-18T10:00:00\nend = 2027-03-18T16:00:00",
    "date = 2027-03-25\nstart = 2027-03-25T10:00:00\nend = 2027-03-25T16:00:00",
)
ONE_HOUR_LATER = demo_with("start = 2027-03-18T10:00:00", "start = 2027-03-18T11:00:00")
DAY_EARLIER_EVENING = demo_with(
    "date = 2027-03-18\nstart = 2027-03-18T10:00:00\nend = 2027-03-18T16:00:00",
    "date = 2027-03-17\nstart = 2027-03-17T18:00:00\nend = 2027-03-17T20:00:00",
)
NEW_PLACE = demo_with('city = "Karlsruhe"', 'city = "Ettlingen"')
CANCELLED = demo_with(
    'status = "planned"\ndate = 2027-03-18', 'status = "cancelled"\ndate = 2027-03-18'
)


@pytest.fixture
async def catalog(db: Database) -> CatalogStore:
    """Return the catalog store with the bundled, demo and hosted events imported."""
    return await load_catalog(db)


@pytest.fixture
def subs(db: Database, catalog: CatalogStore) -> SubscriptionStore:
    """Return the subscription store (catalog imported)."""
    return subscription_store(db)


@pytest.fixture
def reminders(db: Database) -> ReminderStore:
    """Return the reminder store."""
    return ReminderStore(db)


@pytest.fixture
def outbox(db: Database) -> OutboxStore:
    """Return the outbox store."""
    return OutboxStore(db)


async def rows(db: Database, event_id: str = KARLSRUHE) -> dict[tuple[int, str], tuple[str, str]]:
    """Return an event's rows as {(chat, lead): (status, due_at)}."""
    found = await db.fetchall(
        "SELECT chat_id, lead, status, due_at FROM reminders WHERE event_id = ?", (event_id,)
    )
    return {(r["chat_id"], r["lead"]): (r["status"], r["due_at"]) for r in found}


async def send(reminders: ReminderStore, now: datetime) -> list[tuple[int, str, Lead]]:
    """Send everything due by ``now`` as a dispatcher would; return what was sent."""
    sent = []
    for due in await reminders.due(now):
        assert await reminders.claim(due.id)
        assert await reminders.mark_sent(due.id, now=now)
        sent.append((due.chat_id, due.event_id, due.lead))
    return sent


# --- imports of changed events ------------------------------------------------------------


async def test_time_change_moves_pending_rows(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore, outbox: OutboxStore
) -> None:
    """One hour later: both rows move one hour; nobody was reminded, so no notice."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    report = await catalog.import_text(ONE_HOUR_LATER, name="demo.toml", now=NOW)
    assert report.changed_events == (KARLSRUHE,)
    assert await rows(db) == {
        (CHAT, "1d"): ("pending", "2027-03-17T10:00:00+00:00"),
        (CHAT, "2h"): ("pending", "2027-03-18T08:00:00+00:00"),
    }
    assert await outbox.due(NOW) == []


async def test_a_move_starts_a_waiting_retry_over(
    db: Database,
    catalog: CatalogStore,
    subs: SubscriptionStore,
    reminders: ReminderStore,
) -> None:
    """A reminder waiting for its next try after an outage is a fresh one once it moves."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    due = berlin(2027, 3, 17, 10, 0)
    first = (await reminders.due(due))[0]
    assert await reminders.claim(first.id)
    later = due + timedelta(minutes=5)
    assert await reminders.retry(first.id, at=later, error="NetworkError at host")
    assert await reminders.due(due) == []
    assert await reminders.next_due(after=due) == later
    await catalog.import_text(ONE_HOUR_LATER, name="demo.toml", now=NOW)
    row = await db.fetchone(
        "SELECT status, due_at, next_attempt_at FROM reminders WHERE id = ?", (first.id,)
    )
    assert row is not None
    assert tuple(row) == ("pending", "2027-03-17T10:00:00+00:00", None)


async def test_reschedule_resets_sent_rows_and_notifies(
    db: Database,
    catalog: CatalogStore,
    subs: SubscriptionStore,
    reminders: ReminderStore,
    outbox: OutboxStore,
) -> None:
    """After the 1-day reminder went out the event moves a week: notice now, fresh reminders."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    await subs.subscribe(OTHER, event_sub(KARLSRUHE), now=NOW)
    await subs.subscribe(THIRD, LAGO, now=NOW)  # not following Karlsruhe at all
    sent_at = berlin(2027, 3, 17, 10, 0)
    assert sorted(await send(reminders, sent_at)) == [
        (CHAT, KARLSRUHE, Lead.DAY),
        (OTHER, KARLSRUHE, Lead.DAY),
    ]
    later = berlin(2027, 3, 17, 11, 0)
    await catalog.import_text(MOVED_LATER, name="demo.toml", now=later)
    assert await rows(db) == {
        (chat, lead): ("pending", due)
        for chat in (CHAT, OTHER)
        for lead, due in (("1d", "2027-03-24T09:00:00+00:00"), ("2h", "2027-03-25T07:00:00+00:00"))
    }
    notices = await outbox.due(later)
    assert sorted(n.chat_id for n in notices) == [CHAT, OTHER]
    payload = notices[0].payload
    assert payload["event_id"] == KARLSRUHE
    assert payload["kind"] == "changed"
    assert payload["changed"] == ["date", "time"]
    assert payload["old"]["date"] == "2027-03-18"
    assert payload["old"]["start"] == "2027-03-18T09:00:00+00:00"
    assert payload["new"]["date"] == "2027-03-25"
    assert payload["old"]["city"] == "Karlsruhe"
    # The fresh reminders go out before the new date, once.
    assert len(await send(reminders, berlin(2027, 3, 24, 10, 0))) == 2
    assert await send(reminders, berlin(2027, 3, 24, 10, 0)) == []


async def test_moved_into_the_past_drops_pending(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """Moved to this evening: the unsent 1-day reminder's new time has passed: dropped."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    morning = berlin(2027, 3, 17, 9, 30)
    await catalog.import_text(DAY_EARLIER_EVENING, name="demo.toml", now=morning)
    assert await rows(db) == {
        (CHAT, "1d"): ("dropped", "2027-03-17T09:00:00+00:00"),
        (CHAT, "2h"): ("pending", "2027-03-17T15:00:00+00:00"),
    }


async def test_place_change_keeps_owed_rows_and_notifies_the_reminded(
    db: Database,
    catalog: CatalogStore,
    subs: SubscriptionStore,
    reminders: ReminderStore,
    outbox: OutboxStore,
) -> None:
    """A row that came due while the bot was down stays owed; a new place is a notice."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    down = berlin(2027, 3, 17, 12, 0)
    await catalog.import_text(NEW_PLACE, name="demo.toml", now=down)
    assert (await rows(db))[(CHAT, "1d")] == ("pending", "2027-03-17T09:00:00+00:00")
    assert await outbox.due(down) == []  # nobody reminded yet, nobody follows the event
    assert await send(reminders, down) == [(CHAT, KARLSRUHE, Lead.DAY)]
    await catalog.import_text(DEMO_TEXT, name="demo.toml", now=down)
    (notice,) = await outbox.due(down)
    assert notice.payload["changed"] == ["place"]
    assert notice.payload["old"]["city"] == "Ettlingen"
    assert notice.payload["new"]["city"] == "Karlsruhe"


async def test_cancellation_drops_pending_and_notifies(
    db: Database,
    catalog: CatalogStore,
    subs: SubscriptionStore,
    reminders: ReminderStore,
    outbox: OutboxStore,
) -> None:
    """Cancelled: pending rows are dropped; the reminded and the event's followers are told."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)  # reminded below
    await subs.subscribe(OTHER, event_sub(KARLSRUHE), now=NOW)
    await subs.set_leads(OTHER, [Lead.HOURS_2], now=NOW)  # follows, not yet reminded
    await subs.subscribe(THIRD, MEETINGS, now=NOW)
    await subs.set_leads(THIRD, [Lead.HOURS_2], now=NOW)  # neither: no notice
    assert await send(reminders, berlin(2027, 3, 17, 10, 0)) == [(CHAT, KARLSRUHE, Lead.DAY)]
    later = berlin(2027, 3, 17, 11, 0)
    await catalog.import_text(CANCELLED, name="demo.toml", now=later)
    assert {key: status for key, (status, _) in (await rows(db)).items()} == {
        (CHAT, "1d"): "sent",
        (CHAT, "2h"): "dropped",
        (OTHER, "2h"): "dropped",
        (THIRD, "2h"): "dropped",
    }
    notices = await outbox.due(later)
    assert sorted(n.chat_id for n in notices) == [CHAT, OTHER]
    assert {n.payload["kind"] for n in notices} == {"cancelled"}
    # A file that still lists it as planned does not revive it: it stays cancelled.
    report = await catalog.import_text(DEMO_TEXT, name="demo.toml", now=later)
    assert report.skipped == ((KARLSRUHE, "status"),)
    kept = {key: status for key, (status, _) in (await rows(db)).items()}
    assert kept[(CHAT, "2h")] == kept[(OTHER, "2h")] == "dropped"
    # Taking place after all (forced): the dropped rows still ahead come back, with a notice.
    await catalog.import_text(DEMO_TEXT, name="demo.toml", now=later, force=True)
    assert {key: status for key, (status, _) in (await rows(db)).items()} == {
        (CHAT, "1d"): "sent",
        (CHAT, "2h"): "pending",
        (OTHER, "2h"): "pending",
        (THIRD, "2h"): "pending",
    }
    reinstated = [n for n in await outbox.due(later) if n.payload["kind"] == "changed"]
    assert [n.payload["changed"] for n in reinstated] == [["status"], ["status"]]


async def test_event_added_shortly_before_start(
    catalog: CatalogStore, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """An event imported 2 hours before it starts gets no reminder at all, not a stale one."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    moment = berlin(2027, 2, 1, 12, 0)
    text = one_event("gleich", moment.replace(hour=14))
    await catalog.import_text(text, name="gleich.toml", now=moment)
    assert [r for r in await reminders.pending_for(CHAT) if r.event_id == "gleich"] == []


async def test_plan_event_returns_rows_written(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """Planning an event already planned writes nothing; the count says so."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    event = (await load_events(db, [KARLSRUHE]))[KARLSRUHE]
    async with db.transaction():
        assert await plan_event(db, event, now=NOW, tz=BERLIN) == 0


# --- the dispatcher's side ----------------------------------------------------------------


async def test_claim_is_atomic_and_recover(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Only one claim wins; a crash leaves 'sending', start-up puts it back, once."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    first = (await reminders.due(berlin(2027, 3, 17, 10, 0)))[0]
    crashed = ReminderStore(db, lease=crashed_lease())
    assert await crashed.claim(first.id)
    assert not await reminders.claim(first.id)
    assert await reminders.due(berlin(2027, 3, 17, 10, 0)) == []
    assert await reminders.recover_in_flight() == 1
    assert await reminders.recover_in_flight() == 0
    assert await reminders.due(berlin(2027, 3, 17, 10, 0)) == [first]
    assert await reminders.claim(first.id)
    assert await reminders.release(first.id)
    assert not await reminders.release(first.id)
    assert await reminders.claim(first.id)
    assert await reminders.mark_sent(first.id, now=berlin(2027, 3, 17, 10, 0))
    row = await db.fetchone(
        "SELECT status, attempts, sent_at FROM reminders WHERE id = ?", (first.id,)
    )
    assert row is not None
    assert tuple(row) == ("sent", 3, "2027-03-17T09:00:00+00:00")
    assert await reminders.recover_in_flight() == 0


async def test_due_respects_now_and_skips_blocked(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Due means pending, due by now, for an active chat; earliest first."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    await subs.subscribe(OTHER, event_sub(ULM), now=NOW)
    assert await reminders.due(utc(2027, 3, 17, 8, 59)) == []
    (day,) = await reminders.due(utc(2027, 3, 17, 9, 0))
    assert (day.chat_id, day.event_id, day.lead, day.due_at) == (
        CHAT,
        KARLSRUHE,
        Lead.DAY,
        utc(2027, 3, 17, 9, 0),
    )
    assert await reminders.next_due() == utc(2027, 3, 17, 9, 0)
    everything = await reminders.due(utc(2027, 12, 1, 0, 0))
    assert [r.due_at for r in everything] == sorted(r.due_at for r in everything)
    assert len(everything) == 4
    assert len(await reminders.due(utc(2027, 12, 1, 0, 0), limit=3)) == 3
    # Blocked by another process between planning and sending: the rows are not due.
    await db.execute("UPDATE subscribers SET status = 'blocked' WHERE chat_id = ?", (CHAT,))
    assert {r.chat_id for r in await reminders.due(utc(2027, 12, 1, 0, 0))} == {OTHER}
    assert await reminders.next_due() == utc(2027, 6, 23, 8, 0)


async def test_dropped_and_failed(subs: SubscriptionStore, reminders: ReminderStore) -> None:
    """Dropped and failed rows are done: never due again."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    day, hours = await reminders.due(utc(2027, 3, 18, 12, 0))
    assert await reminders.mark_dropped(day.id, "begun")
    assert await reminders.claim(hours.id)
    assert await reminders.mark_failed(hours.id, error="400 Bad Request")
    assert not await reminders.mark_failed(hours.id)
    assert await reminders.due(utc(2027, 3, 18, 12, 0)) == []
    assert await reminders.next_due() is None


# --- property: incremental planning equals planning from scratch --------------------------

CHATS = (CHAT, OTHER)
SUBSCRIPTIONS: list[Subscription] = [
    MEETINGS,
    NEWS,
    WEEKLY,
    LAGO,
    event_sub(KARLSRUHE),
    event_sub(ULM),
    event_sub(PRESS),
    event_sub(LAGO_MEETING),
]
operations = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["subscribe", "unsubscribe", "toggle"]),
            st.sampled_from(CHATS),
            st.sampled_from(SUBSCRIPTIONS),
        ),
        st.tuples(
            st.just("leads"),
            st.sampled_from(CHATS),
            st.sets(st.sampled_from(list(Lead))).map(tuple),
        ),
        st.tuples(st.sampled_from(["stop", "undo"]), st.sampled_from(CHATS), st.none()),
    ),
    max_size=12,
)
# A few moments, one after another: operations run at non-decreasing times.
MOMENTS = (NOW, berlin(2027, 3, 11, 9, 30), berlin(2027, 3, 17, 12, 0), berlin(2027, 4, 8, 12, 30))


async def run_operations(ops: list[tuple[str, int, Any]], moment: datetime) -> None:
    """Apply the operations on a fresh database, then compare with a from-scratch plan."""
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "p.sqlite3")
        try:
            await migrate(db)
            await load_catalog(db)
            store = subscription_store(db)
            for action, chat, arg in ops:
                if action == "subscribe":
                    await store.subscribe(chat, arg, now=moment)
                elif action == "unsubscribe":
                    await store.unsubscribe(chat, arg, now=moment)
                elif action == "toggle":
                    await store.toggle(chat, arg, now=moment)
                elif action == "leads":
                    await store.set_leads(chat, arg, now=moment)
                elif action == "stop":
                    await store.stop_all(chat, now=moment)
                else:
                    await store.undo_stop(chat, now=moment)
            events = (await load_events(db)).values()
            reminders = ReminderStore(db)
            for chat in CHATS:
                subscriber = await store.get(chat)
                expected = set()
                if subscriber is not None:
                    for event in events:
                        if event.status == "cancelled" or not any(
                            covers(s, event) for s in subscriber.subscriptions
                        ):
                            continue
                        planned = due_reminders(
                            event, subscriber.leads, subscriber.quiet, BERLIN, now=moment
                        )
                        expected |= {(event.id, lead, due) for lead, due in planned.items()}
                actual = {
                    (r.event_id, r.lead, r.due_at) for r in await reminders.pending_for(chat)
                }
                assert actual == expected
        finally:
            await db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.sampled_from(MOMENTS))
def test_incremental_planning_equals_plan_from_scratch(
    ops: list[tuple[str, int, Any]], moment: datetime
) -> None:
    """Any sequence of changes leaves exactly the pending rows a fresh plan would give."""
    # Subscribing to an event already over is refused (tested elsewhere): leave those out.
    asyncio.run(run_operations([op for op in ops if not refused(op, moment)], moment))


def refused(op: tuple[str, int, Any], moment: datetime) -> bool:
    """Tell whether an operation switches on an event subscription that cannot be made."""
    action, _, arg = op
    if action not in ("subscribe", "toggle") or not isinstance(arg, Subscription):
        return False
    starts = {KARLSRUHE: berlin(2027, 3, 18, 10), ULM: berlin(2027, 6, 24, 10)}
    starts |= {PRESS: berlin(2027, 4, 8, 14), LAGO_MEETING: berlin(2027, 5, 6, 18)}
    return arg.target in starts and starts[arg.target] <= moment


def test_demo_meetings_are_known() -> None:
    """The property test's event ids exist in the demo file."""
    for event_id in DEMO_MEETINGS:
        assert event_id in DEMO_TEXT
