"""Calendar feeds end to end: the real bot, its listener over HTTP, the sandbox, SQLite.

A feed parses with icalendar; after /termin_aendern the meeting comes back with the same UID
and a higher SEQUENCE, and the old ETag no longer gets 304. The single .ics file sent in the
chat carries the same UID and SEQUENCE as the feed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

import aiohttp
import pytest
from icalendar import Calendar, Component
from multidict import CIMultiDict

from bot.app import BotApp, build_application, running, services_of
from bot.config import HttpSettings
from tests.e2e.conftest import Person
from tests.e2e.test_meetings import ADMIN, create_meeting, event_id, labels, last

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

PUBLIC: Final = "https://bot.example.org"
KARLSRUHE: Final = "demo-2027-03-karlsruhe@netzwerkbot.it-buendnis-bw"


@pytest.fixture
async def feed_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with the listener, a public URL and one admin."""
    app = build_application(
        dataclasses.replace(
            settings,
            http=HttpSettings("127.0.0.1", 0),
            public_url=PUBLIC,
            admins=frozenset({ADMIN}),
        ),
        clock=clock,
        seed_demo=True,
    )
    async with running(app):
        yield app


@pytest.fixture
def admin(sandbox: Sandbox) -> Person:
    """Return the admin chatting with the bot."""
    return Person(sandbox, ADMIN, first_name="Ada")


def base_url(app: BotApp) -> str:
    """Return the listener's base URL."""
    listener = services_of(app).listener
    assert listener is not None
    return f"http://127.0.0.1:{listener.port}"


async def fetch(url: str, etag: str | None = None) -> tuple[int, CIMultiDict[str], bytes]:
    """GET a feed (conditionally with an ETag); return status, headers and body."""
    headers = {} if etag is None else {"If-None-Match": etag}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, CIMultiDict(answer.headers), await answer.read()


def vevents(body: bytes) -> dict[str, Component]:
    """Parse a feed; return its VEVENTs by UID."""
    calendar = Calendar.from_ical(body)
    return {str(v["UID"]): v for v in calendar.walk("VEVENT")}


async def test_feed_parses_and_updates_after_a_change(
    feed_bot: BotApp, admin: Person, settings: Settings
) -> None:
    """A changed meeting keeps its UID, its SEQUENCE rises, the old ETag is stale."""
    url = base_url(feed_bot) + "/kalender/alle.ics"
    status, headers, body = await fetch(url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(body)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = vevents(body)
    assert KARLSRUHE in events
    assert all("LAST-MODIFIED" in v and "SEQUENCE" in v for v in events.values())
    etag = headers["ETag"]
    status, _, empty = await fetch(url, etag)
    assert (status, empty) == (304, b"")

    await create_meeting(admin)
    meeting = event_id(settings.database)
    uid = f"{meeting}@netzwerkbot.it-buendnis-bw"
    status, headers, body = await fetch(url, etag)
    assert status == 200, "a new meeting makes a new feed"
    created = vevents(body)[uid]
    assert created.decoded("SEQUENCE") == 0
    assert str(created["STATUS"]) == "TENTATIVE", "announced"
    etag = headers["ETag"]

    (listing,) = await admin.say("/termin_aendern")
    await admin.press("Netzwerktreffen <Stuttgart>", listing)
    await admin.press("Datum und Uhrzeit", last(admin))
    await admin.say("10.12.2026 19:00")
    await admin.press("Speichern", last(admin))
    assert (last(admin).text or "").startswith("Gespeichert.")

    status, headers, body = await fetch(url, etag)
    assert status == 200, "the old ETag no longer matches"
    changed = vevents(body)[uid]
    assert changed.decoded("SEQUENCE") == 1
    assert changed.decoded("DTSTART").hour == 19
    assert changed.decoded("LAST-MODIFIED") >= created.decoded("LAST-MODIFIED")
    assert headers["ETag"] != etag

    (listing,) = await admin.say("/termin_absagen")
    await admin.press("Netzwerktreffen <Stuttgart>", listing)
    await admin.press("Ja, Termin absagen", last(admin))
    _, _, body = await fetch(url)
    cancelled = vevents(body)[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.decoded("SEQUENCE") == 2


async def test_network_feed_and_unknown_network(feed_bot: BotApp) -> None:
    """A network's feed holds its meetings only; an unknown network is 404."""
    _, _, everything = await fetch(base_url(feed_bot) + "/kalender/alle.ics")
    status, _, body = await fetch(base_url(feed_bot) + "/kalender/cyberlago.ics")
    assert status == 200
    calendar = Calendar.from_ical(body)
    assert "cyberLAGO" in str(calendar["X-WR-CALNAME"])
    assert set(vevents(body)) < set(vevents(everything))
    status, _, _ = await fetch(base_url(feed_bot) + "/kalender/gibt-es-nicht.ics")
    assert status == 404


async def test_chat_file_carries_the_feeds_uid_and_sequence(
    feed_bot: BotApp, person: Person
) -> None:
    """The .ics file from the card has the feed's UID and SEQUENCE; /kalender gives webcal."""
    (reply,) = await person.say("/kalender")
    text = reply.text or ""
    assert "webcal://bot.example.org/kalender/alle.ics" in text
    assert "webcal://bot.example.org/kalender/cyberlago.ics" in text

    (card,) = await person.say("/start termin_demo-2027-03-karlsruhe")
    assert "📅 Kalender abonnieren" in labels(card)
    buttons = [b for row in (card.reply_markup or {})["inline_keyboard"] for b in row]
    (subscribe,) = [b for b in buttons if "Kalender abonnieren" in b["text"]]
    assert subscribe["url"] == PUBLIC + "/kalender/alle.ics"
    await person.press(".ics", card)
    document = person.messages()[-1].document
    assert document is not None
    (chat_event,) = vevents(document.content).values()
    _, _, body = await fetch(base_url(feed_bot) + "/kalender/alle.ics")
    feed_event = vevents(body)[KARLSRUHE]
    assert str(chat_event["UID"]) == KARLSRUHE
    assert chat_event.decoded("SEQUENCE") == feed_event.decoded("SEQUENCE")


async def test_without_public_url_kalender_says_so(bot: BotApp, person: Person) -> None:
    """Without NETZWERKBOT_PUBLIC_URL /kalender explains politely; cards have no button."""
    (reply,) = await person.say("/kalender")
    assert "nicht angeboten" in (reply.text or "")
    (card,) = await person.say("/start termin_demo-2027-03-karlsruhe")
    assert not any("Kalender abonnieren" in label for label in labels(card))
