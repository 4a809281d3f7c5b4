"""Meetings written by admins: add, change and cancel, with reminders, notices and audit."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Event, Host
from bot.domain.schedule import Lead
from storage.catalog import (
    PROBLEM_EVENT_END,
    PROBLEM_EVENT_NETWORK,
    PROBLEM_EVENT_START_FAR,
    PROBLEM_EVENT_START_PAST,
    PROBLEM_EVENT_TITLE,
    SLUG_MAX,
    EventConflictError,
    EventNotFoundError,
    EventNotUpcomingError,
    InvalidEventError,
    event_slug,
)
from storage.outbox import OutboxStore
from storage.reminders import ReminderStore
from tests.storage.planning import (
    BERLIN,
    CHAT,
    HOSTED,
    KARLSRUHE,
    LAGO,
    MEETINGS,
    NETWORK,
    NEWS,
    NOW,
    OTHER,
    berlin,
    event_sub,
    load_catalog,
    subscription_store,
)

if TYPE_CHECKING:
    from datetime import datetime

    from storage.catalog import CatalogStore
    from storage.db import Database
    from storage.subscriptions import SubscriptionStore

ADMIN = 4242
THIRD = 1003
START = berlin(2026, 12, 10, 18, 0)
END = berlin(2026, 12, 10, 20, 0)
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def meeting(**changes: Any) -> Event:
    """Return a new alliance-wide meeting as an admin would enter it."""
    event = Event(
        id="",
        fictional=False,
        kind="network_meeting",
        title="Netzwerktreffen Stuttgart",
        description="Austausch <b>und</b> Vorträge.",
        status="announced",
        start=START,
        end=END,
        city="Stuttgart",
        venue="Haus der Wirtschaft",
        hosts=(Host(name="IT Bündnis BW"),),
    )
    return dataclasses.replace(event, **changes)


@pytest.fixture
async def catalog(db: Database) -> CatalogStore:
    """Return the catalog store with the bundled, demo and hosted events imported."""
    return await load_catalog(db)


@pytest.fixture
def subs(db: Database, catalog: CatalogStore) -> SubscriptionStore:
    """Return the subscription store (catalog imported)."""
    return subscription_store(db)


async def reminder_rows(db: Database, event_id: str) -> dict[tuple[int, str], tuple[str, str]]:
    """Return an event's rows as {(chat, lead): (status, due_at)}."""
    found = await db.fetchall(
        "SELECT chat_id, lead, status, due_at FROM reminders WHERE event_id = ?", (event_id,)
    )
    return {(r["chat_id"], r["lead"]): (r["status"], r["due_at"]) for r in found}


async def audit_rows(db: Database) -> list[tuple[int | None, str, dict[str, Any]]]:
    """Return the audit rows as (actor, action, detail), oldest first."""
    found = await db.fetchall("SELECT actor, action, detail FROM audit ORDER BY id")
    return [(r["actor"], r["action"], json.loads(r["detail"])) for r in found]


async def send_due(db: Database, now: datetime) -> list[tuple[int, str, Lead]]:
    """Send everything due by ``now`` as the dispatcher would."""
    store = ReminderStore(db)
    sent = []
    for due in await store.due(now):
        assert await store.claim(due.id)
        assert await store.mark_sent(due.id, now=now)
        sent.append((due.chat_id, due.event_id, due.lead))
    return sent


# --- ids ----------------------------------------------------------------------------------


def test_slug_from_title_and_day() -> None:
    """Umlauts are spelled out, other marks dropped, the day appended."""
    day = date(2027, 3, 18)
    assert event_slug("Netzwerktreffen Karlsruhe", day) == "netzwerktreffen-karlsruhe-2027-03-18"
    assert event_slug("Größe & Übermut: Café", day) == "groesse-uebermut-cafe-2027-03-18"
    assert event_slug("🎉 ✨", day) == "termin-2027-03-18"
    long = event_slug("Ein sehr langer Titel über viele verschiedene Dinge", day)
    assert len(long) <= SLUG_MAX - 3
    assert long.endswith("-2027-03-18")


@given(st.text(max_size=200), st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_slug_always_valid(title: str, day: date) -> None:
    """Any title gives an id in the deep-link pattern, with room for a "-NN" suffix."""
    slug = event_slug(title, day)
    assert ID_PATTERN.fullmatch(slug)
    assert len(slug) + 3 <= SLUG_MAX


async def test_ids_are_unique(catalog: CatalogStore) -> None:
    """The same title on the same day gets -2, -3."""
    ids = [
        (await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)).id for _ in range(3)
    ]
    assert ids == [
        "netzwerktreffen-stuttgart-2026-12-10",
        "netzwerktreffen-stuttgart-2026-12-10-2",
        "netzwerktreffen-stuttgart-2026-12-10-3",
    ]


# --- add ----------------------------------------------------------------------------------


async def test_add_stores_plans_and_audits(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """A new meeting: stored without sources, reminders for "meetings" followers, audited."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    await subs.subscribe(OTHER, NEWS, now=NOW)
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    stored = (await catalog.load()).event(event.id)
    assert stored is not None
    assert stored.sources == ()
    assert not stored.fictional
    assert stored.created_by == ADMIN
    assert stored.created_at == NOW
    assert stored.date == date(2026, 12, 10)
    assert stored.description == "Austausch <b>und</b> Vorträge."  # plain text, as typed
    assert stored.hosts == (Host(name="IT Bündnis BW"),)
    assert await reminder_rows(db, event.id) == {
        (CHAT, "1d"): ("pending", "2026-12-09T17:00:00+00:00"),
        (CHAT, "2h"): ("pending", "2026-12-10T15:00:00+00:00"),
    }
    assert await audit_rows(db) == [(ADMIN, "meeting_created", {"event_id": event.id})]
    assert await OutboxStore(db).due(NOW) == [], "a new meeting is no change notice"


async def test_add_for_a_network(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """A network's meeting reaches that network's followers and "meetings" followers."""
    await subs.subscribe(CHAT, LAGO, now=NOW)
    await subs.subscribe(OTHER, MEETINGS, now=NOW)
    host = Host(name="cyberLAGO", network=NETWORK)
    event = await catalog.add_event(meeting(hosts=(host,)), actor=None, now=NOW, tz=BERLIN)
    chats = {chat for chat, _lead in await reminder_rows(db, event.id)}
    assert chats == {CHAT, OTHER}
    assert await audit_rows(db) == [(None, "meeting_created", {"event_id": event.id})]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": " "}, PROBLEM_EVENT_TITLE),
        ({"title": "x" * 201}, PROBLEM_EVENT_TITLE),
        ({"start": berlin(2026, 11, 26, 9, 0), "end": None}, PROBLEM_EVENT_START_PAST),
        ({"start": berlin(9999, 12, 31, 23, 30), "end": None}, PROBLEM_EVENT_START_FAR),
        ({"start": berlin(2031, 11, 27, 10, 0), "end": None}, PROBLEM_EVENT_START_FAR),
        ({"end": berlin(2026, 12, 10, 17, 0)}, PROBLEM_EVENT_END),
        ({"end": berlin(2026, 12, 11, 1, 0)}, PROBLEM_EVENT_END),
        ({"hosts": (Host(name="Nirgendwo", network="nirgendwo"),)}, PROBLEM_EVENT_NETWORK),
    ],
)
async def test_add_refuses_bad_values(
    db: Database, catalog: CatalogStore, changes: dict[str, Any], problem: str
) -> None:
    """A rule broken: the error names it, and nothing is written (no event, no audit)."""
    before = len((await catalog.load()).events)
    with pytest.raises(InvalidEventError) as raised:
        await catalog.add_event(meeting(**changes), actor=ADMIN, now=NOW, tz=BERLIN)
    assert raised.value.problem == problem
    assert raised.value.describe(lambda text: text)
    assert len((await catalog.load()).events) == before
    assert await audit_rows(db) == []


async def test_reimport_keeps_admin_events(db: Database, catalog: CatalogStore) -> None:
    """An import after an admin's meeting is accepted and leaves the meeting as it is."""
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    report = await catalog.import_text(HOSTED, name="hosted.toml", now=NOW)
    assert report.changes == 0
    await catalog.load_bundled(include_demo=True, now=NOW)
    stored = (await catalog.load()).event(event.id)
    assert stored is not None
    assert stored.created_by == ADMIN
    assert event.id in (await catalog.known_ids()).events


# --- update -------------------------------------------------------------------------------


async def test_update_moves_reminders_and_notifies_the_reminded(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """One hour later after the 1-day reminder: notice queued, 1-day again, 2-hour moved."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    reminded_at = berlin(2026, 12, 9, 18, 0)
    assert await send_due(db, reminded_at) == [(CHAT, event.id, Lead.DAY)]
    later = dataclasses.replace(
        event, start=berlin(2026, 12, 10, 19, 0), end=berlin(2026, 12, 10, 21, 0)
    )
    stored = await catalog.update_event(later, actor=ADMIN, now=reminded_at, tz=BERLIN)
    assert stored.start == berlin(2026, 12, 10, 19, 0)
    assert await reminder_rows(db, event.id) == {
        (CHAT, "1d"): ("pending", "2026-12-09T18:00:00+00:00"),
        (CHAT, "2h"): ("pending", "2026-12-10T16:00:00+00:00"),
    }
    (notice,) = await OutboxStore(db).due(reminded_at)
    assert notice.chat_id == CHAT
    assert notice.payload["kind"] == "changed"
    assert notice.payload["changed"] == ["time"]
    assert notice.payload["old"]["start"] == "2026-12-10T17:00:00+00:00"
    assert (await audit_rows(db))[-1] == (
        ADMIN,
        "meeting_changed",
        {"event_id": event.id, "fields": ["start", "end"]},
    )


async def test_update_of_the_title_only(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """A new title moves nothing and notifies nobody; the audit names the field, not the text."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    before = await reminder_rows(db, event.id)
    renamed = dataclasses.replace(event, title="Neuer Titel")
    await catalog.update_event(renamed, actor=ADMIN, now=NOW, tz=BERLIN)
    assert await reminder_rows(db, event.id) == before
    assert await OutboxStore(db).due(NOW) == []
    assert (await audit_rows(db))[-1] == (
        ADMIN,
        "meeting_changed",
        {"event_id": event.id, "fields": ["title"]},
    )
    stored = (await catalog.load()).event(event.id)
    assert stored is not None
    assert stored.title == "Neuer Titel"
    assert stored.created_by == ADMIN


async def test_update_without_change_writes_nothing(db: Database, catalog: CatalogStore) -> None:
    """The same values again: no write, no audit row."""
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    await catalog.update_event(event, actor=ADMIN, now=NOW, tz=BERLIN)
    assert len(await audit_rows(db)) == 1


async def test_update_of_an_imported_event_keeps_its_sources(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """Changing a meeting from a data file changes only the admin's fields."""
    await subs.subscribe(CHAT, event_sub(KARLSRUHE), now=NOW)
    old = (await catalog.load()).event(KARLSRUHE)
    assert old is not None
    await catalog.update_event(
        dataclasses.replace(old, venue="Anderswo"),
        actor=ADMIN,
        now=NOW,
        tz=BERLIN,
    )
    new = (await catalog.load()).event(KARLSRUHE)
    assert new is not None
    assert new.venue == "Anderswo"
    assert new.programme == old.programme
    assert new.fictional == old.fictional
    (notice,) = await OutboxStore(db).due(NOW)
    assert notice.payload["changed"] == ["place"]


async def test_update_refuses_past_unknown_and_bad(catalog: CatalogStore) -> None:
    """Only upcoming events change; a bad value is refused."""
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    with pytest.raises(EventNotUpcomingError):
        await catalog.update_event(event, actor=ADMIN, now=berlin(2026, 12, 11), tz=BERLIN)
    with pytest.raises(EventNotFoundError):
        await catalog.update_event(
            dataclasses.replace(event, id="gibt-es-nicht"), actor=ADMIN, now=NOW, tz=BERLIN
        )
    with pytest.raises(InvalidEventError):
        await catalog.update_event(
            dataclasses.replace(event, start=berlin(2026, 11, 1), end=None),
            actor=ADMIN,
            now=NOW,
            tz=BERLIN,
        )


# --- cancel -------------------------------------------------------------------------------


async def test_cancel_drops_reminders_and_notifies(
    db: Database, catalog: CatalogStore, subs: SubscriptionStore
) -> None:
    """Cancelled after the 1-day reminder: the 2-hour one is dropped, a cancel notice queued."""
    await subs.subscribe(CHAT, MEETINGS, now=NOW)
    await subs.subscribe(THIRD, MEETINGS, now=NOW)
    event = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    reminded_at = berlin(2026, 12, 9, 18, 0)
    assert len(await send_due(db, reminded_at)) == 2
    cancelled = await catalog.cancel_event(event.id, actor=ADMIN, now=reminded_at, tz=BERLIN)
    assert cancelled.status == "cancelled"
    rows = await reminder_rows(db, event.id)
    assert rows[(CHAT, "2h")][0] == "dropped"
    assert rows[(CHAT, "1d")][0] == "sent"
    notices = await OutboxStore(db).due(reminded_at)
    assert sorted(n.chat_id for n in notices) == [CHAT, THIRD]
    assert {n.payload["kind"] for n in notices} == {"cancelled"}
    assert await send_due(db, berlin(2026, 12, 10, 17, 0)) == []
    assert (await audit_rows(db))[-1] == (ADMIN, "meeting_cancelled", {"event_id": event.id})
    stored = (await catalog.load()).event(event.id)
    assert stored is not None
    assert stored.status == "cancelled"
    with pytest.raises(EventNotUpcomingError):
        await catalog.cancel_event(event.id, actor=ADMIN, now=reminded_at, tz=BERLIN)


async def test_cancel_unknown(db: Database, catalog: CatalogStore) -> None:
    """An unknown id: EventNotFoundError, nothing audited."""
    with pytest.raises(EventNotFoundError):
        await catalog.cancel_event("gibt-es-nicht", actor=ADMIN, now=NOW, tz=BERLIN)
    assert await audit_rows(db) == []


async def test_update_writes_only_the_fields_changed_since_seen(
    db: Database, catalog: CatalogStore
) -> None:
    """A save from an old snapshot keeps another admin's change; the same field conflicts."""
    seen = await catalog.add_event(meeting(), actor=ADMIN, now=NOW, tz=BERLIN)
    first = dataclasses.replace(seen, title="Neuer Titel")
    await catalog.update_event(first, seen=seen, actor=ADMIN, now=NOW, tz=BERLIN)
    second = dataclasses.replace(seen, venue="Neue Halle")
    stored = await catalog.update_event(second, seen=seen, actor=THIRD, now=NOW, tz=BERLIN)
    assert (stored.title, stored.venue) == ("Neuer Titel", "Neue Halle")
    again = dataclasses.replace(seen, title="Dritter Titel")
    with pytest.raises(EventConflictError) as raised:
        await catalog.update_event(again, seen=seen, actor=THIRD, now=NOW, tz=BERLIN)
    assert raised.value.fields == ("title",)
    assert raised.value.current.title == "Neuer Titel"
    event = (await catalog.load()).event(seen.id)
    assert event is not None
    assert event.title == "Neuer Titel"
