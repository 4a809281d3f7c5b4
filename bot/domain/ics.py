"""Events as iCalendar (.ics): one event as a file, or many as a subscribable feed.

Made with icalendar, in the event's local zone. The single file sent in the chat and the
feeds (``/kalender/….ics``) carry the same ``UID`` and ``SEQUENCE`` for an event, so a
calendar that imported the file updates when it meets a newer version of the event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

from bot.domain.models import DATA_TIMEZONE

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog, Event, EventVersion

PRODID: Final = "-//IT Bündnis BW//netzwerkbot//DE"
UID_DOMAIN: Final = "netzwerkbot.it-buendnis-bw"
STATUS: Final = {
    "held": "CONFIRMED",
    "planned": "CONFIRMED",
    "announced": "TENTATIVE",
    "cancelled": "CANCELLED",
}
# Feeds hold the meetings ahead and those of the last RECENT_DAYS days.
RECENT_DAYS: Final = 90
# How often calendar apps should fetch a feed again (a hint; many poll on their own terms).
REFRESH_INTERVAL: Final = timedelta(hours=6)


class NoDateError(ValueError):
    """An event without a known date cannot go into a calendar."""


def event_uid(event: Event) -> str:
    """Return the event's stable UID (the same in the file and in every feed)."""
    return f"{event.id}@{UID_DOMAIN}"


def _component(
    event: Event,
    catalog: Catalog,
    *,
    stamp: datetime,
    version: EventVersion | None,
    fictional_note: str,
    tz: ZoneInfo,
) -> VEvent:
    if event.date is None:
        raise NoDateError(event.id)
    vevent = VEvent()
    vevent.add("uid", event_uid(event))
    vevent.add("dtstamp", stamp.astimezone(UTC))
    if version is not None:
        vevent.add("sequence", version.sequence)
        vevent.add("last-modified", version.modified_at.astimezone(UTC))
    vevent.add("summary", event.title)
    # Meetings are accepted at most five years ahead, but a database written before that rule
    # (or by hand) may hold one at the end of the calendar: its end is then its start.
    if event.start is not None:
        start = event.start.astimezone(tz)
        try:
            end = (event.end or event.start + timedelta(hours=1)).astimezone(tz)
        except OverflowError:
            end = start
        vevent.add("dtstart", start)
        vevent.add("dtend", end)
    else:
        vevent.add("dtstart", event.date)
        vevent.add(
            "dtend", event.date + timedelta(days=1) if event.date < date.max else event.date
        )
    location = ", ".join(p for p in (event.venue, event.city or event.region) if p)
    if location:
        vevent.add("location", location)
    if event.latitude is not None and event.longitude is not None:
        vevent.add("geo", (event.latitude, event.longitude))
    description = [event.description]
    if event.fictional:
        description.insert(0, fictional_note)
    vevent.add("description", "\n\n".join(description))
    vevent.add("status", STATUS[event.status])
    sources = catalog.sources_of(event.sources)
    if sources:
        vevent.add("url", sources[0].url)
    return vevent


def _calendar(components: Iterable[VEvent], tz: ZoneInfo, *, name: str | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name is not None:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", tz.key)
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT6H")
    for component in components:
        calendar.add_component(component)
    calendar.add_missing_timezones()
    if not any(str(t.get("TZID")) == tz.key for t in calendar.walk("VTIMEZONE")):
        # A feed of all-day entries only still names its zone (X-WR-TIMEZONE, VTIMEZONE).
        calendar.add_component(Timezone.from_tzid(tz.key))
    return bytes(calendar.to_ical())


def event_to_ics(
    event: Event,
    catalog: Catalog,
    *,
    now: datetime,
    fictional_note: str,
    version: EventVersion | None = None,
    tz: ZoneInfo = DATA_TIMEZONE,
) -> bytes:
    """Return the event as an iCalendar file; times carry their zone (with VTIMEZONE)."""
    vevent = _component(
        event, catalog, stamp=now, version=version, fictional_note=fictional_note, tz=tz
    )
    return _calendar([vevent], tz)


def feed_events(
    catalog: Catalog, *, now: datetime, network: str | None = None, tz: ZoneInfo = DATA_TIMEZONE
) -> list[Event]:
    """Return the events a feed holds: dated, from RECENT_DAYS ago on, of one network or all.

    Cancelled events stay in (``STATUS:CANCELLED``), so calendars remove or strike them.
    """
    since = now.astimezone(tz).date() - timedelta(days=RECENT_DAYS)
    return [
        event
        for event in catalog.events
        if event.date is not None
        and event.date >= since
        and (network is None or network in event.host_networks)
    ]


def feed_to_ics(
    events: Iterable[Event],
    catalog: Catalog,
    *,
    versions: dict[str, EventVersion],
    name: str,
    fictional_note: str,
    tz: ZoneInfo = DATA_TIMEZONE,
) -> bytes:
    """Return the events as one calendar feed.

    The feed depends on the data only (DTSTAMP is the event's last change), so the same
    data gives the same bytes and an ETag over them changes exactly when the data does.
    """
    components = []
    for event in events:
        version = versions.get(event.id)
        stamp = version.modified_at if version is not None else datetime(2014, 1, 1, tzinfo=UTC)
        components.append(
            _component(
                event,
                catalog,
                stamp=stamp,
                version=version,
                fictional_note=fictional_note,
                tz=tz,
            )
        )
    return _calendar(components, tz, name=name)
