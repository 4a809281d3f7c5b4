"""Privacy self-service: /datenschutz, /meine_daten (a JSON file), /daten_loeschen."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.fast.conftest import GROUP, MEMBER, shown

if TYPE_CHECKING:
    from tests.fast.conftest import Harness, Person


async def subscribe_cyberlago(person: Person) -> None:
    """Follow cyberLAGO through /abo."""
    (panel,) = await person.say("/abo")
    await person.press("cyberLAGO", panel)


async def test_privacy_notice(person: Person) -> None:
    """/datenschutz says what is stored and names the self-service commands."""
    (notice,) = await person.say("/datenschutz")
    assert notice.plain.startswith("Datenschutz")
    assert "/meine_daten" in notice.plain
    assert "/daten_loeschen" in notice.plain
    assert "Für Admins" not in notice.plain, "a member has no admin dialogs"


async def test_export_holds_my_data_and_only_mine(fast: Harness, person: Person) -> None:
    """/meine_daten sends a JSON file with this person's subscriptions, no one else's."""
    other = fast.person(1002, "Max")
    await subscribe_cyberlago(person)
    (panel,) = await other.say("/abo")
    await other.press("Alle Netzwerktreffen", panel)
    (document,) = await person.say("/meine_daten")
    assert document.method == "sendDocument"
    assert document.plain.startswith("Alles, was ich über Sie gespeichert habe")
    ((file_name, content),) = document.files.values()
    assert file_name == "meine-daten.json"
    data = json.loads(content)
    assert data["telegram_user_id"] == MEMBER
    assert "cyberlago" in content.decode()
    assert "1002" not in content.decode()
    assert '"meetings"' not in content.decode()


async def test_delete_asks_then_erases(fast: Harness, person: Person) -> None:
    """/daten_loeschen asks; "Nein" keeps everything, "Ja" erases the subscriber."""
    await subscribe_cyberlago(person)
    (question,) = await person.say("/daten_loeschen")
    assert question.labels == ["Ja, alles löschen", "Nein"]
    await person.press("Nein", question)
    assert fast.rows("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", MEMBER) == [(1,)]
    (question,) = await person.say("/daten_loeschen")
    (done,) = shown(await person.press("Ja", question))
    assert done.plain.startswith("Erledigt: Ich habe alles gelöscht")
    assert fast.rows("SELECT COUNT(*) FROM subscribers WHERE chat_id = ?", MEMBER) == [(0,)]
    assert fast.rows("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", MEMBER) == [(0,)]


async def test_personal_data_commands_only_privately(fast: Harness, person: Person) -> None:
    """In a group nobody's data is exported or erased; the bot asks to write privately."""
    await subscribe_cyberlago(person)
    fast.updates.group(GROUP)
    for command in ("/meine_daten", "/daten_loeschen"):
        (reply,) = await person.say(command, chat_id=GROUP)
        assert (reply.method, reply.plain) == (
            "sendMessage",
            "Bitte schreiben Sie mir für alles, was Ihre Daten betrifft, in einem privaten Chat.",
        )
    assert fast.rows("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", MEMBER) == [(1,)]
