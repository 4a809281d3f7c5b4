"""Meetings maintenance end to end: the real bot, the sandbox, a real SQLite file.

An admin creates, changes and cancels a meeting in the guided German conversations; a
member who follows "Alle Netzwerktreffen" sees it in /termine, gets its reminders, and the
change and cancel notices. Members are refused every admin command. The clock is the bot's
ManualClock; the dispatcher job is run directly instead of waiting for APScheduler.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import pytest
from telegram.ext import CommandHandler, ConversationHandler

from bot.app import (
    GROUP_FEATURES,
    JOB_DISPATCH,
    BotApp,
    build_application,
    running,
    services_of,
)
from handlers import meetings
from tests.conftest import BERLIN
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage

ADMIN: Final = 7101
MEMBER: Final = 7102
REFUSAL: Final = "Dafür fehlen Ihnen leider die Rechte."
DATE_HINT: Final = "Bitte im Format TT.MM.JJJJ HH:MM, z. B. 18.03.2027 14:00"
TITLE: Final = "Netzwerktreffen <Stuttgart> & mehr"
# Thursday, 10 December 2026, 18:00-20:00 in Berlin; the clock stands at 26 November 2026.
DAY_BEFORE: Final = datetime(2026, 12, 9, 18, 0, tzinfo=BERLIN)
TWO_HOURS_BEFORE: Final = datetime(2026, 12, 10, 16, 0, tzinfo=BERLIN)
ADMIN_COMMANDS: Final = (
    "/termin_neu",
    "/termin_aendern",
    "/termin_absagen",
    "/admin_hinzufuegen 123",
    "/admin_entfernen 123",
    "/protokoll",
    "/rundschreiben",
    "/rundschreiben_status",
)


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one admin from the environment; no request may be refused (400)."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app
    refused = [
        (c.method, c.response)
        for c in sandbox.calls
        if c.status == 400 and "not modified" not in c.response.get("description", "")
    ]
    assert not refused, refused


@pytest.fixture
def admin(sandbox: Sandbox) -> Person:
    """Return the admin chatting with the bot."""
    return Person(sandbox, ADMIN, first_name="Ada")


@pytest.fixture
def member(sandbox: Sandbox) -> Person:
    """Return a member chatting with the bot."""
    return Person(sandbox, MEMBER)


async def dispatch(app: BotApp) -> None:
    """Send everything due now, as the dispatcher job would, and wait until it is sent.

    APScheduler's own tick may be draining already (the dispatcher then returns None at
    once); drain again until a drain of ours has run to its end.
    """
    assert app.job_queue is not None
    assert app.job_queue.get_jobs_by_name(JOB_DISPATCH)
    while await services_of(app).dispatcher.run() is None:  # noqa: ASYNC110 - not ours to signal
        await asyncio.sleep(0.05)  # waiting for the other drain's requests, not for time


def rows(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read rows from the bot's database with a second connection."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def texts(person: Person, start: str) -> list[str]:
    """Return the texts of the bot's messages to a person that begin with ``start``."""
    return [m.text or "" for m in person.messages() if (m.text or "").startswith(start)]


def labels(message: SentMessage) -> list[str]:
    """Return the labels of a message's buttons."""
    return [
        b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row
    ]


def last(person: Person) -> SentMessage:
    """Return the bot's latest message to a person."""
    return person.messages()[-1]


def registered_commands(app: BotApp) -> set[str]:
    """Return every command the bot handles, conversation entry points included."""
    names: set[str] = set()
    for handler in app.handlers[GROUP_FEATURES]:
        inner = handler.entry_points if isinstance(handler, ConversationHandler) else [handler]
        for each in inner:
            if isinstance(each, CommandHandler):
                names |= set(each.commands)
    return names


async def follow_all_meetings(member: Person) -> None:
    """Open /abo and switch on "Alle Netzwerktreffen"."""
    (panel,) = await member.say("/abo")
    await member.press("Alle Netzwerktreffen", panel)
    assert "✅ Alle Netzwerktreffen" in labels(last(member))


async def create_meeting(admin: Person, *, wrong_date: bool = False) -> None:
    """Run /termin_neu to the end: an alliance-wide meeting on 10 December 2026, 18-20 h."""
    (question,) = await admin.say("/termin_neu")
    assert "Schritt 1 von 8" in (question.text or "")
    assert "Titel" in (question.text or "")
    assert "Abbrechen" in labels(question)
    (question,) = await admin.say(TITLE)
    assert "Schritt 2 von 8" in (question.text or "")
    assert {"cyberLAGO", "Bündnisweit"} <= set(labels(question))
    await admin.press("Bündnisweit", question)
    assert "Wann beginnt der Termin?" in (last(admin).text or "")
    if wrong_date:
        (hint,) = await admin.say("32.13.2027 25:00")
        assert DATE_HINT in (hint.text or "")
        assert "Schritt 3 von 8" in (hint.text or ""), "the same question again"
        (hint,) = await admin.say("01.11.2026 18:00")
        assert "Der Beginn muss in der Zukunft liegen." in (hint.text or "")
    (question,) = await admin.say("10.12.2026 18:00")
    assert "Schritt 4 von 8" in (question.text or "")
    assert "Kein Ende angeben" in labels(question)
    if wrong_date:
        (hint,) = await admin.say("17:00")
        assert "Das Ende muss am selben Tag nach dem Beginn liegen." in (hint.text or "")
    (question,) = await admin.say("20 Uhr")
    assert "In welchem Ort" in (question.text or "")
    (question,) = await admin.say("Stuttgart")
    assert "Überspringen" in labels(question)
    (question,) = await admin.say("Haus der Wirtschaft, Willi-Bleicher-Straße 19")
    assert "Wo liegt der Veranstaltungsort auf der Karte?" in (question.text or "")
    assert "Überspringen" in labels(question)
    if wrong_date:
        (hint,) = await admin.say("91.5, 9.18")
        assert "Bitte senden Sie Breiten- und Längengrad" in (hint.text or "")
    (question,) = await admin.say("48.7784, 9.1800")
    assert "beschreiben Sie den Termin" in (question.text or "")
    (preview,) = await admin.say("Vorträge <b>und</b> Austausch unter den Netzwerken.")
    text = preview.text or ""
    assert text.startswith("Vorschau: So sehen Mitglieder den Termin.")
    assert TITLE in text
    assert "Donnerstag, 10. Dezember 2026, 18:00 Uhr – 20:00 Uhr" in text  # noqa: RUF001
    assert "Vorträge <b>und</b> Austausch" in text, "typed markup is shown, not applied"
    assert "Eingetragen über den Bot am 26. November 2026." in text
    assert labels(preview) == ["Speichern", "Abbrechen"]
    await admin.press("Speichern", preview)
    saved = last(admin)
    assert (saved.text or "").startswith("Gespeichert.")
    assert TITLE in (saved.text or "")


def event_id(database: Path) -> str:
    """Return the id of the meeting the admin created."""
    ((found,),) = rows(database, "SELECT id FROM events WHERE created_by = ?", ADMIN)
    return str(found)


# --- (a) refusals -------------------------------------------------------------------------


async def test_member_is_refused_everything(
    admin_bot: BotApp, member: Person, admin: Person, settings: Settings
) -> None:
    """Every admin command answers a member with the refusal only, and changes nothing."""
    commands = registered_commands(admin_bot)
    mine = {"termin_neu", "termin_aendern", "termin_absagen"}
    assert mine | {"admin_hinzufuegen", "admin_entfernen", "protokoll"} <= commands
    for command in ADMIN_COMMANDS:
        if command.split()[0].removeprefix("/") not in commands:
            continue  # another feature not built yet
        replies = await member.say(command)
        assert [r.text for r in replies] == [REFUSAL], command
    # No conversation started: a date is an ordinary message, /abbrechen has nothing to end.
    (reply,) = await member.say("/abbrechen")
    assert reply.text == "Gerade gibt es nichts abzubrechen."
    (reply,) = await member.say("10.12.2026 18:00")
    assert "Bitte im Format" not in (reply.text or "")
    assert rows(settings.database, "SELECT COUNT(*) FROM events WHERE created_at IS NOT NULL") == [
        (0,)
    ]
    (log,) = await admin.say("/protokoll")
    assert "meeting_" not in (log.text or "")
    assert "admin_" not in (log.text or "")


# --- (b) create ---------------------------------------------------------------------------


async def test_admin_creates_a_meeting_members_get_reminders(
    admin_bot: BotApp, admin: Person, member: Person, clock: ManualClock, settings: Settings
) -> None:
    """Created through the conversation (a wrong date answered with the hint): listed, reminded."""
    await follow_all_meetings(member)
    await create_meeting(admin, wrong_date=True)
    meeting = event_id(settings.database)
    assert meeting == "netzwerktreffen-stuttgart-2026-12-10"  # cut to leave room

    (listing,) = await member.say("/termine")
    assert TITLE in (listing.text or "")
    await member.press("Netzwerktreffen <Stuttgart>", listing)
    card = last(member).text or ""
    assert "Haus der Wirtschaft" in card
    assert "Eingetragen über den Bot am 26. November 2026." in card
    assert "Quelle" not in card

    clock.set(DAY_BEFORE)
    await dispatch(admin_bot)
    (reminder,) = texts(member, "Erinnerung")
    assert reminder.startswith("Erinnerung: Morgen, Donnerstag, 10. Dezember 2026, 18:00 Uhr")
    assert TITLE in reminder
    clock.set(TWO_HOURS_BEFORE)
    await dispatch(admin_bot)
    assert texts(member, "Erinnerung")[-1].startswith("Erinnerung: Heute, Donnerstag")
    assert len(texts(member, "Erinnerung")) == 2


# --- (c) change, (d) cancel, (e) audit --------------------------------------------------


async def test_change_then_cancel_with_notices_and_audit(
    admin_bot: BotApp, admin: Person, member: Person, clock: ManualClock, settings: Settings
) -> None:
    """A later start: notice, reminders move; cancelled: notice, no more reminders; audited."""
    await follow_all_meetings(member)
    await create_meeting(admin)
    meeting = event_id(settings.database)
    clock.set(DAY_BEFORE)
    await dispatch(admin_bot)
    assert len(texts(member, "Erinnerung")) == 1

    (listing,) = await admin.say("/termin_aendern")
    assert (listing.text or "").startswith("Welchen Termin möchten Sie ändern?")
    await admin.press("Netzwerktreffen <Stuttgart>", listing)
    fields = last(admin)
    assert labels(fields) == [
        "Titel",
        "Datum und Uhrzeit",
        "Ende",
        "Ort",
        "Veranstaltungsort",
        "Beschreibung",
        "Abbrechen",
    ]
    await admin.press("Datum und Uhrzeit", fields)
    question = last(admin).text or ""
    assert "Bisher: 10.12.2026 18:00" in question
    (hint,) = await admin.say("morgen früh")
    assert DATE_HINT in (hint.text or "")
    (preview,) = await admin.say("10.12.2026 19:00")
    assert "19:00 Uhr – 20:00 Uhr" in (preview.text or "")  # noqa: RUF001 - end kept
    assert "Weiteres Feld ändern" in labels(preview)
    await admin.press("Speichern", preview)
    assert (last(admin).text or "").startswith("Gespeichert. Die Abonnenten werden")

    await dispatch(admin_bot)
    (notice,) = texts(member, "Geändert")
    assert TITLE in notice
    assert "19:00" in notice
    due = rows(
        settings.database,
        "SELECT lead, status, due_at FROM reminders WHERE event_id = ? ORDER BY lead",
        meeting,
    )
    assert due == [
        ("1d", "pending", "2026-12-09T18:00:00+00:00"),
        ("2h", "pending", "2026-12-10T16:00:00+00:00"),
    ]
    clock.set(datetime(2026, 12, 9, 19, 0, tzinfo=BERLIN))
    await dispatch(admin_bot)
    assert texts(member, "Erinnerung")[-1].startswith(
        "Erinnerung: Morgen, Donnerstag, 10. Dezember 2026, 19:00 Uhr"
    )
    reminded = len(texts(member, "Erinnerung"))

    (listing,) = await admin.say("/termin_absagen")
    assert (listing.text or "").startswith("Welchen Termin möchten Sie absagen?")
    await admin.press("Netzwerktreffen <Stuttgart>", listing)
    question = last(admin)
    assert (question.text or "").startswith("Möchten Sie diesen Termin wirklich absagen?")
    await admin.press("Ja, Termin absagen", question)
    assert (last(admin).text or "").startswith("Der Termin wurde abgesagt.")
    await dispatch(admin_bot)
    (cancelled,) = texts(member, "Abgesagt")
    assert TITLE in cancelled
    clock.set(TWO_HOURS_BEFORE)
    await dispatch(admin_bot)
    assert len(texts(member, "Erinnerung")) == reminded
    (listing,) = await member.say("/termine")
    assert TITLE not in (listing.text or "")

    (log,) = await admin.say("/protokoll")
    text = log.text or ""
    for action in ("meeting_created", "meeting_changed", "meeting_cancelled"):
        assert action in text
    assert meeting in text
    assert "Austausch" not in text, "the audit holds ids, never message texts"


# --- (f) abort ----------------------------------------------------------------------------


async def test_abort_at_any_step_leaves_nothing(
    admin_bot: BotApp, admin: Person, settings: Settings
) -> None:
    """ "Abbrechen" and /abbrechen end the conversation; nothing is stored or audited."""
    await admin.say("/termin_neu")
    await admin.say("Wird nie gespeichert")
    await admin.press("cyberLAGO")
    (question,) = await admin.say("10.12.2026 18:00")
    await admin.press("Abbrechen", question)
    assert last(admin).text == "Abgebrochen. Es wurde nichts gespeichert."
    (reply,) = await admin.say("Stuttgart")
    assert "Schritt" not in (reply.text or ""), "the conversation is over"

    await admin.say("/termin_neu")
    sticker = {
        "file_id": "CAACAgIAAxkBAAE",
        "file_unique_id": "AgADsticker",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    (question,) = await admin.send(sticker=sticker)
    assert question.text == "Bitte antworten Sie mit Text."
    (reply,) = await admin.say("/abbrechen")
    assert reply.text == "Abgebrochen. Es wurde nichts gespeichert."

    (listing,) = await admin.say("/termin_absagen")
    await admin.press("Frühjahrstreffen", listing)
    await admin.press("Nein, Termin beibehalten")
    assert last(admin).text == "Abgebrochen. Der Termin bleibt unverändert."

    assert rows(settings.database, "SELECT COUNT(*) FROM events WHERE created_at IS NOT NULL") == [
        (0,)
    ]
    assert rows(
        settings.database, "SELECT status FROM events WHERE id = ?", "demo-2027-03-karlsruhe"
    ) == [("planned",)]
    assert rows(settings.database, "SELECT COUNT(*) FROM audit WHERE action LIKE 'meeting_%'") == [
        (0,)
    ]


async def test_silence_ends_the_conversation(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the timeout the admin is told, and a late answer is no answer any more.

    PTB runs conversation timeouts on APScheduler's real clock, so this test shortens the
    timeout instead of moving the bot's clock.
    """
    monkeypatch.setattr(meetings, "CONVERSATION_TIMEOUT", timedelta(seconds=0.3))
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        admin = Person(sandbox, ADMIN)
        await admin.say("/termin_neu")
        for _ in range(200):  # waiting for the bot's timeout job, at most 10 s
            if (last(admin).text or "").startswith("Die Eingabe wurde nach"):
                break
            await asyncio.sleep(0.05)
        assert (last(admin).text or "").endswith("Es wurde nichts gespeichert.")
        (reply,) = await admin.say("Ein später Titel")
        assert "Schritt 2" not in (reply.text or "")


# --- no edit silently undone ----------------------------------------------------------------

SPRING: Final = "demo-2027-03-karlsruhe"
SUMMER: Final = "demo-2027-06-ulm"
OTHER_ADMIN: Final = 7103
STALE: Final = "Diese Bestätigung ist nicht mehr aktuell; es wurde nichts geändert."


def status(database: Path, event: str) -> str:
    """Return a meeting's stored status."""
    ((found,),) = rows(database, "SELECT status FROM events WHERE id = ?", event)
    return str(found)


def last_of(sandbox: Sandbox, message: SentMessage) -> SentMessage:
    """Return a message of the admin's chat as it is now (after edits)."""
    (now,) = [m for m in sandbox.messages(ADMIN) if m.message_id == message.message_id]
    return now


def button_data(message: SentMessage, label: str) -> str:
    """Return the callback data of a message's button."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def test_stale_cancel_button_cancels_nothing(
    admin_bot: BotApp, admin: Person, sandbox: Sandbox, settings: Settings
) -> None:
    """A superseded "Ja, Termin absagen" loses its buttons, and a stale press does nothing."""
    (listing,) = await admin.say("/termin_absagen")
    await admin.press("Frühjahrstreffen", listing)
    first = last(admin)
    stale_data = button_data(first, "Ja, Termin absagen")
    assert SPRING in stale_data
    assert len(stale_data.encode()) <= 64
    (listing,) = await admin.say("/termin_absagen")
    await admin.press("Sommertreffen", listing)
    second = last(admin)
    assert "Sommertreffen" in (second.text or "")
    assert labels(last_of(sandbox, first)) == [], "the superseded confirmation lost its buttons"
    # A client that still shows the old button (or a forged press) sends its data anyway.
    sandbox.press_button(ADMIN, first.message_id, stale_data, check=False)
    await sandbox.wait_idle(ADMIN, quiet=0.2, timeout=10)
    assert (last(admin).text or "").startswith(STALE)
    assert status(settings.database, SUMMER) == "planned"
    assert status(settings.database, SPRING) == "planned"
    # The current confirmation still works, for the meeting it shows.
    current_data = button_data(second, "Ja, Termin absagen")
    await admin.press("Ja, Termin absagen", second)
    assert "Der Termin wurde abgesagt." in (last(admin).text or "")
    assert status(settings.database, SUMMER) == "cancelled"
    assert status(settings.database, SPRING) == "planned"
    # After the dialog, the pressed confirmation's data is stale too.
    assert labels(last_of(sandbox, second)) == [], "the used confirmation lost its buttons"
    sandbox.press_button(ADMIN, second.message_id, current_data, check=False)
    await sandbox.wait_idle(ADMIN, quiet=0.2, timeout=10)
    assert (last(admin).text or "").startswith(STALE)


async def test_stale_save_button_saves_nothing(
    admin_bot: BotApp, admin: Person, sandbox: Sandbox, settings: Settings
) -> None:
    """The preview of an earlier change of another meeting saves nothing into the current one."""
    (listing,) = await admin.say("/termin_aendern")
    await admin.press("Frühjahrstreffen", listing)
    await admin.press("Titel")
    (old_preview,) = await admin.say("Alter Entwurf")
    old_data = button_data(old_preview, "Speichern")
    (listing,) = await admin.say("/termin_aendern")
    await admin.press("Sommertreffen", listing)
    await admin.press("Titel")
    (preview,) = await admin.say("Neuer Titel")
    sandbox.press_button(ADMIN, old_preview.message_id, old_data, check=False)
    await sandbox.wait_idle(ADMIN, quiet=0.2, timeout=10)
    assert (last(admin).text or "").startswith(STALE)
    titles = dict(rows(settings.database, "SELECT id, title FROM events"))
    assert "Entwurf" not in str(titles)
    assert titles[SUMMER] == "Sommertreffen der regionalen IT-Netzwerke 2027"
    await admin.press("Speichern", preview)
    assert dict(rows(settings.database, "SELECT id, title FROM events"))[SUMMER] == "Neuer Titel"


@pytest.fixture
async def two_admins_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with two admins from the environment."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN, OTHER_ADMIN})),
        clock=clock,
        seed_demo=True,
    )
    async with running(app):
        yield app


async def _change(person: Person, field: str, value: str) -> SentMessage:
    """Open /termin_aendern on the spring meeting and change one field; return the preview."""
    (listing,) = await person.say("/termin_aendern")
    await person.press("Frühjahrstreffen", listing)
    await person.press(field)
    (preview,) = await person.say(value)
    return preview


async def test_two_admins_do_not_undo_each_other(
    two_admins_bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """Each save writes only its own fields; the same field changed twice asks again."""
    ada, bob = Person(sandbox, ADMIN, "Ada"), Person(sandbox, OTHER_ADMIN, "Bob")
    ada_preview = await _change(ada, "Titel", "Frühjahrstreffen mit neuem Titel")
    bob_preview = await _change(bob, "Veranstaltungsort", "Neue Halle, Karlsruhe")
    await ada.press("Speichern", ada_preview)
    await bob.press("Speichern", bob_preview)
    ((title, venue),) = rows(
        settings.database, "SELECT title, venue FROM events WHERE id = ?", SPRING
    )
    assert (title, venue) == ("Frühjahrstreffen mit neuem Titel", "Neue Halle, Karlsruhe")

    # Both change the start: the second is shown the current state and asked again.
    ada_preview = await _change(ada, "Datum und Uhrzeit", "19.03.2027 10:00")
    bob_preview = await _change(bob, "Datum und Uhrzeit", "20.03.2027 10:00")
    await ada.press("Speichern", ada_preview)
    before = len(bob.messages())
    await bob.press("Speichern", bob_preview)
    conflict, again = bob.messages()[before:]
    assert "Ein anderer Admin hat diesen Termin inzwischen geändert" in (conflict.text or "")
    assert "19. März 2027" in (conflict.text or "")
    assert "20. März 2027" in (again.text or "")
    assert "Speichern" in labels(again)
    assert rows(settings.database, "SELECT date FROM events WHERE id = ?", SPRING) == [
        ("2027-03-19",)
    ]
    await bob.press("Speichern", again)
    assert rows(settings.database, "SELECT date, title FROM events WHERE id = ?", SPRING) == [
        ("2027-03-20", "Frühjahrstreffen mit neuem Titel")
    ]


async def test_one_admin_dialog_at_a_time(admin_bot: BotApp, admin: Person) -> None:
    """With /rundschreiben open, /termin_neu refuses with a hint, and the other way round."""
    await admin.say("/rundschreiben")
    (hint,) = await admin.say("/termin_neu")
    assert hint.text == (
        "Sie verfassen gerade ein Rundschreiben. Bitte schließen Sie diese Eingabe zuerst ab "
        "oder beenden Sie sie mit /abbrechen."
    )
    (menu,) = await admin.say("Ein Text für das Rundschreiben")
    assert "An wen soll das Rundschreiben gehen?" in (menu.text or ""), "still the circular"
    (reply,) = await admin.say("/abbrechen")
    assert reply.text == "Abgebrochen. Es wurde nichts verschickt."

    (question,) = await admin.say("/termin_neu")
    assert "Schritt 1 von 8" in (question.text or "")
    (hint,) = await admin.say("/rundschreiben")
    assert (hint.text or "").startswith("Sie bearbeiten gerade einen Termin.")
    (question,) = await admin.say("Ein Titel")
    assert "Schritt 2 von 8" in (question.text or ""), "the meeting dialog goes on"
    await admin.say("/abbrechen")
    (prompt,) = await admin.say("/rundschreiben")
    assert "Rundschreiben" in (prompt.text or "")


async def test_start_only_within_five_years(admin_bot: BotApp, admin: Person) -> None:
    """A start years ahead (a typo such as 9999) is refused with a hint, like one in the past."""
    await admin.say("/termin_neu")
    await admin.say("Weit weg")
    await admin.press("Bündnisweit")
    (hint,) = await admin.say("31.12.9999 23:30")
    assert "Der Beginn darf höchstens 5 Jahre in der Zukunft liegen." in (hint.text or "")
    assert "Schritt 3 von 8" in (hint.text or "")
    (hint,) = await admin.say("27.11.2031 10:00")
    assert "höchstens 5 Jahre" in (hint.text or "")
    (question,) = await admin.say("25.11.2031 10:00")
    assert "Schritt 4 von 8" in (question.text or "")
