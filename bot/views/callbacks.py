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


# Subscriptions (/abo). A subscription code is "net:<slug>", "meet", "news", "week" or
# "ev:<event id>"; the longest, "sub:add:ev:" + 40 characters, is 51 bytes.
SUB_OPEN: Final = "sub:open"
SUB_TOGGLE: Final = "sub:t:"  # + code: toggles in the /abo panel, which is edited in place
SUB_ADD: Final = "sub:add:"  # + code: one tap "Abonnieren" on cards and answers (idempotent)
SUB_STOP_ASK: Final = "sub:stop:ask"
SUB_STOP_YES: Final = "sub:stop:yes"
SUB_STOP_NO: Final = "sub:stop:no"
SUB_UNDO: Final = "sub:undo"  # restores what /stopp removed
# Reminder settings (/erinnerungen).
REM_OPEN: Final = "rem:open"
REM_LEAD: Final = "rem:lead:"  # + lead code ("1w", "1d", "2h"): toggles
REM_QUIET: Final = "rem:quiet:"  # + "HHMM-HHMM" or "none"

CODE_MEETINGS: Final = "meet"
CODE_NEWS: Final = "news"
CODE_WEEKLY: Final = "week"
CODE_NETWORK: Final = "net:"  # + slug
CODE_EVENT: Final = "ev:"  # + event id


def network_code(slug: str) -> str:
    """Return the subscription code of a network."""
    return f"{CODE_NETWORK}{slug}"


def event_code(event_id: str) -> str:
    """Return the subscription code of a single event."""
    return f"{CODE_EVENT}{event_id}"


def subscribe(code: str) -> str:
    """Return the callback data of a one-tap subscription."""
    return f"{SUB_ADD}{code}"


def toggle(code: str) -> str:
    """Return the callback data of a toggle in the /abo panel."""
    return f"{SUB_TOGGLE}{code}"


# Accounts (/konto, /kennwort) and privacy (/daten_loeschen).

ACCOUNT_PASSWORD: Final = "acct:pw"  # noqa: S105 - callback data, not a password
ACCOUNT_UNLINK: Final = "acct:unlink"
ACCOUNT_CANCEL: Final = "acct:cancel"
PRIVACY_DELETE_YES: Final = "privacy:delete:yes"
PRIVACY_DELETE_NO: Final = "privacy:delete:no"


# A panel shown in one chat for another (a channel's /abo in the admin's private chat) carries
# that chat's id in front of the panel's own data: "c:<chat id>:" + data. Buttons whose data
# then passes 64 bytes are left out of such a panel (long event ids only).
FOR_CHAT: Final = "c:"
FOR_CHAT_PATTERN: Final = r"(?:c:-\d{1,20}:)?"
# Channels: /kanal_trennen's choice of a connected channel.
CHANNEL_END: Final = "chan:end:"  # + chat id


def for_chat(chat_id: int, data: str) -> str:
    """Return callback data that acts on ``chat_id`` instead of the chat of the message."""
    return f"{FOR_CHAT}{chat_id}:{data}"


def split_chat(data: str) -> tuple[int | None, str]:
    """Return the chat a callback names (None: the message's chat) and the panel's own data."""
    if not data.startswith(FOR_CHAT):
        return None, data
    head, _, rest = data.removeprefix(FOR_CHAT).partition(":")
    try:
        return int(head), rest
    except ValueError:
        return None, data


def channel_end(chat_id: int) -> str:
    """Return the callback data that disconnects a channel."""
    return f"{CHANNEL_END}{chat_id}"


# "Ich komme" on meeting cards, and the admins' /teilnehmer. The longest, "att:anon:" or
# "att:name:" + a 40-character event id, is 49 bytes.
ATTEND_YES: Final = "att:yes:"  # + event id: "Ich komme"
ATTEND_NO: Final = "att:no:"  # + event id: "Doch nicht"
ATTEND_NAME: Final = "att:name:"  # + event id: share my name with the organisers
ATTEND_ANON: Final = "att:anon:"  # + event id: count me, without my name
ATTENDEES_SHOW: Final = "att:show:"  # + event id: an admin's numbers of one meeting
ATTENDEES_PAGE: Final = "att:page:"  # + page number of /teilnehmer's meeting picker
ATTENDEES_CSV: Final = "att:csv:"  # + event id: the shared names as a CSV document
# Places: "Auf der Karte" sends the venue (sendVenue).
EVENT_MAP: Final = "ev:map:"  # + event id


def attend(prefix: str, event_id: str) -> str:
    """Return the callback data of an "Ich komme" action (one of the ATTEND_* prefixes)."""
    return f"{prefix}{event_id}"


def event_map(event_id: str) -> str:
    """Return the callback data that sends an event's venue as a map."""
    return f"{EVENT_MAP}{event_id}"


# Meetings maintenance (/termin_neu, /termin_aendern, /termin_absagen).

MEETING_PREFIX: Final = "mtg:"
MEETING_ABORT: Final = "mtg:abort"
MEETING_NETWORK: Final = "mtg:net:"  # + network slug, or ALLIANCE_WIDE
MEETING_NO_END: Final = "mtg:noend"
MEETING_NO_VENUE: Final = "mtg:novenue"
MEETING_NO_COORDINATES: Final = "mtg:nogeo"
MEETING_SAVE: Final = "mtg:save:"  # + meeting id or NEW_MEETING + ":" + token
MEETING_MORE: Final = "mtg:more"  # change another field
MEETING_PICK: Final = "mtg:pick:"  # + event id
MEETING_PAGE: Final = "mtg:page:"  # + page number
MEETING_FIELD: Final = "mtg:field:"  # + field name
MEETING_CANCEL_YES: Final = "mtg:drop:"  # + meeting id + ":" + token: yes, cancel the meeting


# Circulars (/rundschreiben, /rundschreiben_status).

CIRCULAR_PREFIX: Final = "bc:"
CIRCULAR_NEWS: Final = "bc:aud:news"
CIRCULAR_NETWORKS: Final = "bc:aud:net"
CIRCULAR_EVENTS: Final = "bc:aud:ev"
CIRCULAR_NETWORK: Final = "bc:net:"  # + slug
CIRCULAR_EVENT: Final = "bc:ev:"  # + event id
CIRCULAR_SEND: Final = "bc:send:"  # + broadcast id
CIRCULAR_PLAN: Final = "bc:plan:"  # + broadcast id
CIRCULAR_DISCARD: Final = "bc:discard:"  # + broadcast id (a draft)
CIRCULAR_ABORT: Final = "bc:abort"  # before a draft exists
CIRCULAR_PAUSE: Final = "bc:pause:"  # + broadcast id, from /rundschreiben_status
CIRCULAR_RESUME: Final = "bc:resume:"
CIRCULAR_CANCEL: Final = "bc:cancel:"  # asks first
CIRCULAR_CANCEL_YES: Final = "bc:cancelyes:"  # + broadcast id: confirmed
CIRCULAR_STATUS: Final = "bc:status"  # back to the list


# /start.

START_WELCOME: Final = "start:welcome"
