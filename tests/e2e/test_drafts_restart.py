"""Admin dialogs survive a restart: the real bot stopped and started again on one database.

An admin is in the middle of /termin_neu or /rundschreiben when the bot stops; a new bot
process (a new Application on the same SQLite file and the same sandbox) continues where
the admin was. A draft whose 30 minutes passed while the bot was down is answered with the
timeout message; /meine_daten exports a stored draft and /daten_loeschen deletes it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import BotApp, build_application, running
from tests.e2e.conftest import Person, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage

ADMIN: Final = 7201
TITLE: Final = "Netzwerktreffen nach dem Neustart"
TEXT: Final = "Rundschreiben nach dem Neustart"
MEETING_TIMEOUT: Final = (
    "Die Eingabe wurde nach 30 Minuten ohne Antwort beendet. Es wurde nichts gespeichert."
)
BROADCAST_TIMEOUT: Final = (
    "Das Rundschreiben wurde nach 30 Minuten ohne Antwort verworfen. Es wurde nichts gesendet."
)


@pytest.fixture
def make_bot(settings: Settings, clock: ManualClock) -> Callable[[], BotApp]:
    """Return a factory of bots on the same database, with one admin."""
    admin_settings = dataclasses.replace(settings, admins=frozenset({ADMIN}))
    return lambda: build_application(admin_settings, clock=clock, seed_demo=True)


@pytest.fixture
def admin(sandbox: Sandbox) -> Person:
    """Return the admin chatting with the bot."""
    return Person(sandbox, ADMIN, first_name="Ada")


def rows(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read rows from the bot's database with a second connection."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def last(person: Person) -> SentMessage:
    """Return the bot's latest message to a person."""
    return person.messages()[-1]


def no_refusals(sandbox: Sandbox) -> None:
    """No request of the bot was one Telegram refuses (400), except an unchanged edit."""
    refused = [
        (c.method, c.response)
        for c in sandbox.calls
        if c.status == 400 and "not modified" not in c.response.get("description", "")
    ]
    assert not refused, refused


async def start_meeting(admin: Person) -> None:
    """Run /termin_neu up to the question for the end: title, network, date."""
    await admin.say("/termin_neu")
    await admin.say(TITLE)
    await admin.press("Bündnisweit")
    (question,) = await admin.say("10.12.2026 18:00")
    assert "Schritt 4 von" in (question.text or "")


async def test_a_meeting_draft_survives_a_restart(
    make_bot: Callable[[], BotApp], admin: Person, settings: Settings, sandbox: Sandbox
) -> None:
    """Title and date typed, restart, the end time and the rest answered, saved."""
    async with running(make_bot()):
        await start_meeting(admin)
        # While the bot runs, PTB hands the dialog over within its update interval (what a
        # crash would keep), not only when it stops; seen with a second connection.
        await until(
            lambda: (
                rows(settings.database, "SELECT state FROM dialog_states") == [(4,)]
                and TITLE in str(rows(settings.database, "SELECT data FROM dialog_drafts"))
            ),
            within=10.0,
        )
    # Stopped: the state (step 4, the end time) and the draft are in the database.
    assert rows(settings.database, "SELECT name, chat_id, user_id FROM dialog_states") == [
        ("meetings", ADMIN, ADMIN)
    ]
    ((stored,),) = rows(
        settings.database, "SELECT data FROM dialog_drafts WHERE user_id = ?", ADMIN
    )
    assert TITLE in str(stored)

    async with running(make_bot()):
        (question,) = await admin.say("20:00")
        assert "In welchem Ort" in (question.text or "")
        await admin.say("Stuttgart")
        await admin.say("Haus der Wirtschaft")
        await admin.say("48.7784, 9.1800")
        (preview,) = await admin.say("Austausch unter den Netzwerken.")
        text = preview.text or ""
        assert text.startswith("Vorschau")
        assert TITLE in text
        assert "Donnerstag, 10. Dezember 2026, 18:00 Uhr – 20:00 Uhr" in text  # noqa: RUF001
        await admin.press("Speichern", preview)
        assert (last(admin).text or "").startswith("Gespeichert.")
    assert rows(settings.database, "SELECT title FROM events WHERE created_by = ?", ADMIN) == [
        (TITLE,)
    ]
    # The dialog ended: nothing of it is left.
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_drafts") == [(0,)]
    no_refusals(sandbox)


async def test_a_circular_draft_survives_a_restart(
    make_bot: Callable[[], BotApp], admin: Person, settings: Settings, sandbox: Sandbox
) -> None:
    """Text typed, restart, audience chosen, the preview shown; then discarded."""
    async with running(make_bot()):
        await admin.say("/rundschreiben")
        (menu,) = await admin.say(TEXT)
        assert menu.text == "An wen soll das Rundschreiben gehen?"
    assert rows(settings.database, "SELECT name FROM dialog_states") == [("broadcast",)]

    async with running(make_bot()):
        before = len(admin.messages())
        await admin.press("Alle Abonnenten der Neuigkeiten", menu)
        await _wait_for(admin, before + 2)
        preview, question = admin.messages()[before:][-2:]
        assert preview.text == TEXT
        assert "Jetzt senden" in json.dumps(question.reply_markup, ensure_ascii=False)
        summary = admin.messages()[before - 1].text or ""
        assert summary.startswith("Rundschreiben Nr. 1 an alle Abonnenten")
        await admin.press("Abbrechen", question)
    assert rows(settings.database, "SELECT status FROM broadcasts") == [("cancelled",)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_drafts") == [(0,)]
    no_refusals(sandbox)


async def _wait_for(person: Person, count: int) -> None:
    """Wait until the bot has sent ``count`` messages to this person (paced per chat)."""
    await until(lambda: len(person.messages()) >= count)


async def test_an_expired_draft_times_out_after_a_restart(
    make_bot: Callable[[], BotApp],
    admin: Person,
    settings: Settings,
    clock: ManualClock,
    sandbox: Sandbox,
) -> None:
    """31 minutes pass while the bot is down: the next message gets the timeout answer."""
    async with running(make_bot()):
        await start_meeting(admin)
    clock.advance(timedelta(minutes=31))
    async with running(make_bot()):
        (reply,) = await admin.say("20:00")
        assert reply.text == MEETING_TIMEOUT
        (reply,) = await admin.say("Stuttgart")
        assert "Schritt" not in (reply.text or ""), "the dialog has ended"
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_drafts") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM events WHERE created_by = ?", ADMIN) == [
        (0,)
    ]

    # The same for a circular: a button pressed after the restart gets the timeout answer.
    async with running(make_bot()):
        await admin.say("/rundschreiben")
        (menu,) = await admin.say(TEXT)
    clock.advance(timedelta(minutes=31))
    async with running(make_bot()):
        before = len(admin.messages())
        await admin.press("Alle Abonnenten der Neuigkeiten", menu)
        await _wait_for(admin, before + 1)
        assert last(admin).text == BROADCAST_TIMEOUT
    assert rows(settings.database, "SELECT COUNT(*) FROM broadcasts") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
    no_refusals(sandbox)


async def test_my_data_exports_and_deletes_the_stored_draft(
    make_bot: Callable[[], BotApp], admin: Person, settings: Settings, sandbox: Sandbox
) -> None:
    """/meine_daten shows the stored draft; /daten_loeschen removes it, also after a stop."""
    async with running(make_bot()):
        await start_meeting(admin)
    async with running(make_bot()) as app:
        (notice,) = await admin.say("/datenschutz")
        assert "Für Admins:" in (notice.text or "")
        assert "Neustart" in (notice.text or "")
        (export,) = await admin.say("/meine_daten")
        assert export.document is not None
        dialogs = json.loads(export.document.content)["admin_dialogs"]
        assert [s["name"] for s in dialogs["states"]] == ["meetings"]
        assert dialogs["drafts"]["data"]["meetings.draft"]["event"]["title"] == TITLE
        await admin.say("/daten_loeschen")
        await admin.press("Ja, alles löschen")
        assert "Erledigt" in (last(admin).text or "")
        assert rows(settings.database, "SELECT COUNT(*) FROM dialog_drafts") == [(0,)]
        assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
        await app.update_persistence()  # what PTB hands over later must not bring it back
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_drafts") == [(0,)]
    assert rows(settings.database, "SELECT COUNT(*) FROM dialog_states") == [(0,)]
    no_refusals(sandbox)
