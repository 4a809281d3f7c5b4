"""The alliance's facts as immutable domain objects.

These dataclasses are the contract between storage (which loads and saves them), the
question answering (which searches them) and the rendering (which shows them). A field
that is ``None`` or an empty tuple means "not known": nobody fills it in by guessing.

Times: ``Event.start``/``Event.end`` are timezone-aware datetimes in UTC; ``Event.date``
is the local calendar day in the data's zone (Europe/Berlin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

DATA_TIMEZONE: Final = ZoneInfo("Europe/Berlin")

EventKind = Literal["network_meeting", "constituent_meeting", "press_conference"]
EventStatus = Literal["held", "announced", "planned", "cancelled"]
ProgrammeKind = Literal["keynote", "session", "tour", "topic"]
Membership = Literal["confirmed", "known_by_city_only"]


@dataclass(frozen=True, slots=True)
class Source:
    """A page that states facts; every real fact points to at least one."""

    id: str
    label: str
    title: str
    publisher: str
    url: str
    date: date | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person named in the sources (never with invented contact data)."""

    id: str
    name: str
    role: str
    organisation: str
    summary: str
    contact: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Network:
    """One of the alliance's regional IT networks."""

    slug: str
    name: str
    short_name: str
    name_is_placeholder: bool
    aliases: tuple[str, ...]
    city: str
    region: str
    description: str
    membership: Membership
    sources: tuple[str, ...]
    led_by: str | None = None
    supported_by: str | None = None
    # (key, German text) pairs in file order, e.g. ("it_workforce", "rund 14.000 Menschen").
    figures: tuple[tuple[str, str], ...] = ()
    facts: tuple[str, ...] = ()
    website: str | None = None
    contact: str | None = None
    membership_basis: str | None = None
    source_note: str | None = None


@dataclass(frozen=True, slots=True)
class Host:
    """Who hosted an event; ``network`` is a network slug where the host is a network."""

    name: str
    network: str | None = None


@dataclass(frozen=True, slots=True)
class ProgrammeItem:
    """One programme point of an event; ``speaker`` is a person id."""

    kind: ProgrammeKind
    title: str
    speaker: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A meeting, constituent meeting or press conference (real or fictional)."""

    id: str
    fictional: bool
    kind: EventKind
    title: str
    description: str
    status: EventStatus
    number: int | None = None
    subtitle: str | None = None
    # The local day; None exactly when date_known is False.
    date: date | None = None
    date_known: bool = True
    date_text: str | None = None
    # Aware datetimes in UTC; None when the time of day is not known.
    start: datetime | None = None
    end: datetime | None = None
    city: str | None = None
    region: str | None = None
    venue: str | None = None
    venue_note: str | None = None
    # The venue's coordinates (WGS 84 degrees); both or neither.
    latitude: float | None = None
    longitude: float | None = None
    hosts: tuple[Host, ...] = ()
    host_note: str | None = None
    audience: str | None = None
    speakers_note: str | None = None
    regions_present: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    programme: tuple[ProgrammeItem, ...] = ()
    sources: tuple[str, ...] = ()
    # Set for events that admins create in the bot (Telegram user id, UTC time).
    created_by: int | None = None
    created_at: datetime | None = None

    @property
    def host_networks(self) -> tuple[str, ...]:
        """Return the slugs of the networks among the hosts."""
        return tuple(h.network for h in self.hosts if h.network is not None)

    def begins_at(self, tz: ZoneInfo = DATA_TIMEZONE) -> datetime | None:
        """Return when the event begins (its start, else local midnight of its day)."""
        if self.start is not None:
            return self.start
        if self.date is None:
            return None
        return datetime.combine(self.date, time(0, 0), tzinfo=tz)

    def is_upcoming(self, now: datetime, tz: ZoneInfo = DATA_TIMEZONE) -> bool:
        """Tell whether the event lies ahead: a known day from today on, not yet begun."""
        if self.date is None or self.status == "cancelled":
            return False
        if self.start is not None:
            return self.start > now
        return self.date >= now.astimezone(tz).date()

    def is_past(self, now: datetime, tz: ZoneInfo = DATA_TIMEZONE) -> bool:
        """Tell whether the event's known day lies before today."""
        return self.date is not None and self.date < now.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class EventVersion:
    """How often an event changed and when last: SEQUENCE and LAST-MODIFIED in calendars."""

    sequence: int
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class Faq:
    """A ready answer; ``about_bot`` answers describe the bot, not the alliance."""

    id: str
    question: str
    answer: str
    sources: tuple[str, ...] = ()
    about_bot: bool = False


@dataclass(frozen=True, slots=True)
class Coordinator:
    """Who coordinates smart businessIT, with its caveat."""

    label: str | None = None
    name: str | None = None
    city: str | None = None
    description: str | None = None
    note: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alliance:
    """The IT Bündnis BW as such."""

    name: str
    full_name: str
    description: str
    motto: str
    network_count: int
    sources: tuple[str, ...] = ()
    network_count_2014: int | None = None
    network_count_note: str | None = None
    it_netz_2014: str | None = None
    principles: str | None = None
    partnership_agreement: str | None = None
    meetings_note: str | None = None
    website: str | None = None
    website_note: str | None = None
    coordinator: Coordinator | None = None
    login_label: str | None = None
    recovery_label: str | None = None


@dataclass(frozen=True, slots=True)
class Initiative:
    """The state initiative smart businessIT."""

    name: str
    description: str
    launched: int | None = None
    head: str | None = None  # person id
    project_partners_2014: tuple[str, ...] = ()  # network slugs
    # (key, German text) pairs: companies, employees, universities, students, note.
    ict_figures_2014: tuple[tuple[str, str], ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FundingLine:
    """One line of the Cluster Accelerator Programme (CAP 1-3)."""

    id: str
    name: str
    purpose: str
    started: str | None = None
    funded_regions_2013: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FundingProgramme:
    """The Cluster Accelerator Programme."""

    name: str
    short_name: str | None = None
    description: str | None = None
    duration: str | None = None
    jury_2013: str | None = None
    application_deadline_2014: date | None = None
    round_2_note: str | None = None
    current_call_note: str | None = None
    lines: tuple[FundingLine, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Funding:
    """Who funds smart businessIT and how."""

    summary: str | None = None
    funded_by: str | None = None
    in_coordination_with: str | None = None
    ministry_names_note: str | None = None
    programme: FundingProgramme | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the bot knows about the alliance, loaded once and shared read-only."""

    alliance: Alliance | None = None
    initiative: Initiative | None = None
    funding: Funding | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    # Networks in file order; events sorted by (date or date.max, start, id).
    networks: tuple[Network, ...] = ()
    events: tuple[Event, ...] = ()
    faq: tuple[Faq, ...] = ()

    def network(self, slug: str) -> Network | None:
        """Return the network with this slug, if any."""
        return next((n for n in self.networks if n.slug == slug), None)

    def event(self, event_id: str) -> Event | None:
        """Return the event with this id, if any."""
        return next((e for e in self.events if e.id == event_id), None)

    def person(self, person_id: str) -> Person | None:
        """Return the person with this id, if any."""
        return self.people.get(person_id)

    def sources_of(self, ids: Iterable[str]) -> list[Source]:
        """Return the known sources for these ids, in order, without repeats."""
        seen: dict[str, Source] = {}
        for source_id in ids:
            if source_id in self.sources and source_id not in seen:
                seen[source_id] = self.sources[source_id]
        return list(seen.values())

    def upcoming_events(self, now: datetime) -> list[Event]:
        """Return the events still ahead, earliest first."""
        return sorted(
            (e for e in self.events if e.is_upcoming(now)),
            key=lambda e: (e.begins_at() or now, e.id),
        )

    def past_events(self, now: datetime) -> list[Event]:
        """Return the events with a known day before today, latest first."""
        return sorted(
            (e for e in self.events if e.is_past(now)),
            key=lambda e: (e.begins_at() or now, e.id),
            reverse=True,
        )

    def next_event(self, now: datetime) -> Event | None:
        """Return the earliest upcoming event, if any."""
        upcoming = self.upcoming_events(now)
        return upcoming[0] if upcoming else None

    def latest_meeting(self, now: datetime) -> Event | None:
        """Return the latest network meeting with a known day before today."""
        return next((e for e in self.past_events(now) if e.kind == "network_meeting"), None)

    def events_of_network(self, slug: str) -> list[Event]:
        """Return the events a network hosted or hosts, in date order."""
        return [e for e in self.events if slug in e.host_networks]


@dataclass(frozen=True, slots=True)
class EventChange:
    """How an existing event changed in an import (reminders move on date/time/status)."""

    id: str
    date: bool = False
    time: bool = False
    place: bool = False
    status: bool = False

    @property
    def reschedules(self) -> bool:
        """Tell whether reminders for this event need to move or stop."""
        return self.date or self.time or self.status
