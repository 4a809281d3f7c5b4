"""Events as .ics files: correct zone, date-only events, no file without a date."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar

from bot.domain.ics import NoDateError, event_to_ics
from storage.importer import bundled_catalog
from tests.conftest import BERLIN, TODAY

NOTE = "Hinweis: Dies ist ein erfundener Demo-Termin."


def parse(payload: bytes) -> Calendar:
    """Parse an .ics payload and return the calendar."""
    return Calendar.from_ical(payload)


def test_timed_event_keeps_local_time_and_zone() -> None:
    """A timed event starts at 10:00 Berlin time, with a VTIMEZONE for the zone."""
    catalog = bundled_catalog()
    event = catalog.event("demo-2027-06-ulm")
    assert event is not None
    calendar = parse(event_to_ics(event, catalog, now=TODAY, fictional_note=NOTE))
    (vevent,) = calendar.walk("VEVENT")
    start = vevent.decoded("DTSTART")
    end = vevent.decoded("DTEND")
    assert start == datetime(2027, 6, 24, 10, 0, tzinfo=BERLIN)
    assert end == datetime(2027, 6, 24, 16, 0, tzinfo=BERLIN)
    assert str(vevent["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert NOTE in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]) == "Ulm"
    assert str(vevent["UID"]).startswith("demo-2027-06-ulm@")


def test_a_meeting_at_the_end_of_the_calendar_still_has_a_file() -> None:
    """31.12.9999 23:30 (stored before the five-year rule) gives a file, not an OverflowError."""
    catalog = bundled_catalog()
    event = catalog.event("demo-2027-06-ulm")
    assert event is not None
    last = datetime(9999, 12, 31, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    for late in (
        dataclasses.replace(event, date=last.date(), start=last, end=None),
        dataclasses.replace(event, date=date(9999, 12, 31), start=None, end=None),
    ):
        (vevent,) = parse(event_to_ics(late, catalog, now=TODAY, fictional_note=NOTE)).walk(
            "VEVENT"
        )
        assert vevent.decoded("DTEND") >= vevent.decoded("DTSTART")


def test_date_only_event_is_an_all_day_entry() -> None:
    """A real event known only by its day becomes an all-day entry with its source."""
    catalog = bundled_catalog()
    event = catalog.event("netzwerktreffen-3")
    assert event is not None
    (vevent,) = parse(event_to_ics(event, catalog, now=TODAY, fictional_note=NOTE)).walk("VEVENT")
    assert vevent.decoded("DTSTART") == date(2014, 4, 28)
    assert vevent.decoded("DTEND") == date(2014, 4, 29)
    assert "Bechtle" in str(vevent["LOCATION"])
    assert str(vevent["URL"]).startswith("http")
    assert NOTE not in str(vevent["DESCRIPTION"])


def test_unknown_date_has_no_file() -> None:
    """An event whose date is unknown cannot become a calendar entry."""
    catalog = bundled_catalog()
    event = catalog.event("netzwerktreffen-5")
    assert event is not None
    with pytest.raises(NoDateError):
        event_to_ics(event, catalog, now=TODAY, fictional_note=NOTE)
