"""Subscriptions: what they cover, settings, /stopp and undo, blocking, the 0002 migration."""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.domain.schedule import DEFAULT_LEADS, DEFAULT_QUIET_HOURS, Lead, QuietHours
from storage.catalog import CatalogStore
from storage.db import Database
from storage.migrations import MIGRATIONS, applied_migrations, migrate
from storage.reminders import ReminderStore
from storage.subscriptions import Subscription, SubscriptionStore, Topic, UnknownTarget
from tests.storage.planning import (
    BERLIN,
    CHAT,
    DEMO_MEETINGS,
    KARLSRUHE,
    LAGO,
    LAGO_MEETING,
    MEETINGS,
    NETWORK,
    NEWS,
    NOW,
    OTHER,
    PRESS,
    ULM,
    WEEKLY,
    berlin,
    event_sub,
    load_catalog,
    one_event,
    subscription_store,
    utc,
)

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from bot.domain.models import Event


@pytest.fixture
async def subs(db: Database) -> SubscriptionStore:
    """Return the subscription store on a database with the catalog imported."""
    await load_catalog(db)
    return subscription_store(db)


@pytest.fixture
def reminders(db: Database) -> ReminderStore:
    """Return the reminder store."""
    return ReminderStore(db)


async def pending(
    reminders: ReminderStore, chat_id: int = CHAT
) -> set[tuple[str, Lead, datetime]]:
    """Return a chat's pending rows as (event, lead, due) triples."""
    return {(r.event_id, r.lead, r.due_at) for r in await reminders.pending_for(chat_id)}


async def events_pending(reminders: ReminderStore, chat_id: int = CHAT) -> set[str]:
    """Return the events a chat has pending rows for."""
    return {r.event_id for r in await reminders.pending_for(chat_id)}


async def test_subscribe_plans_every_lead_ahead(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """The Karlsruhe meeting (10:00 Berlin, CET) gets its 1-day and 2-hour reminders."""
    assert await subs.subscribe(CHAT, MEETINGS, now=NOW)
    rows = {(e, lead): due for e, lead, due in await pending(reminders)}
    assert rows[(KARLSRUHE, Lead.DAY)] == utc(2027, 3, 17, 9, 0)
    assert rows[(KARLSRUHE, Lead.HOURS_2)] == utc(2027, 3, 18, 7, 0)
    # Ulm is in summer time (CEST): 10:00 local is 08:00 UTC.
    assert rows[(ULM, Lead.DAY)] == utc(2027, 6, 23, 8, 0)
    assert len(rows) == 2 * 5
    subscriber = await subs.get(CHAT, now=NOW)
    assert subscriber is not None
    assert subscriber.leads == DEFAULT_LEADS
    assert subscriber.quiet == DEFAULT_QUIET_HOURS
    assert subscriber.status == "active"
    assert subscriber.subscriptions == {MEETINGS}
    assert not subscriber.stopped


async def test_meetings_cover_network_meetings_and_alliance_events(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """ "Meetings" covers the alliance-wide demo meetings and a network's meeting only."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    assert await events_pending(reminders) == {*DEMO_MEETINGS, LAGO_MEETING}


async def test_network_covers_its_hosted_events(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """A network subscription covers the network's events, press conferences included."""
    await subs.subscribe(CHAT, LAGO, now=NOW)
    assert await events_pending(reminders) == {PRESS, LAGO_MEETING}
    assert await subs.networks_followed(CHAT) == [NETWORK]


async def test_event_subscription_covers_that_event(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Following one event plans only that event."""
    assert await subs.subscribe(CHAT, event_sub(ULM), now=NOW)
    assert await events_pending(reminders) == {ULM}


async def test_news_and_weekly_create_no_reminders(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """News and the Monday preview alone plan nothing."""
    await subs.subscribe(CHAT, NEWS, now=NOW)
    await subs.subscribe(CHAT, WEEKLY, now=NOW)
    assert await reminders.pending_for(CHAT) == []
    assert await subs.weekly_subscribers() == [CHAT]


async def test_late_subscription_skips_stale_leads(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Subscribing after the 1-day time has passed plans only the 2-hour reminder."""
    late = berlin(2027, 3, 17, 12, 0)
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=late)
    assert await pending(reminders) == {(KARLSRUHE, Lead.HOURS_2, utc(2027, 3, 18, 7, 0))}


async def test_event_imported_shortly_before_start_gets_no_day_reminder(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """An event added 3 hours before it starts gets only its 2-hour reminder."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    later = berlin(2027, 1, 20, 9, 0)
    start = later + timedelta(hours=3)
    await CatalogStore(db).import_text(one_event("kurzfristig", start), name="k.toml", now=later)
    rows = {(lead, due) for e, lead, due in await pending(reminders) if e == "kurzfristig"}
    assert rows == {(Lead.HOURS_2, utc(2027, 1, 20, 9, 0))}


async def test_subscribe_twice_and_unknown_targets(subs: SubscriptionStore) -> None:
    """A second subscribe reports False; unknown networks and past events are refused."""
    assert await subs.subscribe(CHAT, LAGO, now=NOW)
    assert not await subs.subscribe(CHAT, LAGO, now=NOW)
    for target in (
        Subscription(Topic.NETWORK, "gibt-es-nicht"),
        event_sub("gibt-es-nicht"),
        event_sub("netzwerktreffen-4"),  # held in 2014
    ):
        with pytest.raises(UnknownTarget):
            await subs.subscribe(CHAT, target, now=NOW)
    with pytest.raises(ValueError, match="target"):
        Subscription(Topic.NETWORK)
    with pytest.raises(ValueError, match="target"):
        Subscription(Topic.NEWS, "x")


async def test_unsubscribe_removes_only_uncovered_rows(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """With network and meetings, dropping one keeps what the other still covers."""
    await subs.subscribe(CHAT, LAGO, now=NOW)
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    both = await pending(reminders)
    assert await subs.unsubscribe(CHAT, MEETINGS, now=NOW)
    assert await events_pending(reminders) == {PRESS, LAGO_MEETING}
    assert not await subs.unsubscribe(CHAT, MEETINGS, now=NOW)
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    assert await subs.unsubscribe(CHAT, LAGO, now=NOW)
    assert await events_pending(reminders) == {*DEMO_MEETINGS, LAGO_MEETING}
    await subs.subscribe(CHAT, LAGO, now=NOW)
    assert await pending(reminders) == both


async def test_toggle(subs: SubscriptionStore, reminders: ReminderStore) -> None:
    """Toggle switches on and off and reports the new state."""
    assert await subs.toggle(CHAT, event_sub(KARLSRUHE), now=NOW)
    assert await events_pending(reminders) == {KARLSRUHE}
    assert not await subs.toggle(CHAT, event_sub(KARLSRUHE), now=NOW)
    assert await reminders.pending_for(CHAT) == []
    with pytest.raises(UnknownTarget):
        await subs.toggle(CHAT, Subscription(Topic.NETWORK, "gibt-es-nicht"), now=NOW)


async def test_stop_all_and_undo(subs: SubscriptionStore, reminders: ReminderStore) -> None:
    """/stopp removes everything in one step; undo restores exactly that and re-plans."""
    everything = {LAGO, MEETINGS, NEWS, WEEKLY, event_sub(ULM)}
    for sub in everything:
        await subs.subscribe(CHAT, sub, now=NOW)
    await subs.set_leads(CHAT, [Lead.WEEK], now=NOW)
    before = await pending(reminders)
    assert await subs.stop_all(CHAT, now=NOW) == 5
    stopped = await subs.get(CHAT, now=NOW)
    assert stopped is not None
    assert stopped.subscriptions == frozenset()
    assert stopped.stopped
    assert stopped.leads == (Lead.WEEK,)  # settings stay
    assert await reminders.pending_for(CHAT) == []
    assert await subs.count_active() == 0
    # A second /stopp with nothing left keeps the undo.
    assert await subs.stop_all(CHAT, now=NOW) == 0
    assert await subs.undo_stop(CHAT, now=NOW) == 5
    restored = await subs.get(CHAT, now=NOW)
    assert restored is not None
    assert restored.subscriptions == everything
    assert not restored.stopped
    assert await pending(reminders) == before
    assert await subs.undo_stop(CHAT, now=NOW) == 0


async def test_undo_skips_events_now_over(
    subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Undo after an event is over restores the rest and plans only what lies ahead."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    assert await subs.stop_all(CHAT, now=NOW) == 2
    after = berlin(2027, 3, 19, 9, 0)
    assert await subs.undo_stop(CHAT, now=after) == 1
    subscriber = await subs.get(CHAT, now=after)
    assert subscriber is not None
    assert subscriber.subscriptions == {MEETINGS}
    assert KARLSRUHE not in await events_pending(reminders)


async def test_get_hides_events_that_are_over(subs: SubscriptionStore) -> None:
    """An event subscription is listed until the event has ended."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    during = berlin(2027, 3, 18, 15, 59)
    ended = berlin(2027, 3, 18, 16, 0)
    for moment, shown in ((during, True), (ended, False)):
        subscriber = await subs.get(CHAT, now=moment)
        assert subscriber is not None
        assert (event_sub(KARLSRUHE) in subscriber.subscriptions) is shown
    assert await subs.get(OTHER, now=NOW) is None


async def test_set_leads_replans(subs: SubscriptionStore, reminders: ReminderStore) -> None:
    """New lead times replace the pending rows with exact new values."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    await subs.set_leads(CHAT, [Lead.WEEK, Lead.WEEK], now=NOW)
    assert await pending(reminders) == {(KARLSRUHE, Lead.WEEK, utc(2027, 3, 11, 9, 0))}
    await subs.set_leads(CHAT, [], now=NOW)
    assert await reminders.pending_for(CHAT) == []
    await subs.set_leads(CHAT, list(Lead), now=NOW)
    assert len(await pending(reminders)) == 3
    subscriber = await subs.get(CHAT, now=NOW)
    assert subscriber is not None
    assert subscriber.leads == (Lead.WEEK, Lead.DAY, Lead.HOURS_2)


async def test_set_quiet_replans(subs: SubscriptionStore, reminders: ReminderStore) -> None:
    """Quiet hours 06:00-09:00 move the 2-hour reminder (08:00 local) to 09:00 local."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    await subs.set_quiet(CHAT, QuietHours(time(6, 0), time(9, 0)), now=NOW)
    assert await pending(reminders) == {
        (KARLSRUHE, Lead.DAY, utc(2027, 3, 17, 9, 0)),
        (KARLSRUHE, Lead.HOURS_2, utc(2027, 3, 18, 8, 0)),
    }
    subscriber = await subs.get(CHAT, now=NOW)
    assert subscriber is not None
    assert subscriber.quiet == QuietHours(time(6, 0), time(9, 0))
    await subs.set_quiet(CHAT, None, now=NOW)
    subscriber = await subs.get(CHAT, now=NOW)
    assert subscriber is not None
    assert subscriber.quiet is None
    assert (KARLSRUHE, Lead.HOURS_2, utc(2027, 3, 18, 7, 0)) in await pending(reminders)


async def test_settings_before_subscribing_create_the_subscriber(db: Database) -> None:
    """A new chat may choose settings first; without operator default there are no quiet hours."""
    await load_catalog(db)
    store = SubscriptionStore(db, tz=BERLIN, default_quiet=None)
    await store.set_leads(CHAT, [Lead.DAY], now=NOW)
    subscriber = await store.get(CHAT, now=NOW)
    assert subscriber is not None
    assert subscriber.quiet is None
    assert subscriber.leads == (Lead.DAY,)


async def test_blocked_and_back(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """A blocked chat loses its pending rows; /start re-plans only what lies ahead."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    await subs.subscribe(OTHER, event_sub(KARLSRUHE), now=NOW)
    assert await subs.mark_blocked(CHAT, now=NOW)
    assert not await subs.mark_blocked(CHAT, now=NOW)
    assert not await subs.mark_blocked(999, now=NOW)  # unknown chats are not recorded
    assert await reminders.pending_for(CHAT) == []
    assert await subs.followers_of_event(await event(db, KARLSRUHE)) == [OTHER]
    assert await subs.count_active() == 1
    blocked = await subs.get(CHAT, now=NOW)
    assert blocked is not None
    assert blocked.status == "blocked"
    assert blocked.subscriptions == {event_sub(KARLSRUHE)}
    back = berlin(2027, 3, 17, 12, 0)
    assert await subs.mark_active(CHAT, now=back)
    assert not await subs.mark_active(CHAT, now=back)
    assert await pending(reminders) == {(KARLSRUHE, Lead.HOURS_2, utc(2027, 3, 18, 7, 0))}


async def test_delete_chat(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Deleting a chat removes its settings, subscriptions, reminders and outbox rows."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    await db.execute(
        "INSERT INTO outbox (chat_id, kind, payload, due_at, created_at) "
        "VALUES (?, 'weekly', '{}', '2027', '2027')",
        (CHAT,),
    )
    assert await subs.delete_chat(CHAT)
    assert await subs.get(CHAT, now=NOW) is None
    assert await reminders.pending_for(CHAT) == []
    for table in ("subscriptions", "reminders", "outbox"):
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - test constant
        assert row is not None
        assert row[0] == 0
    assert not await subs.delete_chat(CHAT)


GROUP: Final = -1001500000001


async def test_group_and_channel_end(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """A group or channel that removed the bot: subscriptions, reminders, channel row end."""
    await subs.subscribe(GROUP, MEETINGS, now=NOW)
    assert await subs.connect_channel(GROUP, title="News", username="news", by=CHAT, now=NOW)
    assert not await subs.connect_channel(GROUP, title="Neu", username=None, by=CHAT, now=NOW)
    channel = await subs.channel(GROUP)
    assert channel is not None
    assert (channel.title, channel.username, channel.connected_by) == ("Neu", None, CHAT)
    assert [c.chat_id for c in await subs.channels()] == [GROUP]
    await db.execute(
        "INSERT INTO outbox (chat_id, kind, payload, due_at, created_at) "
        "VALUES (?, 'weekly', '{}', '2027', '2027')",
        (GROUP,),
    )
    assert await reminders.pending_for(GROUP) != []
    # A 403 from a group or channel ends it like the my_chat_member update does.
    assert await subs.mark_blocked(GROUP, now=NOW)
    assert await subs.get(GROUP) is None
    assert await subs.channel(GROUP) is None
    assert await reminders.pending_for(GROUP) == []
    row = await db.fetchone("SELECT status FROM outbox WHERE chat_id = ?", (GROUP,))
    assert row is not None
    assert row["status"] == "skipped"  # kept for reports, never sent
    assert not await subs.end_chat(GROUP)
    with pytest.raises(ValueError, match="negative"):
        await subs.connect_channel(CHAT, title="x", username=None, by=CHAT, now=NOW)


async def test_group_moves_to_its_supergroup(
    db: Database, subs: SubscriptionStore, reminders: ReminderStore
) -> None:
    """Subscriptions, settings, reminders and pending rows move to the new id, once."""
    old, new = -4001, -1004001
    await subs.subscribe(old, MEETINGS, now=NOW)
    await subs.set_leads(old, [Lead.DAY], now=NOW)
    planned = await pending(reminders, old)
    await db.execute(
        "INSERT INTO outbox (chat_id, kind, payload, due_at, created_at) "
        "VALUES (?, 'weekly', '{}', '2027', '2027')",
        (old,),
    )
    assert await subs.move_chat(old, new, now=NOW)
    assert await subs.get(old) is None
    moved = await subs.get(new)
    assert moved is not None
    assert (moved.subscriptions, moved.leads) == ({MEETINGS}, (Lead.DAY,))
    assert await pending(reminders, new) == planned
    row = await db.fetchone("SELECT chat_id FROM outbox")
    assert row is not None
    assert row[0] == new
    assert not await subs.move_chat(old, new, now=NOW)


async def event(db: Database, event_id: str) -> Event:
    """Return an event from the catalog."""
    found = (await CatalogStore(db).load()).event(event_id)
    assert found is not None
    return found


# Rows as the 0001 schema held them (written by the previous version of the bot).
OLD_ROWS: Final = (
    """INSERT INTO networks (slug, position, name, short_name, name_is_placeholder, city,
        region, description, membership)
    VALUES ('cyberlago', 0, 'cyberLAGO', 'cyberLAGO', 0, 'Konstanz', 'Bodensee', '-',
        'confirmed')""",
    """INSERT INTO events (id, fictional, kind, title, description, status, date, starts_at)
    VALUES ('alt', 1, 'network_meeting', 'Alt', '-', 'planned', '2027-03-18',
        '2027-03-18T09:00:00+00:00')""",
    "INSERT INTO event_hosts (event_id, position, name, network_slug) "
    "VALUES ('alt', 0, 'cyberLAGO', 'cyberlago')",
)


async def test_upgrade_from_catalog_schema(tmp_path: Path) -> None:
    """A database at 0001 with data gets 0002 and keeps its catalog; subscribing works."""
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        assert await migrate(db, MIGRATIONS[:1]) == ["0001_catalog"]
        for statement in OLD_ROWS:
            await db.execute(statement)
        store = CatalogStore(db)
        before = await store.load()
        assert await migrate(db, MIGRATIONS[:2]) == ["0002_subscriptions"]
        assert await applied_migrations(db) == ["0001_catalog", "0002_subscriptions"]
        assert await store.load() == before
        subs = subscription_store(db)
        assert await subs.subscribe(CHAT, LAGO, now=NOW)
        assert await pending(ReminderStore(db)) == {
            ("alt", Lead.DAY, utc(2027, 3, 17, 9, 0)),
            ("alt", Lead.HOURS_2, utc(2027, 3, 18, 7, 0)),
        }
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        assert await migrate(db, MIGRATIONS[:2]) == []
    finally:
        await db.close()
