"""Admin commands: refusals for members and in groups, the meeting dialog's validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pytest

from tests.fast.conftest import ADMIN, GROUP, shown

if TYPE_CHECKING:
    from tests.fast.conftest import Harness, Person
    from tests.fast.fakes import Call

REFUSAL: Final = "Dafür fehlen Ihnen leider die Rechte."
PRIVATE_ONLY: Final = "Bitte verwenden Sie diesen Befehl im privaten Chat mit mir."
DATE_HINT: Final = "Bitte im Format TT.MM.JJJJ HH:MM, z. B. 18.03.2027 14:00"
ABORTED: Final = "Abgebrochen. Es wurde nichts gespeichert."
ADMIN_COMMANDS: Final = (
    "/termin_neu",
    "/termin_aendern",
    "/termin_absagen",
    "/admin_hinzufuegen 123",
    "/admin_entfernen 123",
    "/protokoll",
    "/rundschreiben",
    "/rundschreiben_status",
    "/unbeantwortet",
    "/statistik",
)


def created_events(fast: Harness) -> int:
    """Return how many meetings were created through the bot."""
    ((count,),) = fast.rows("SELECT COUNT(*) FROM events WHERE created_at IS NOT NULL")
    return int(count)


def audited(fast: Harness) -> list[str]:
    """Return the audited actions."""
    return [str(action) for (action,) in fast.rows("SELECT action FROM audit ORDER BY id")]


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_member_is_refused(fast: Harness, person: Person, command: str) -> None:
    """Every admin command answers a member with the refusal only and changes nothing."""
    replies = await person.say(command)
    assert [r.plain for r in replies] == [REFUSAL]
    assert audited(fast) == []
    # No dialog was opened: a date afterwards is an ordinary message.
    (reply,) = await person.say("10.12.2026 18:00")
    assert DATE_HINT not in reply.plain


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/termin_neu", [PRIVATE_ONLY]),
        ("/termin_aendern", [PRIVATE_ONLY]),
        ("/termin_absagen", [PRIVATE_ONLY]),
        ("/statistik", [PRIVATE_ONLY]),
        ("/unbeantwortet", [PRIVATE_ONLY]),
        # The circular commands exist only in private chats: in a group they are as unknown
        # as another bot's command, and unknown commands in a group get no answer.
        ("/rundschreiben", []),
        ("/rundschreiben_status", []),
    ],
)
async def test_admin_commands_in_a_group_point_to_the_private_chat(
    fast: Harness, admin: Person, command: str, expected: list[str]
) -> None:
    """The admin's dialogs, numbers and circulars work only privately; nothing in a group."""
    fast.updates.group(GROUP)
    replies = await admin.say(command, chat_id=GROUP)
    assert [r.plain for r in replies] == expected
    assert audited(fast) == []
    assert fast.rows("SELECT COUNT(*) FROM broadcasts") == [(0,)]


async def test_member_in_a_group_is_refused_too(fast: Harness, person: Person) -> None:
    """A member's admin command in a group changes nothing, whatever the answer."""
    fast.updates.group(GROUP)
    replies = await person.say("/admin_hinzufuegen 1001", chat_id=GROUP)
    assert [r.plain for r in replies] in ([REFUSAL], [PRIVATE_ONLY])
    assert fast.rows("SELECT COUNT(*) FROM admins") == [(0,)]


async def test_admin_gets_the_admin_menu_once(fast: Harness, admin: Person) -> None:
    """An admin's first message sets their own command menu (a chat scope), once."""
    await admin.say("/start")
    await admin.say("/hilfe")
    menus = [
        c for c in fast.request.of("setMyCommands") if c.params["scope"].get("chat_id") == ADMIN
    ]
    assert len(menus) == 1
    commands = {c["command"] for c in menus[0].params["commands"]}
    assert {"termin_neu", "protokoll", "start"} <= commands


async def test_admin_adds_and_removes_an_admin_audited(fast: Harness, admin: Person) -> None:
    """/admin_hinzufuegen and /admin_entfernen change the table and are audited."""
    (added,) = await admin.say("/admin_hinzufuegen 7002")
    assert "7002" in added.plain
    assert fast.rows("SELECT user_id FROM admins") == [(7002,)]
    (removed,) = await admin.say("/admin_entfernen 7002")
    assert "7002" in removed.plain
    assert fast.rows("SELECT COUNT(*) FROM admins") == [(0,)]
    assert audited(fast) == ["admin_added", "admin_removed"]


async def test_admin_add_with_garbage_is_explained(fast: Harness, admin: Person) -> None:
    """A missing or malformed user id gets a German explanation and changes nothing."""
    for command in ("/admin_hinzufuegen", "/admin_hinzufuegen <b>abc</b>"):
        (reply,) = await admin.say(command)
        assert "/admin_hinzufuegen" in reply.plain
    assert fast.rows("SELECT COUNT(*) FROM admins") == [(0,)]


async def new_meeting_at_the_start_step(admin: Person) -> Call:
    """Run /termin_neu through title and network; return the question for the start."""
    (question,) = await admin.say("/termin_neu")
    assert question.plain.startswith("Neuer Termin, Schritt 1 von 8")
    (question,) = await admin.say("Netzwerktreffen <Stuttgart> & mehr")
    assert question.plain.startswith("Neuer Termin, Schritt 2 von 8")
    assert [b["callback_data"] for b in question.buttons][-2:] == ["mtg:net:-", "mtg:abort"]
    (question,) = shown(await admin.press("Bündnisweit", question))
    assert "Wann beginnt der Termin?" in question.plain
    return question


async def test_meeting_title_too_long_or_empty_asks_again(fast: Harness, admin: Person) -> None:
    """A title over 200 characters (or only spaces) is refused with the rule; same step."""
    await admin.say("/termin_neu")
    for title in ("x" * 201, "   "):
        (hint,) = await admin.say(title)
        assert hint.plain.startswith("Der Titel muss 1 bis 200 Zeichen lang sein.")
        assert "Schritt 1 von 8" in hint.plain
    (question,) = await admin.say("x" * 200)
    assert "Schritt 2 von 8" in question.plain


async def test_meeting_start_bad_then_past_date(fast: Harness, admin: Person) -> None:
    """A date that is none gets the format; a past one the rule and the format; same step."""
    await new_meeting_at_the_start_step(admin)
    (hint,) = await admin.say("32.13.2027 25:00")
    assert hint.plain.startswith(DATE_HINT)
    assert "Schritt 3 von 8" in hint.plain
    (hint,) = await admin.say("01.11.2026 18:00")
    assert hint.plain.startswith("Der Beginn muss in der Zukunft liegen.")
    assert "Schritt 3 von 8" in hint.plain
    (question,) = await admin.say("10.12.2026 18:00")
    assert "Schritt 4 von 8" in question.plain
    (hint,) = await admin.say("17:00")
    assert hint.plain.startswith("Das Ende muss am selben Tag nach dem Beginn liegen.")


async def test_meeting_dialog_escapes_typed_markup(fast: Harness, admin: Person) -> None:
    """The title typed with HTML characters is shown literally in later questions' echoes."""
    await new_meeting_at_the_start_step(admin)
    await admin.say("10.12.2026 18:00")
    await admin.say("20 Uhr")
    await admin.say("Stuttgart")
    await admin.say("Haus der Wirtschaft")
    await admin.say("48.7784, 9.18")
    (preview,) = await admin.say("Vorträge <b>und</b> Austausch")
    assert preview.plain.startswith("Vorschau: So sehen Mitglieder den Termin.")
    assert "Netzwerktreffen <Stuttgart> & mehr" in preview.plain
    assert "Vorträge <b>und</b> Austausch" in preview.plain
    assert "&lt;Stuttgart&gt; &amp; mehr" in preview.text
    assert preview.labels == ["Speichern", "Abbrechen"]
    assert created_events(fast) == 0


async def test_meeting_dialog_aborted_leaves_nothing(fast: Harness, admin: Person) -> None:
    """ "Abbrechen" and /abbrechen end the dialog; nothing is stored or audited."""
    question = await new_meeting_at_the_start_step(admin)
    (done,) = shown(await admin.press("Abbrechen", question))
    assert done.plain == ABORTED
    (reply,) = await admin.say("10.12.2026 18:00")
    assert "Schritt" not in reply.plain, "the dialog is over"
    await admin.say("/termin_neu")
    (reply,) = await admin.say("/abbrechen")
    assert reply.plain == ABORTED
    (reply,) = await admin.say("/abbrechen")
    assert reply.plain == "Gerade gibt es nichts abzubrechen."
    assert created_events(fast) == 0
    assert audited(fast) == []


async def test_meeting_dialog_saves_and_audits(fast: Harness, admin: Person) -> None:
    """Saving the preview stores the meeting, audited with the admin's id."""
    await new_meeting_at_the_start_step(admin)
    for answer in ("10.12.2026 18:00", "20 Uhr", "Stuttgart", "Haus der Wirtschaft", "48.78 9.18"):
        await admin.say(answer)
    (preview,) = await admin.say("Austausch unter den Netzwerken.")
    retired, saved = shown(await admin.press("Speichern", preview))
    assert retired.method == "editMessageReplyMarkup", "the used preview loses its buttons"
    assert saved.plain.startswith("Gespeichert.")
    assert fast.rows("SELECT title, city FROM events WHERE created_by = ?", ADMIN) == [
        ("Netzwerktreffen <Stuttgart> & mehr", "Stuttgart")
    ]
    assert audited(fast) == ["meeting_created"]
