"""Callback data: ``"<feature>:<action>[:<argument>]"``, always within 64 bytes.

Slugs and event ids are at most 40 characters, so every value here fits.
"""

from __future__ import annotations

from typing import Final

NETWORK_LIST: Final = "net:list"
NETWORK_SHOW: Final = "net:show:"  # + slug
EVENT_SHOW: Final = "ev:show:"  # + event id
EVENT_ICS: Final = "ev:ics:"  # + event id
EVENTS_UPCOMING: Final = "ev:up:"  # + page number
EVENTS_PAST: Final = "ev:past:"  # + page number
HELP: Final = "help:show"


def network_show(slug: str) -> str:
    """Return the callback data that opens a network's card."""
    return f"{NETWORK_SHOW}{slug}"


def event_show(event_id: str) -> str:
    """Return the callback data that opens an event's card."""
    return f"{EVENT_SHOW}{event_id}"


def event_ics(event_id: str) -> str:
    """Return the callback data that sends an event as an .ics file."""
    return f"{EVENT_ICS}{event_id}"


def events_upcoming(page: int) -> str:
    """Return the callback data for a page of upcoming events."""
    return f"{EVENTS_UPCOMING}{page}"


def events_past(page: int) -> str:
    """Return the callback data for a page of past events."""
    return f"{EVENTS_PAST}{page}"
