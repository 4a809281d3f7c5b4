"""Places end to end: the venue links to OpenStreetMap, "Auf der Karte" sends a venue.

An admin enters a meeting with a venue full of HTML characters and its coordinates in
/termin_neu; the card's venue is an escaped link to an OpenStreetMap search for venue and
city, and "Auf der Karte" makes the bot call sendVenue with the coordinates.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.app import BotApp, build_application, running
from tests.e2e.conftest import Person
from tests.e2e.test_meetings import labels, last, rows

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

ADMIN: Final = 7301
VENUE: Final = "Café <Kunst> & Co, Königstraße 1"


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one admin; no request may be refused."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app
    refused = [(c.method, c.response) for c in sandbox.calls if c.status == 400]
    assert not refused, refused


async def test_venue_links_to_osm_and_the_map_button_sends_a_venue(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """/termin_neu with coordinates; the card links the venue and sends it as a venue."""
    admin = Person(sandbox, ADMIN, first_name="Ada")
    await admin.say("/termin_neu")
    await admin.say("Stammtisch")
    await admin.press("Bündnisweit", last(admin))
    await admin.say("10.12.2026 18:00")
    await admin.press("Kein Ende angeben", last(admin))
    await admin.say("Stuttgart")
    (question,) = await admin.say(VENUE)
    assert "Wo liegt der Veranstaltungsort auf der Karte?" in (question.text or "")
    for wrong in ("irgendwo", "48.7784", "95, 9.18", "48.7, 181"):
        (hint,) = await admin.say(wrong)
        assert "Bitte senden Sie Breiten- und Längengrad" in (hint.text or ""), wrong
    await admin.say("48,7784; 9,1800")  # German decimal commas
    await admin.say("Ein Stammtisch.")
    await admin.press("Speichern", last(admin))
    ((meeting,),) = rows(settings.database, "SELECT id FROM events WHERE created_by = ?", ADMIN)

    (card,) = await admin.say(f"/start termin_{meeting}")
    assert "🗺 Auf der Karte" in labels(card)
    links = [e for e in card.entities if e["type"] == "text_link"]
    (osm,) = [e for e in links if "openstreetmap.org" in e["url"]]
    parts = urlsplit(osm["url"])
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.openstreetmap.org",
        "/search",
    )
    assert parse_qs(parts.query)["query"] == [f"{VENUE}, Stuttgart"]
    text = card.text or ""
    assert text[osm["offset"] : osm["offset"] + osm["length"]] == VENUE
    assert "Café &lt;Kunst&gt; &amp; Co" in (card.html or ""), "the venue is escaped"

    await admin.press("Auf der Karte", card)
    sent = last(admin)
    assert sent.venue is not None
    assert sent.venue["location"] == {"latitude": 48.7784, "longitude": 9.18}
    assert sent.venue["title"] == VENUE
    assert sent.venue["address"] == "Stuttgart"


async def test_no_coordinates_no_map_button(bot: BotApp, person: Person) -> None:
    """A meeting without coordinates offers no map; a forged press is answered politely."""
    (card,) = await person.say("/start termin_demo-2027-03-karlsruhe")
    assert not any("Karte" in label for label in labels(card))
    person.sandbox.press_button(
        person.user_id, card.message_id, "ev:map:demo-2027-03-karlsruhe", check=False
    )
    await person.sandbox.wait_idle(person.user_id, quiet=0.2, timeout=10)
    answers = [c for c in person.sandbox.calls if c.method == "answerCallbackQuery"]
    assert "keine Position auf der Karte" in str(answers[-1].params.get("text"))
