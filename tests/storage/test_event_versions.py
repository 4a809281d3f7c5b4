"""Event versions: every write that changes an event raises its SEQUENCE, no other write."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from storage.importer import DataFileError
from tests.storage.planning import BERLIN, NOW, load_catalog

if TYPE_CHECKING:
    from storage.db import Database

DEMO = "demo-2027-03-karlsruhe"
HEADER = 'schema_version = 2\nlanguage = "de"\ntimezone = "Europe/Berlin"\n'
CHANGED = (
    HEADER
    + """
[[events]]
id = "demo-2027-03-karlsruhe"
fictional = true
kind = "network_meeting"
title = "Frühjahrstreffen 2027 (verschoben)"
status = "planned"
date = 2027-03-19
start = 2027-03-19T10:00:00
city = "Karlsruhe"
latitude = 49.0069
longitude = 8.4037
description = "Erfunden."
"""
)


async def test_import_admin_writes_and_cancel_raise_the_sequence(db: Database) -> None:
    """New events start at 0; a changing import, a change and a cancel each add one."""
    store = await load_catalog(db)
    first = await store.version(DEMO)
    assert first is not None
    assert first.sequence == 0
    assert first.modified_at == NOW
    later = NOW + timedelta(hours=1)
    await store.load_bundled(include_demo=True, now=later)
    assert await store.version(DEMO) == first, "an unchanged import is no change"

    await store.import_text(CHANGED, name="changed.toml", now=later)
    changed = await store.version(DEMO)
    assert changed is not None
    assert (changed.sequence, changed.modified_at) == (1, later)
    event = (await store.load()).event(DEMO)
    assert event is not None
    assert (event.latitude, event.longitude) == (49.0069, 8.4037)

    only_coordinates = CHANGED.replace("latitude = 49.0069", "latitude = 49.01")
    report = await store.import_text(only_coordinates, name="moved-pin.toml", now=later)
    (change,) = report.event_changes
    assert (change.date, change.time, change.place, change.status) == (False,) * 4, "no notice"
    moved = await store.version(DEMO)
    assert moved is not None
    assert moved.sequence == 2, "the calendars see it"

    await store.cancel_event(DEMO, actor=None, now=later, tz=BERLIN)
    cancelled = await store.version(DEMO)
    assert cancelled is not None
    assert cancelled.sequence == 3
    assert set(await store.versions()) == {e.id for e in (await store.load()).events}


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ("latitude = 91.0\nlongitude = 8.0", "latitude"),
        ("latitude = 49.0\nlongitude = -180.5", "longitude"),
        ('latitude = "49"\nlongitude = 8.0', "latitude"),
        ("latitude = 49.0", "longitude"),
    ],
)
async def test_bad_coordinates_are_refused(db: Database, lines: str, field: str) -> None:
    """Coordinates out of range, of the wrong type or alone are refused, naming the field."""
    store = await load_catalog(db)
    text = CHANGED.replace("latitude = 49.0069\nlongitude = 8.4037", lines)
    with pytest.raises(DataFileError) as caught:
        await store.import_text(text, name="bad.toml", now=NOW)
    assert field in str(caught.value)
