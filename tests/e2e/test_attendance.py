"""The "Ich komme" choice end to end: the real bot, the sandbox, a real SQLite file.

Members press "Ich komme" on the Karlsruhe demo meeting's card, one shares the name, one is
only counted; the admin's /teilnehmer counts move, the CSV holds only the shared name; the
reminder says "Sie haben zugesagt"; /meine_daten exports the choice and /daten_loeschen
takes it off the count.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import BotApp, build_application, running
from tests.e2e.conftest import Person
from tests.e2e.test_meetings import labels, last
from tests.e2e.test_subscriptions import ONE_DAY_BEFORE, dispatch, follow_all_meetings, reminders

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

ADMIN: Final = 7201
KARLSRUHE: Final = "demo-2027-03-karlsruhe"
CARD: Final = f"/start termin_{KARLSRUHE}"
PICK: Final = "Frühjahrstreffen"


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one admin."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app
    refused = [(c.method, c.response) for c in sandbox.calls if c.status == 400]
    assert not refused, refused


async def counts_line(admin: Person) -> str:
    """Open /teilnehmer, pick the Karlsruhe meeting, return its numbers' text."""
    (listing,) = await admin.say("/teilnehmer")
    assert (listing.text or "").startswith("Wer kommt? Wählen Sie einen Termin.")
    await admin.press(PICK, listing)
    return last(admin).text or ""


async def test_counts_move_names_are_shared_only_by_choice_and_vanish_with_deletion(
    admin_bot: BotApp, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Two say they come (one shares the name); counts, CSV, reminder, export, deletion."""
    admin = Person(sandbox, ADMIN, first_name="Ada")
    erika = Person(sandbox, 7202, first_name="Erika")
    max_ = Person(sandbox, 7203, first_name="=Max")
    assert "0 Personen kommen, davon 0 mit Namen." in await counts_line(admin)

    (card,) = await erika.say(CARD)
    assert {"✋ Ich komme", "Doch nicht"} <= set(labels(card))
    await erika.press("Ich komme", card)
    question = last(erika)
    assert (question.text or "").startswith("Notiert: Sie kommen zu")
    assert "Dürfen die Veranstalter Ihren Namen" in (question.text or "")
    await erika.press("Namen teilen", question)
    assert (last(erika).text or "").startswith("Danke. Die Veranstalter sehen Ihren Namen")

    (card,) = await max_.say(CARD)
    await max_.press("Ich komme", card)
    await max_.press("Nur mitzählen", last(max_))
    assert (last(max_).text or "") == "Danke. Sie werden mitgezählt, ohne Ihren Namen."
    await max_.press("Ich komme", card)  # twice is still one
    await max_.press("Nur mitzählen", last(max_))

    text = await counts_line(admin)
    assert "2 Personen kommen, davon 1 mit Namen." in text
    await admin.press("Namensliste (CSV)", last(admin))
    document = last(admin).document
    assert document is not None
    assert document.file_name == f"teilnehmer-{KARLSRUHE}.csv"
    table = list(csv.reader(io.StringIO(document.content.decode("utf-8-sig")), delimiter=";"))
    assert table == [["Vorname (Telegram)", "Name der Mitgliedschaft"], ["Erika", ""]]

    # A member's /teilnehmer is refused; the audit knows who looked.
    (refused,) = await erika.say("/teilnehmer")
    assert refused.text == "Dafür fehlen Ihnen leider die Rechte."
    (log,) = await admin.say("/protokoll")
    assert "attendance_viewed" in (log.text or "")
    assert "attendance_exported" in (log.text or "")

    await follow_all_meetings(erika)
    await follow_all_meetings(max_)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(admin_bot)
    (erika_reminder,) = reminders(erika)
    assert "Sie haben zugesagt. Wir freuen uns auf Sie!" in erika_reminder
    (max_reminder,) = reminders(max_)
    assert "Sie haben zugesagt" in max_reminder

    (export,) = await erika.say("/meine_daten")
    assert export.document is not None
    data = json.loads(export.document.content)
    (choice,) = data["attendance"]
    assert choice["event_id"] == KARLSRUHE
    assert choice["share_name"] is True
    assert choice["first_name"] == "Erika"

    await erika.say("/daten_loeschen")
    await erika.press("Ja, alles löschen")
    assert "1 Person kommt, davon 0 mit Namen." in await counts_line(admin)
    (export,) = await erika.say("/meine_daten")
    assert export.document is not None
    assert json.loads(export.document.content)["attendance"] == []

    await max_.press("Doch nicht", card)
    assert "0 Personen kommen" in await counts_line(admin)


async def test_past_meetings_take_no_choice(bot: BotApp, person: Person) -> None:
    """A past meeting's card has no "Ich komme"; a forged press is answered, not stored."""
    (card,) = await person.say("/start termin_netzwerktreffen-3")
    assert not any("Ich komme" in label for label in labels(card))
    person.sandbox.press_button(
        person.user_id, card.message_id, "att:yes:netzwerktreffen-3", check=False
    )
    await person.sandbox.wait_idle(person.user_id, quiet=0.2, timeout=10)
    (answer,) = [c for c in person.sandbox.calls if c.method == "answerCallbackQuery"][-1:]
    assert "keine Zusagen mehr möglich" in str(answer.params.get("text"))
