"""A member's commands and buttons, update by update: welcome, deep links, cards, .ics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icalendar import Calendar

from tests.conftest import BERLIN
from tests.fast.conftest import answers, shown

if TYPE_CHECKING:
    from tests.fast.conftest import Harness, Person


async def test_start_greets_by_name_with_buttons(person: Person) -> None:
    """/start greets the person by first name, in HTML, with the main buttons."""
    (welcome,) = await person.say("/start")
    assert welcome.method == "sendMessage"
    assert welcome.params["parse_mode"] == "HTML"
    assert welcome.plain.startswith("Hallo Erika!")
    assert "<b>Hallo Erika!</b>" in welcome.text
    assert welcome.labels == ["Netzwerke", "Termine", "Nächstes Treffen", "Hilfe"]
    data = [b["callback_data"] for b in welcome.buttons]
    assert data == ["net:list", "ev:up:0", "ev:show:demo-2027-03-karlsruhe", "help:show"]


async def test_start_escapes_the_first_name(fast: Harness) -> None:
    """A first name that looks like HTML is shown as typed, never interpreted."""
    person = fast.person(1077, first_name="<i>Max</i> & Co")
    (welcome,) = await person.say("/start")
    assert welcome.plain.startswith("Hallo <i>Max</i> & Co!")
    assert "&lt;i&gt;Max&lt;/i&gt; &amp; Co" in welcome.text


async def test_deep_link_to_a_network(person: Person) -> None:
    """/start netzwerk_<slug> opens the network's card with its subscribe button."""
    (card,) = await person.say("/start netzwerk_it-netzwerk-ulm")
    assert card.plain.startswith("IT-Netzwerk Ulm")
    assert [b["callback_data"] for b in card.buttons] == [
        "sub:add:net:it-netzwerk-ulm",
        "net:list",
    ]


async def test_deep_link_to_a_meeting(person: Person) -> None:
    """/start termin_<id> opens the meeting's card."""
    (card,) = await person.say("/start termin_netzwerktreffen-4")
    assert "1. Juli 2014" in card.plain
    assert "Konstanz" in card.plain


async def test_deep_link_to_an_unknown_meeting_lists_the_upcoming(person: Person) -> None:
    """An unknown meeting id says so and offers the upcoming meetings instead."""
    (reply,) = await person.say("/start termin_gibt-es-nicht")
    assert reply.plain.startswith("Dieses Treffen kenne ich nicht.")
    assert "ev:show:demo-2027-03-karlsruhe" in [b["callback_data"] for b in reply.buttons]


async def test_deep_link_with_a_garbled_payload_greets(person: Person) -> None:
    """A payload that is no deep link of ours gets the ordinary welcome."""
    (reply,) = await person.say("/start <script>netzwerk_</script>")
    assert reply.plain.startswith("Hallo Erika!")


async def test_network_card_replaces_the_list(person: Person) -> None:
    """Pressing a network in /netzwerke edits the same message into the network's card."""
    (networks,) = await person.say("/netzwerke")
    assert "13" in networks.plain
    calls = await person.press("cyberLAGO", networks)
    assert len(answers(calls)) == 1
    (card,) = shown(calls)
    assert card.method == "editMessageText"
    assert card.message_id == networks.message_id
    assert "Konstanz" in card.plain
    assert "cyberlago.net" in card.text


async def test_next_meeting_and_its_ics_file(person: Person) -> None:
    """/treffen shows the next meeting; its button sends a valid .ics in Berlin time."""
    (meeting,) = await person.say("/treffen")
    assert "Donnerstag, 18. März 2027, 10:00 Uhr" in meeting.plain
    assert "erfundener Demo-Termin" in meeting.plain
    calls = await person.press(".ics", meeting)
    assert len(answers(calls)) == 1
    (document,) = [c for c in calls if c.method == "sendDocument"]
    ((file_name, content),) = document.files.values()
    assert file_name == "demo-2027-03-karlsruhe.ics"
    (vevent,) = Calendar.from_ical(content).walk("VEVENT")
    start = vevent.decoded("DTSTART").astimezone(BERLIN)
    assert (start.date().isoformat(), start.hour) == ("2027-03-18", 10)


async def test_past_meetings_from_the_upcoming_list(person: Person) -> None:
    """From /termine the past meetings and their cards are reachable."""
    (upcoming,) = await person.say("/termine")
    (past,) = shown(await person.press("Vergangene", upcoming))
    assert "5. März 2015" in past.plain
    (card,) = shown(await person.press("7. Netzwerktreffen", past))
    assert "Fellbach" in card.plain


async def test_pressing_the_same_button_twice_is_quiet(person: Person) -> None:
    """A second press that changes nothing is answered; Telegram's "not modified" is ignored."""
    (networks,) = await person.say("/netzwerke")
    await person.press("cyberLAGO", networks)
    calls = await person.press_data("net:show:cyberlago", networks)
    assert len(answers(calls)) == 1
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    assert edit.status == 400
    assert "not modified" in edit.response["description"]


async def test_command_menu_is_set_in_german_at_start(fast: Harness) -> None:
    """post_init sets the menus for everyone, also for German, with German descriptions."""
    menus = [c for c in fast.request.of("setMyCommands") if c.params["scope"]["type"] == "default"]
    assert [c.params.get("language_code") for c in menus] == [None, "de"]
    for call in menus:
        commands = {c["command"]: c["description"] for c in call.params["commands"]}
        assert commands["termine"] == "Kommende Treffen"
        assert {"start", "netzwerke", "treffen", "abo", "hilfe"} <= set(commands)
