"""The catalog in the database: round trip, idempotent imports, changes, rejections."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from storage.catalog import EXTERNAL_CHECK_SECONDS, CatalogStore, TableCounts
from storage.db import Database
from storage.importer import (
    DataFile,
    DataFileError,
    bundled_files,
    catalog_from_files,
    parse_bundled,
    parse_data_file,
)
from storage.migrations import migrate
from tests.storage.conftest import MINIMAL
from tests.storage.test_importer import BAD_FILES, DEMO, mutate

if TYPE_CHECKING:
    from pathlib import Path

DEMO_FILE = parse_bundled()[1]
DEMO_TEXT = bundled_files()[1].read_text(encoding="utf-8")


async def test_round_trip(store: CatalogStore) -> None:
    """What goes in comes out: the loaded catalog equals the parsed files."""
    assert await store.is_empty()
    report = await store.load_bundled(include_demo=True)
    assert report.counts["networks"] == TableCounts(inserted=11)
    assert report.counts["events"] == TableCounts(inserted=11)
    assert report.changed_events == ()
    assert not await store.is_empty()
    assert await store.load() == catalog_from_files(*parse_bundled())


async def test_reimport_changes_nothing(store: CatalogStore) -> None:
    """Importing the same files again reports no change."""
    await store.load_bundled(include_demo=True)
    before = await store.load()
    report = await store.load_bundled(include_demo=True)
    assert report.changes == 0
    assert report.counts["faq"] == TableCounts(unchanged=20)
    assert report.changed_events == ()
    assert await store.load() == before


async def test_modified_event_reported(store: CatalogStore) -> None:
    """A moved start time and a cancellation are reported per event."""
    await store.load_bundled(include_demo=True)
    text = mutate(
        DEMO_TEXT,
        "start = 2027-03-18T10:00:00",
        "start = 2027-03-18T11:00:00",
    ).replace('status = "planned"\ndate = 2027-06-24', 'status = "cancelled"\ndate = 2027-06-24')
    report = await store.import_text(text, name="demo-events.toml")
    assert report.counts["events"] == TableCounts(updated=2, unchanged=2)
    assert report.changed_events == ("demo-2027-03-karlsruhe", "demo-2027-06-ulm")
    march, june = report.event_changes
    assert (march.date, march.time, march.place, march.status) == (False, True, False, False)
    assert june.status
    assert june.reschedules
    catalog = await store.load()
    event = catalog.event("demo-2027-03-karlsruhe")
    assert event is not None
    assert event.start == datetime(2027, 3, 18, 10, 0, tzinfo=UTC)
    # Programme and hosts of the updated event are replaced, not duplicated.
    assert len(event.programme) == 3
    assert len(event.hosts) == 1


async def test_place_change_does_not_reschedule(store: CatalogStore) -> None:
    """A new venue is a change, but reminders stay where they are."""
    await store.load_bundled(include_demo=True)
    text = mutate(DEMO_TEXT, 'city = "Ulm"', 'city = "Neu-Ulm"')
    (change,) = (await store.import_text(text, name="demo.toml")).event_changes
    assert change.place
    assert not change.reschedules


@pytest.mark.parametrize(
    ("old", "new"), [pytest.param(case[1], case[2], id=case[0]) for case in BAD_FILES]
)
async def test_bad_file_leaves_database_unchanged(
    store: CatalogStore, db: Database, old: str, new: str
) -> None:
    """A rejected file changes nothing in the database."""
    await store.import_text(MINIMAL, name="base.toml")
    before = await store.load()
    version = await db.data_version()
    writes = db.write_count
    with pytest.raises(DataFileError):
        await store.import_text(mutate(MINIMAL, old, new), name="bad.toml")
    assert await store.load() == before
    assert (await db.data_version(), db.write_count) == (version, writes)


async def test_failed_write_rolls_back_that_event(store: CatalogStore) -> None:
    """If the database refuses an event's write, that event is undone as a whole.

    Files are checked as a whole before the first write (``parse_data_file``); the writes
    then go one transaction per event, so that an import never holds the write lock for
    long. What the database refuses after the check (here a file built past the check)
    undoes the event's own transaction; the events committed before it stay.
    """
    await store.import_text(MINIMAL, name="base.toml")
    good = parse_data_file(MINIMAL.replace("Ein Treffen.", "Geändert."))
    event = dataclasses.replace(good.events[0], sources=("gibt-es-nicht",), title="Kaputt")
    broken = DataFile(name="x", timezone="Europe/Berlin", events=(event,), tables=frozenset())
    with pytest.raises(sqlite3.IntegrityError):
        await store.upsert_all([good, broken])
    stored = (await store.load()).event(event.id)
    assert stored is not None
    assert (stored.title, stored.description) == (good.events[0].title, "Geändert.")
    assert stored.sources == good.events[0].sources


async def test_demo_file_may_refer_to_database(store: CatalogStore, tmp_path: Path) -> None:
    """A demo file referring to a network only in the database imports there, not elsewhere."""
    other = await Database.open(tmp_path / "other.sqlite3")
    try:
        await migrate(other)
        with pytest.raises(DataFileError) as caught:
            await CatalogStore(other).import_text(DEMO, name="demo.toml")
        assert caught.value.field == "network"
    finally:
        await other.close()
    await store.import_text(MINIMAL, name="base.toml")
    report = await store.import_text(DEMO, name="demo.toml")
    assert report.counts["events"] == TableCounts(inserted=2)
    catalog = await store.load()
    assert [e.id for e in catalog.events_of_network("netz-a")] == ["treffen-1", "demo-1"]
    assert (await store.known_ids()).events == {"treffen-1", "treffen-2", "demo-1", "demo-2"}


async def test_created_by_survives_reimport(store: CatalogStore, db: Database) -> None:
    """Who created an event in the bot is kept when a file updates it."""
    await store.load_bundled(include_demo=True)
    async with db.transaction():
        await db.execute(
            "UPDATE events SET created_by = 42, created_at = ? WHERE id = ?",
            ("2026-11-01T08:00:00+00:00", "demo-2027-06-ulm"),
        )
    report = await store.upsert(DEMO_FILE)
    assert report.changes == 0
    event = (await store.load()).event("demo-2027-06-ulm")
    assert event is not None
    assert event.created_by == 42
    assert event.created_at == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


async def test_current_is_cached_until_a_commit(
    store: CatalogStore, db: Database, tmp_path: Path
) -> None:
    """The cached catalog is reused until this or another connection commits.

    Another connection's commit is noticed once EXTERNAL_CHECK_SECONDS have passed.
    """
    clock = [0.0]
    store = CatalogStore(db, monotonic=lambda: clock[0])
    await store.import_text(MINIMAL, name="base.toml")
    first = await store.current()
    assert await store.current() is first
    # Another process (``netzwerkbot import``) adds events through its own connection.
    other = await Database.open(db.path)
    try:
        await CatalogStore(other).import_text(DEMO, name="demo.toml")
    finally:
        await other.close()
    assert await store.current() is first, "not asked again within the interval"
    clock[0] += EXTERNAL_CHECK_SECONDS
    second = await store.current()
    assert second is not first
    assert second.event("demo-1") is not None
    assert await store.current() is second
    await store.import_text(MINIMAL.replace("Ein Treffen.", "Anders."), name="base.toml")
    third = await store.current()
    assert third is not second
    event = third.event("treffen-1")
    assert event is not None
    assert event.description == "Anders."


async def test_without_demo(store: CatalogStore) -> None:
    """The real data alone has only real events."""
    await store.load_bundled(include_demo=False)
    catalog = await store.load()
    assert len(catalog.events) == 7
    assert not any(e.fictional for e in catalog.events)
