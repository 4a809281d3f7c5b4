"""/abo, /stopp with its undo, /erinnerungen: callback data round trips and the SQLite file."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import JOB_DISPATCH
from tests.conftest import BERLIN
from tests.fast.conftest import MEMBER, answers, shown

if TYPE_CHECKING:
    from bot.domain.clock import ManualClock
    from tests.fast.conftest import Harness, Person
    from tests.fast.fakes import Call

# The Karlsruhe demo meeting: Thursday, 18 March 2027, 10:00 Berlin.
ONE_DAY_BEFORE: Final = datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)
STALE: Final = "Diese Schaltfläche ist nicht mehr gültig. Bitte senden Sie /start."


def topics(fast: Harness, chat_id: int = MEMBER) -> list[tuple[str, str]]:
    """Return the chat's subscriptions as stored."""
    return [
        (str(topic), str(target))
        for topic, target in fast.rows(
            "SELECT topic, target FROM subscriptions WHERE chat_id = ? ORDER BY topic, target",
            chat_id,
        )
    ]


def quiet(fast: Harness, chat_id: int = MEMBER) -> list[tuple[object, ...]]:
    """Return the chat's stored quiet hours."""
    return fast.rows("SELECT quiet_start, quiet_end FROM subscribers WHERE chat_id = ?", chat_id)


async def follow_all_meetings(person: Person) -> Call:
    """Open /abo and switch "Alle Netzwerktreffen" on; return the edited panel."""
    (panel,) = await person.say("/abo")
    calls = await person.press("Alle Netzwerktreffen", panel)
    assert len(answers(calls)) == 1
    (edited,) = shown(calls)
    assert edited.method == "editMessageText"
    assert edited.message_id == panel.message_id, "the toggle updates the same message"
    return edited


async def test_abo_panel_lists_every_topic_with_short_callback_data(person: Person) -> None:
    """The panel offers the networks and topics as toggles; all callback data fits 64 bytes."""
    (panel,) = await person.say("/abo")
    assert panel.plain.startswith("Ihre Abonnements")
    assert "Sie haben noch nichts abonniert." in panel.plain
    assert "▫️ Alle Netzwerktreffen" in panel.labels
    assert "▫️ cyberLAGO" in panel.labels
    data = [b["callback_data"] for b in panel.buttons]
    assert "sub:t:meet" in data
    assert "sub:t:net:cyberlago" in data
    assert all(0 < len(d.encode()) <= 64 for d in data)


async def test_toggle_on_and_off_is_stored(fast: Harness, person: Person) -> None:
    """A toggle writes the subscription, a second press removes it; the panel says so."""
    panel = await follow_all_meetings(person)
    assert "✅ Alle Netzwerktreffen" in panel.labels
    assert "Sie haben zurzeit ein Abonnement." in panel.plain
    assert topics(fast) == [("meetings", "")]
    (again,) = shown(await person.press("Alle Netzwerktreffen", panel))
    assert "▫️ Alle Netzwerktreffen" in again.labels
    assert topics(fast) == []


async def test_network_toggle_is_stored_with_its_slug(fast: Harness, person: Person) -> None:
    """Following a network stores the network's slug as the target."""
    (panel,) = await person.say("/abo")
    (edited,) = shown(await person.press("cyberLAGO", panel))
    assert "✅ cyberLAGO" in edited.labels
    assert topics(fast) == [("network", "cyberlago")]


async def test_stopp_and_undo_round_trip(fast: Harness, person: Person) -> None:
    """/stopp asks, "Ja" removes everything and offers the undo, which restores it."""
    await follow_all_meetings(person)
    (question,) = await person.say("/stopp")
    assert question.plain.startswith("Möchten Sie Ihr Abonnement wirklich beenden?")
    assert [b["callback_data"] for b in question.buttons] == ["sub:stop:yes", "sub:stop:no"]
    (stopped,) = shown(await person.press("Ja", question))
    assert stopped.message_id == question.message_id
    assert stopped.plain.startswith("Sie haben alles abbestellt (1 Abonnement).")
    assert [b["callback_data"] for b in stopped.buttons] == ["sub:undo"]
    assert topics(fast) == []
    (restored,) = shown(await person.press("Rückgängig", stopped))
    assert restored.plain == "Wiederhergestellt: Ihr Abonnement ist wieder aktiv."
    assert topics(fast) == [("meetings", "")]


async def test_stopp_declined_keeps_everything(fast: Harness, person: Person) -> None:
    """ "Abbrechen" under the /stopp question leads back to the panel; nothing changes."""
    await follow_all_meetings(person)
    (question,) = await person.say("/stopp")
    (panel,) = shown(await person.press("Abbrechen", question))
    assert panel.plain.startswith("Ihre Abonnements")
    assert topics(fast) == [("meetings", "")]


async def test_stopp_without_subscriptions_says_so(person: Person) -> None:
    """/stopp with nothing subscribed says so, with the way to the panel and no question."""
    (reply,) = await person.say("/stopp")
    assert reply.plain.startswith("Sie haben nichts abonniert")
    assert [b["callback_data"] for b in reply.buttons] == ["sub:open"]


UNKNOWN: Final = "Dieses Netzwerk oder Treffen kenne ich nicht mehr."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("sub:t:net:gibt-es-nicht", UNKNOWN),
        ("sub:add:ev:99999", UNKNOWN),
        ("sub:t:net:", STALE),
        ("sub:t:meet:extra", STALE),
        ("rem:lead:5y", STALE),
        ("rem:quiet:2599-0000", STALE),
        ("rem:quiet:0700-0700", STALE),
        ("mtg:save", STALE),
        ("net:show:../../etc", STALE),
        ("x" * 64, STALE),
        ("💥", STALE),
    ],
)
async def test_forged_callback_data_is_answered_and_changes_nothing(
    fast: Harness, person: Person, data: str, expected: str
) -> None:
    """Forged or stale button data gets a polite German answer and changes nothing."""
    panel = await follow_all_meetings(person)
    stored = (topics(fast), quiet(fast))
    calls = await person.press_data(data, panel)
    assert [(c.method, c.params.get("text")) for c in calls] == [("answerCallbackQuery", expected)]
    assert (topics(fast), quiet(fast)) == stored


@pytest.mark.parametrize(
    ("code", "label", "stored"),
    [
        ("2100-0800", "✅ 21:00–08:00 Uhr", ("21:00", "08:00")),  # noqa: RUF001 - the en dash is shown
        ("2300-0600", "✅ 23:00–06:00 Uhr", ("23:00", "06:00")),  # noqa: RUF001
        ("none", "✅ Keine Ruhezeit", (None, None)),
    ],
)
async def test_quiet_hour_codes_are_stored(
    fast: Harness, person: Person, code: str, label: str, stored: tuple[str | None, ...]
) -> None:
    """Each quiet-hours button stores its hours and shows the choice ticked."""
    (panel,) = await person.say("/erinnerungen")
    assert f"rem:quiet:{code}" in [b["callback_data"] for b in panel.buttons]
    (edited,) = shown(await person.press_data(f"rem:quiet:{code}", panel))
    assert label in edited.labels
    assert [tuple(str(v)[:5] if v else None for v in row) for row in quiet(fast)] == [stored]


async def test_reminder_settings_default_and_last_lead_stays(person: Person) -> None:
    """/erinnerungen shows the defaults; switching off the last lead time is refused."""
    (panel,) = await person.say("/erinnerungen")
    assert "Ruhezeit: von 22:00 bis 07:00 Uhr." in panel.plain
    assert [label for label in panel.labels if label.startswith("✅") and "vorher" in label] == [
        "✅ 1 Tag vorher",
        "✅ 2 Stunden vorher",
    ]
    (edited,) = shown(await person.press("1 Tag vorher", panel))
    calls = await person.press("2 Stunden vorher", edited)
    (answer,) = answers(calls)
    assert answer.params["show_alert"] is True
    assert "/stopp" in answer.params["text"]
    assert not shown(calls)


async def dispatch(fast: Harness) -> list[Call]:
    """Run the dispatcher job now, as APScheduler would at its next tick; return its calls."""
    assert fast.app.job_queue is not None
    (job,) = fast.app.job_queue.get_jobs_by_name(JOB_DISPATCH)
    before = len(fast.request.calls)
    await job.run(fast.app)
    return fast.request.calls[before:]


async def test_reminder_at_its_time_once(
    fast: Harness, person: Person, clock: ManualClock
) -> None:
    """Following all meetings: the day-before reminder comes at its time, and only once."""
    await follow_all_meetings(person)
    assert shown(await dispatch(fast)) == [], "nothing is due yet"
    clock.set(ONE_DAY_BEFORE)
    (reminder,) = shown(await dispatch(fast))
    assert reminder.chat_id == MEMBER
    assert reminder.plain.startswith("Erinnerung: Morgen, Donnerstag, 18. März 2027, 10:00 Uhr")
    assert shown(await dispatch(fast)) == []
    assert fast.rows(
        "SELECT COUNT(*) FROM reminders WHERE chat_id = ? AND sent_at IS NOT NULL", MEMBER
    ) == [(1,)]


async def test_one_meeting_from_its_card(fast: Harness, person: Person) -> None:
    """ "Termin abonnieren" on a meeting's card follows that meeting only; the answer says so."""
    (card,) = await person.say("/treffen")
    calls = await person.press("Termin abonnieren", card)
    assert len(answers(calls)) == 1
    assert topics(fast) == [("event", "demo-2027-03-karlsruhe")]


async def test_a_wish_about_one_meeting_stops_that_meeting_only(
    fast: Harness, person: Person
) -> None:
    """'Für das Frühjahrstreffen in Karlsruhe …' stops that meeting, not Karlsruhe's network."""
    (card,) = await person.say("/treffen")
    await person.press("Termin abonnieren", card)
    (panel,) = await person.say("/abo")
    await person.press("cyberLAGO", panel)
    wish = "Bitte keine Erinnerungen mehr für das Frühjahrstreffen in Karlsruhe."
    (done,) = await person.say(wish)
    assert done.plain.startswith("Erledigt: Sie erhalten keine Erinnerungen mehr zu „Frühjahrs")
    assert topics(fast) == [("network", "cyberlago")]
    calls = await person.press("Rückgängig", done)
    assert len(answers(calls)) == 1
    assert topics(fast) == [("event", "demo-2027-03-karlsruhe"), ("network", "cyberlago")]


async def test_a_wish_about_a_meeting_followed_with_all_meetings_stops_nothing(
    fast: Harness, person: Person
) -> None:
    """A meeting that comes with 'Alle Netzwerktreffen' is not stopped alone, nor everything."""
    await follow_all_meetings(person)
    (reply,) = await person.say("Die Erinnerungen zum Sommertreffen brauche ich nicht mehr.")
    assert reply.plain.startswith("Sie folgen „Sommertreffen")
    assert reply.labels == ["Abos verwalten"]
    assert topics(fast) == [("meetings", "")]
