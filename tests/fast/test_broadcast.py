"""Circulars for admins: the dialog, planning with its checks, the status list, delivery."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from bot.app import services_of
from tests.conftest import BERLIN
from tests.fast.conftest import shown

if TYPE_CHECKING:
    from bot.domain.clock import ManualClock
    from tests.fast.conftest import Harness, Person
    from tests.fast.fakes import Call

TEXT: Final = "Wichtig: Das Treffen <im März> & online."
BOLD: Final = [{"type": "bold", "offset": 0, "length": 8}]
READERS: Final = (3001, 3002)
STALE: Final = "Diese Schaltfläche ist nicht mehr gültig. Bitte senden Sie /start."
REFUSAL: Final = "Dafür fehlen Ihnen leider die Rechte."
DATE_FORMAT: Final = (
    "Bitte senden Sie Datum und Uhrzeit als TT.MM.JJJJ HH:MM, zum Beispiel 18.03.2027 14:00."
)


async def news_readers(fast: Harness) -> None:
    """Let two people subscribe to the news through /abo."""
    for user_id in READERS:
        reader = fast.person(user_id, "Leser")
        (panel,) = await reader.say("/abo")
        await reader.press("Neuigkeiten", panel)


async def compose_to_news(fast: Harness, admin: Person) -> Call:
    """Compose a bold text to the news subscribers; return the question "Abschicken?"."""
    (prompt,) = await admin.say("/rundschreiben")
    assert prompt.plain.startswith("Senden Sie mir jetzt die Nachricht für das Rundschreiben")
    update = fast.updates.message(admin.user_id, TEXT, entities=BOLD)
    (menu,) = shown(await fast.process(update))
    assert menu.plain == "An wen soll das Rundschreiben gehen?"
    summary, preview, question = shown(await admin.press("Alle Abonnenten der Neuigkeiten", menu))
    assert summary.message_id == menu.message_id
    assert "2 Empfänger" in summary.plain
    # The preview is the message itself: the same text with the same entities, no HTML.
    assert (preview.params["text"], preview.params.get("entities")) == (TEXT, BOLD)
    assert "parse_mode" not in preview.params
    assert question.plain == "Abschicken?"
    assert question.labels == ["Jetzt senden", "Planen", "Abbrechen"]
    return question


def delivered(fast: Harness, chat_id: int) -> list[Call]:
    """Return the circulars a chat received."""
    return [c for c in fast.request.sent(chat_id) if c.params.get("text") == TEXT]


async def test_planned_circular_checks_the_time_and_goes_out_once(
    fast: Harness, admin: Person, clock: ManualClock
) -> None:
    """Planning refuses a past or garbled time; at its time each reader gets it once."""
    await news_readers(fast)
    question = await compose_to_news(fast, admin)
    (ask,) = shown(await admin.press("Planen", question))
    assert ask.plain == f"Wann soll es verschickt werden? {DATE_FORMAT}"
    (reply,) = await admin.say("26.11.2026 09:00")
    assert reply.plain.startswith("Dieser Zeitpunkt ist schon vorbei.")
    (reply,) = await admin.say("morgen")
    assert reply.plain == DATE_FORMAT
    (reply,) = await admin.say("27.11.2026 09:00")
    assert reply.plain.startswith("Rundschreiben Nr. 1 ist für 27.11.26, 09:00 geplant.")
    assert fast.rows("SELECT status FROM broadcasts") == [("planned",)]

    broadcaster = services_of(fast.app).broadcaster
    await broadcaster.run()
    assert all(delivered(fast, chat) == [] for chat in READERS), "not before its time"
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
    await broadcaster.run()
    await broadcaster.run()
    for chat in READERS:
        (circular,) = delivered(fast, chat)
        assert circular.params.get("entities") == BOLD
    report = fast.request.sent(admin.user_id)[-1].plain
    assert "Rundschreiben Nr. 1 ist verschickt." in report
    assert "Zugestellt: 2" in report
    actions = [a for (a,) in fast.rows("SELECT action FROM audit ORDER BY id")]
    assert actions[:1] == ["broadcast_created"]
    assert all(TEXT not in str(d) for (d,) in fast.rows("SELECT detail FROM audit"))


async def test_pause_resume_and_cancel_from_the_status_list(fast: Harness, admin: Person) -> None:
    """The status list pauses and resumes a planned circular; cancelling asks first."""
    await news_readers(fast)
    await admin.press("Planen", await compose_to_news(fast, admin))
    await admin.say("27.11.2026 09:00")
    (status,) = await admin.say("/rundschreiben_status")
    assert status.labels == ["Nr. 1 pausieren", "Nr. 1 abbrechen"]
    (paused,) = shown(await admin.press("pausieren", status))
    assert "pausiert" in paused.plain
    (resumed,) = shown(await admin.press("fortsetzen", paused))
    assert "geplant" in resumed.plain
    (ask,) = shown(await admin.press("Nr. 1 abbrechen", resumed))
    assert "wirklich abbrechen" in ask.plain
    (back,) = shown(await admin.press("Zurück", ask))
    assert fast.rows("SELECT status FROM broadcasts") == [("planned",)]
    (ask,) = shown(await admin.press("Nr. 1 abbrechen", back))
    await admin.press("Ja, abbrechen", ask)
    assert fast.rows("SELECT status FROM broadcasts") == [("cancelled",)]


async def test_discarded_draft_sends_nothing(fast: Harness, admin: Person) -> None:
    """ "Abbrechen" under the preview discards the draft; /abbrechen ends any step."""
    await news_readers(fast)
    (done,) = shown(await admin.press("Abbrechen", await compose_to_news(fast, admin)))
    assert done.plain == "Abgebrochen. Es wurde nichts verschickt."
    await admin.say("/rundschreiben")
    (reply,) = await admin.say("/abbrechen")
    assert reply.plain == "Abgebrochen. Es wurde nichts verschickt."
    await services_of(fast.app).broadcaster.run()
    assert all(delivered(fast, chat) == [] for chat in READERS)


async def test_a_member_cannot_press_an_admins_buttons(
    fast: Harness, admin: Person, person: Person
) -> None:
    """Circular buttons pressed by a member (forged data) are refused and change nothing."""
    await news_readers(fast)
    question = await compose_to_news(fast, admin)
    (own,) = await person.say("/start")
    for data in ("bc:send:1", "bc:plan:1", "bc:pause:1", "bc:cancel:1", "bc:pause:99"):
        calls = await person.press_data(data, own)
        assert [c.method for c in calls] == ["answerCallbackQuery"], data
        # The dialog's buttons are no buttons outside the admin's dialog; the list's refuse.
        assert calls[0].params["text"] in (STALE, REFUSAL), data
    assert fast.rows("SELECT status FROM broadcasts") == [("draft",)]
    assert question.labels == ["Jetzt senden", "Planen", "Abbrechen"]
