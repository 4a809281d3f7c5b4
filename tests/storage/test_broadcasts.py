"""Broadcasts in storage: content, audiences, the snapshot, claims, life cycle, audit, 0004."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.domain.circulars import Audience, Content, Counts
from storage.broadcasts import SKIP_CANCELLED, SKIP_LEFT, BroadcastError, BroadcastStore
from storage.db import Database
from storage.migrations import MIGRATIONS, migrate
from storage.outbox import OutboxStore
from tests.storage.planning import (
    KARLSRUHE,
    LAGO,
    LAGO_MEETING,
    MEETINGS,
    NETWORK,
    NEWS,
    NOW,
    PRESS,
    crashed_lease,
    event_sub,
    load_catalog,
    subscription_store,
)

if TYPE_CHECKING:
    from pathlib import Path

    from storage.subscriptions import SubscriptionStore

ADMIN: Final = 42
TEXT: Final = Content(
    "text",
    text="Hallo Netzwerk",
    entities=({"type": "bold", "offset": 0, "length": 5},),
)


@pytest.fixture
async def subs(db: Database) -> SubscriptionStore:
    """Return the subscription store on a database with the catalog imported."""
    await load_catalog(db)
    return subscription_store(db)


@pytest.fixture
def store(db: Database) -> BroadcastStore:
    """Return the broadcast store."""
    return BroadcastStore(db)


async def news_subscribers(subs: SubscriptionStore, chats: range) -> None:
    """Subscribe each chat to the news."""
    for chat in chats:
        await subs.subscribe(chat, NEWS, now=NOW)


async def rows(db: Database, broadcast_id: int) -> list[tuple[int, str]]:
    """Return (chat, status) of a broadcast's rows."""
    return await BroadcastStore(db).snapshot_rows(broadcast_id)


def test_content_round_trip_and_limits() -> None:
    """Content survives JSON unchanged; captions over 1,024 and mixed kinds are refused."""
    photo = Content(
        "photo",
        file_id="AgAC",
        caption="Bild",
        caption_entities=({"type": "italic", "offset": 0, "length": 4},),
    )
    for content in (TEXT, photo, Content("document", file_id="BQAC")):
        assert Content.from_json(content.to_json()) == content
    with pytest.raises(ValueError, match="1024"):
        Content("photo", file_id="x", caption="x" * 1025)
    Content("photo", file_id="x", caption="x" * 1024)
    with pytest.raises(ValueError, match="text"):
        Content("text", text="")
    with pytest.raises(ValueError, match="file_id"):
        Content("document", text="Hallo")
    with pytest.raises(ValueError, match="target"):
        Audience("network")


async def test_news_snapshot_once_and_audit(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """Starting snapshots the active news subscribers once; every step is audited."""
    await news_subscribers(subs, range(1, 6))
    await subs.subscribe(9, LAGO, now=NOW)  # not a news subscriber
    await subs.mark_blocked(5, now=NOW)
    assert await store.count_audience(Audience("news")) == 4

    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    assert broadcast.status == "draft"
    assert await rows(db, broadcast.id) == []
    assert await store.start(broadcast.id, by=ADMIN, now=NOW) == 4
    assert await store.start(broadcast.id, by=ADMIN, now=NOW) is None
    assert await rows(db, broadcast.id) == [(c, "pending") for c in range(1, 5)]
    started = await store.get(broadcast.id)
    assert started is not None
    assert started.status == "running"
    assert started.recipients == 4
    assert started.content == TEXT
    assert await store.counts(broadcast.id) == Counts(pending=4)

    audit = await db.fetchall("SELECT actor, action, detail FROM audit ORDER BY id")
    assert [(r[0], r[1]) for r in audit] == [
        (ADMIN, "broadcast_created"),
        (ADMIN, "broadcast_started"),
    ]
    assert all("Hallo" not in r[2] for r in audit), "never the message text"


async def test_network_and_meeting_audiences(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """A network's followers; a meeting's followers are those its reminders go to."""
    await subs.subscribe(1, LAGO, now=NOW)
    await subs.subscribe(2, MEETINGS, now=NOW)
    await subs.subscribe(3, event_sub(KARLSRUHE), now=NOW)
    await subs.subscribe(4, NEWS, now=NOW)
    await subs.subscribe(5, event_sub(PRESS), now=NOW)
    assert await store.count_audience(Audience("network", NETWORK)) == 1
    # The cyberLAGO meeting: its network's followers and everyone following all meetings.
    assert await store.count_audience(Audience("event", LAGO_MEETING)) == 2
    # A press conference hosted by cyberLAGO: not a meeting for "all meetings".
    assert await store.count_audience(Audience("event", PRESS)) == 2
    broadcast = await store.create(
        TEXT, Audience("event", KARLSRUHE), by=ADMIN, chat_id=ADMIN, now=NOW
    )
    assert await store.start(broadcast.id, by=ADMIN, now=NOW) == 2
    assert [c for c, _ in await rows(db, broadcast.id)] == [2, 3]


async def test_claim_skips_who_left_and_stops_when_paused(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """A claim marks 'sending'; who unsubscribed is skipped; paused or cancelled: no claim."""
    await news_subscribers(subs, range(1, 5))
    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    await store.start(broadcast.id, by=ADMIN, now=NOW)
    audience = await store.params(broadcast.audience)
    first, second, third, fourth = await store.pending(broadcast.id)
    assert await store.claim(first, audience) == "sending"
    assert await store.claim(first, audience) is None
    await subs.unsubscribe(second.chat_id, NEWS, now=NOW)
    assert await store.claim(second, audience) == "skipped"
    assert await store.pause(broadcast.id, by=ADMIN, now=NOW)
    assert not await store.pause(broadcast.id, by=ADMIN, now=NOW)
    assert await store.claim(third, audience) is None
    assert await store.resume(broadcast.id, by=ADMIN, now=NOW)
    assert await store.claim(third, audience) == "sending"
    assert not await store.finish(broadcast.id, now=NOW), "rows are open"
    assert await store.cancel(broadcast.id, by=ADMIN, now=NOW)
    assert await store.claim(fourth, audience) is None
    reasons = await db.fetchall(
        "SELECT chat_id, status, last_error FROM outbox WHERE broadcast_id = ? ORDER BY id",
        (broadcast.id,),
    )
    assert [tuple(r) for r in reasons] == [
        (1, "sending", None),
        (2, "skipped", SKIP_LEFT),
        (3, "sending", None),
        (4, "skipped", SKIP_CANCELLED),
    ]
    actions = [r[0] for r in await db.fetchall("SELECT action FROM audit ORDER BY id")]
    assert actions[-3:] == ["broadcast_paused", "broadcast_resumed", "broadcast_cancelled"]


async def test_done_and_crash_recovery(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """Rows in flight at a crash go back to pending (sent again); then the broadcast ends."""
    outbox = OutboxStore(db)
    await news_subscribers(subs, range(1, 4))
    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    await store.start(broadcast.id, by=ADMIN, now=NOW)
    audience = await store.params(broadcast.audience)
    one, two, three = await store.pending(broadcast.id)
    crashed = BroadcastStore(db, lease=crashed_lease())
    for row in (one, two):
        assert await crashed.claim(row, audience) == "sending"
    assert await outbox.mark_sent(one.id, now=NOW)
    assert await outbox.due(NOW) == [], "broadcast rows are not the dispatcher's"
    # kill -9 here: row two is in flight.
    assert await outbox.recover_in_flight() == 1
    assert await store.counts(broadcast.id) == Counts(pending=2, sent=1)
    for row in (two, three):
        assert await store.claim(row, audience) == "sending"
    assert await outbox.mark_blocked(two.id)
    assert await outbox.mark_unknown(three.id)
    assert await store.finish(broadcast.id, now=NOW + timedelta(minutes=1))
    done = await store.get(broadcast.id)
    assert done is not None
    assert done.status == "done"
    assert done.finished_at == NOW + timedelta(minutes=1)
    assert await store.counts(broadcast.id) == Counts(sent=1, blocked=1, unknown=1)


async def test_cancel_while_in_flight_then_crash(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """A row in flight when its broadcast was cancelled is skipped after a crash, not sent."""
    await news_subscribers(subs, range(1, 3))
    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    await store.start(broadcast.id, by=ADMIN, now=NOW)
    first, _ = await store.pending(broadcast.id)
    crashed = BroadcastStore(db, lease=crashed_lease())
    assert await crashed.claim(first, await store.params(broadcast.audience)) == "sending"
    await store.cancel(broadcast.id, by=ADMIN, now=NOW)
    await OutboxStore(db).recover_in_flight()
    assert await store.recover() == 1
    assert await store.counts(broadcast.id) == Counts(skipped=2)


async def test_plan_pause_resume(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """Planned ones are due at their time; paused before the start, they wait again."""
    await news_subscribers(subs, range(1, 3))
    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    with pytest.raises(BroadcastError):
        await store.plan(broadcast.id, NOW, by=ADMIN, now=NOW)
    when = NOW + timedelta(hours=2)
    assert await store.plan(broadcast.id, when, by=ADMIN, now=NOW)
    assert not await store.plan(broadcast.id, when, by=ADMIN, now=NOW), "no draft any more"
    assert await store.due_planned(when - timedelta(seconds=1)) == []
    assert await store.due_planned(when) == [broadcast.id]
    assert await store.pause(broadcast.id, by=ADMIN, now=NOW)
    assert await store.due_planned(when) == []
    assert await store.resume(broadcast.id, by=ADMIN, now=NOW)
    planned = await store.get(broadcast.id)
    assert planned is not None
    assert planned.status == "planned"
    assert [b.id for b in await store.with_status("planned")] == [broadcast.id]
    assert await store.start(broadcast.id, by=None, now=when) == 2
    last = await db.fetchone("SELECT actor, action FROM audit ORDER BY id DESC LIMIT 1")
    assert last is not None
    assert tuple(last) == (None, "broadcast_started"), "started by the bot at its time"


async def test_upgrade_keeps_outbox_rows(tmp_path: Path) -> None:
    """0004 adds broadcasts to a database of 0003 with outbox rows; they stay the dispatcher's."""
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        names = [m.name for m in MIGRATIONS]
        upto = names.index("0004_broadcasts")
        await migrate(db, MIGRATIONS[:upto])
        await db.execute(
            "INSERT INTO outbox (chat_id, kind, payload, status, due_at, created_at) "
            "VALUES (1, 'notice', '{}', 'pending', ?, ?)",
            ("2026-11-26T09:00:00+00:00", "2026-11-26T09:00:00+00:00"),
        )
        assert "0004_broadcasts" in await migrate(db)
        (item,) = await OutboxStore(db).due(NOW)
        assert item.chat_id == 1
        plan = await db.fetchall(
            "EXPLAIN QUERY PLAN SELECT id FROM outbox "
            "WHERE status = 'pending' AND due_at <= ? AND broadcast_id IS NULL",
            ("x",),
        )
        assert "outbox_due_pushes" in json.dumps([tuple(r) for r in plan])
    finally:
        await db.close()


async def test_release_sending_after_failed_workers(
    db: Database, subs: SubscriptionStore, store: BroadcastStore
) -> None:
    """Rows claimed by workers that died with an error go back to pending at once."""
    await news_subscribers(subs, range(1, 4))
    broadcast = await store.create(TEXT, Audience("news"), by=ADMIN, chat_id=ADMIN, now=NOW)
    await store.start(broadcast.id, by=ADMIN, now=NOW)
    audience = await store.params(broadcast.audience)
    one, two, _three = await store.pending(broadcast.id)
    for row in (one, two):
        assert await store.claim(row, audience) == "sending"
    assert await store.release_sending(broadcast.id) == 2
    assert await store.counts(broadcast.id) == Counts(pending=3)
