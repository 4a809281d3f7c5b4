"""A member's whole conversation with the real bot, through the sandbox over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icalendar import Calendar

from tests.conftest import BERLIN

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.sandbox import Sandbox
    from tests.e2e.conftest import Person

DEMO_MARKER = "erfundener Demo-Termin"


def labels(message: object) -> list[str]:
    """Return the labels of a message's inline buttons."""
    markup = getattr(message, "reply_markup", None) or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_conversation(bot: BotApp, sandbox: Sandbox, person: Person) -> None:
    """Start, networks, a network card, the next meeting, its card and .ics, questions."""
    (welcome,) = await person.say("/start")
    assert "Erika" in welcome.text
    assert "/hilfe" in welcome.text or labels(welcome)

    (networks,) = await person.say("/netzwerke")
    assert "13" in networks.text
    assert any("cyberLAGO" in label for label in labels(networks))

    await person.press("cyberLAGO", networks)
    card = person.messages()[-1]
    assert card.message_id == networks.message_id, "the card replaces the list"
    assert "Konstanz" in card.text
    assert "cyberlago.net" in (card.html or "")

    (upcoming,) = await person.say("/termine")
    assert "18. März 2027" in upcoming.text
    assert "erfundene Demo-Termine" in upcoming.text

    (next_meeting,) = await person.say("/treffen")
    assert "Donnerstag, 18. März 2027, 10:00 Uhr" in next_meeting.text
    assert "Karlsruhe" in next_meeting.text
    assert DEMO_MARKER in next_meeting.text

    before = len(person.messages())
    await person.press(".ics", next_meeting)
    document = person.messages()[before]
    assert document.document is not None
    assert document.document.file_name == "demo-2027-03-karlsruhe.ics"
    calendar = Calendar.from_ical(document.document.content)
    (vevent,) = calendar.walk("VEVENT")
    start = vevent.decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.astimezone(BERLIN).hour == 10
    assert start.astimezone(BERLIN).date().isoformat() == "2027-03-18"
    assert "Frühjahrstreffen" in str(vevent.get("SUMMARY"))
    assert calendar.walk("VTIMEZONE"), "the time zone travels with the file"

    replies = await person.say("Wer leitet eigentlich connect.IT?")
    assert any("Hochschule Heilbronn" in m.text for m in replies)

    replies = await person.say("Was kostet eine Mitgliedschaft bei cyberLAGO?")
    text = " ".join(m.text for m in replies)
    assert "weiß ich leider nicht" in text
    assert "/hilfe" in text
    assert "Euro" not in text


async def test_deep_links(bot: BotApp, person: Person) -> None:
    """/start netzwerk_<slug> and /start termin_<id> open the card directly."""
    (card,) = await person.say("/start netzwerk_it-netzwerk-ulm")
    assert "Ulm" in card.text
    (card,) = await person.say("/start termin_netzwerktreffen-4")
    assert "1. Juli 2014" in card.text
    assert "Konstanz" in card.text
    (reply,) = await person.say("/start termin_gibt-es-nicht")
    assert "kenne ich nicht" in reply.text


async def test_past_meetings_reachable(bot: BotApp, person: Person) -> None:
    """From the upcoming list one reaches the past meetings and their cards."""
    (upcoming,) = await person.say("/termine")
    await person.press("Vergangene", upcoming)
    past = person.messages()[-1]
    assert "5. März 2015" in past.text
    await person.press("7. Netzwerktreffen", past)
    assert "Fellbach" in person.messages()[-1].text


async def test_command_menu_is_german(bot: BotApp, sandbox: Sandbox) -> None:
    """The menu is set for everyone and for German, with German descriptions."""
    for language in ("", "de"):
        commands = {c["command"]: c["description"] for c in sandbox.commands(None, language)}
        assert set(commands) >= {"start", "netzwerke", "termine", "treffen", "hilfe"}
        assert commands["termine"] == "Kommende Treffen"
