"""Events as iCalendar (.ics) files, made with icalendar, in the event's local zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from icalendar import Calendar
from icalendar import Event as VEvent

from bot.domain.models import DATA_TIMEZONE

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog, Event

PRODID: Final = "-//IT Bündnis BW//netzwerkbot//DE"
UID_DOMAIN: Final = "netzwerkbot.it-buendnis-bw"
STATUS: Final = {
    "held": "CONFIRMED",
    "planned": "CONFIRMED",
    "announced": "TENTATIVE",
    "cancelled": "CANCELLED",
}


class NoDateError(ValueError):
    """An event without a known date cannot go into a calendar."""


def event_to_ics(
    event: Event,
    catalog: Catalog,
    *,
    now: datetime,
    fictional_note: str,
    tz: ZoneInfo = DATA_TIMEZONE,
) -> bytes:
    """Return the event as an iCalendar file; times carry their zone (with VTIMEZONE)."""
    if event.date is None:
        raise NoDateError(event.id)
    vevent = VEvent()
    vevent.add("uid", f"{event.id}@{UID_DOMAIN}")
    vevent.add("dtstamp", now)
    vevent.add("summary", event.title)
    if event.start is not None:
        vevent.add("dtstart", event.start.astimezone(tz))
        vevent.add("dtend", (event.end or event.start + timedelta(hours=1)).astimezone(tz))
    else:
        vevent.add("dtstart", event.date)
        vevent.add("dtend", event.date + timedelta(days=1))
    location = ", ".join(p for p in (event.venue, event.city or event.region) if p)
    if location:
        vevent.add("location", location)
    description = [event.description]
    if event.fictional:
        description.insert(0, fictional_note)
    vevent.add("description", "\n\n".join(description))
    vevent.add("status", STATUS[event.status])
    sources = catalog.sources_of(event.sources)
    if sources:
        vevent.add("url", sources[0].url)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
