"""Subscriptions and reminders end to end: the real bot, the sandbox, a real SQLite file.

The clock is the bot's injected ManualClock; the tests move it and run the dispatcher job
directly (``await job.run(app)``) instead of sleeping until APScheduler would.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.__main__ import main
from bot.app import JOB_DISPATCH, JOB_WEEKLY, BotApp, build_application, running
from tests.conftest import BERLIN, REPO
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

DEMO_FILE = REPO / "bot" / "data" / "demo-events.toml"
KARLSRUHE = "demo-2027-03-karlsruhe"
# The Karlsruhe demo meeting: Thursday, 18 March 2027, 10:00 Berlin (09:00 UTC).
ONE_DAY_BEFORE = datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)
TWO_HOURS_BEFORE = datetime(2027, 3, 18, 8, 0, tzinfo=BERLIN)


async def dispatch(app: BotApp) -> None:
    """Run the dispatcher job now, as APScheduler would at its next tick."""
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(JOB_DISPATCH)
    await job.run(app)


def reminders(person: Person) -> list[str]:
    """Return the texts of the reminders this person got."""
    return [m.text or "" for m in person.messages() if (m.text or "").startswith("Erinnerung")]


def rows(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read rows from the bot's database with a second connection."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


async def operator_import(
    text: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ``netzwerkbot import`` on the bot's database, as an operator would meanwhile."""
    path = tmp_path / "import.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("NETZWERKBOT_DATABASE", str(settings.database))
    monkeypatch.chdir(tmp_path)
    # Another connection in another thread: the bot's event loop keeps running.
    assert await asyncio.to_thread(main, ["import", str(path)]) == 0


async def follow_all_meetings(person: Person) -> None:
    """Open /abo and switch on "Alle Netzwerktreffen"."""
    (panel,) = await person.say("/abo")
    await person.press("Alle Netzwerktreffen", panel)
    edited = person.messages()[-1]
    assert edited.message_id == panel.message_id, "the toggle updates the same message"
    assert "✅ Alle Netzwerktreffen" in [
        b["text"] for row in edited.reply_markup["inline_keyboard"] for b in row
    ]


async def test_toggle_then_reminder_at_due_time_once(
    bot: BotApp, person: Person, clock: ManualClock
) -> None:
    """Subscribe with the toggles; the reminder comes at its due time, exactly once."""
    await follow_all_meetings(person)
    await dispatch(bot)
    assert reminders(person) == []

    clock.set(ONE_DAY_BEFORE - timedelta(seconds=1))
    await dispatch(bot)
    assert reminders(person) == []

    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    (text,) = reminders(person)
    assert text.startswith("Erinnerung: Morgen, Donnerstag, 18. März 2027, 10:00 Uhr")
    assert "Karlsruhe" in text
    assert "erfundener Demo-Termin" in text
    labels = [
        b["text"] for row in person.messages()[-1].reply_markup["inline_keyboard"] for b in row
    ]
    assert any(".ics" in label for label in labels)

    await dispatch(bot)
    clock.advance(timedelta(minutes=30))
    await dispatch(bot)
    assert len(reminders(person)) == 1

    clock.set(TWO_HOURS_BEFORE)
    await dispatch(bot)
    assert reminders(person)[-1].startswith("Erinnerung: Heute, Donnerstag, 18. März 2027")
    assert len(reminders(person)) == 2


async def test_restart_across_the_due_time(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A reminder that came due while the bot was down is sent once on start, never again."""
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        person = Person(sandbox, 2002)
        await follow_all_meetings(person)
    clock.set(ONE_DAY_BEFORE + timedelta(hours=3))  # due while nobody ran the bot
    for _ in range(2):
        app = build_application(settings, clock=clock, seed_demo=True)
        async with running(app):
            await dispatch(app)
            await sandbox.wait_idle(person.user_id, quiet=0.2)
    assert len(reminders(person)) == 1
    (status,) = rows(
        settings.database,
        "SELECT status FROM reminders WHERE lead = '1d' AND event_id = ?",
        KARLSRUHE,
    )
    assert status == ("sent",)


async def test_owed_reminder_dropped_once_the_meeting_began(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A reminder still owed when the meeting has begun is dropped, not sent late."""
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        person = Person(sandbox, 2003)
        await follow_all_meetings(person)
    clock.set(datetime(2027, 3, 18, 10, 30, tzinfo=BERLIN))
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        await dispatch(app)
    assert reminders(person) == []
    statuses = rows(
        settings.database, "SELECT status FROM reminders WHERE event_id = ?", KARLSRUHE
    )
    assert statuses
    assert all(s == ("dropped",) for s in statuses)


async def test_changed_event_moves_reminders_and_notifies(
    bot: BotApp,
    person: Person,
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``netzwerkbot import`` of a moved meeting: pending reminders move, a notice goes out."""
    await follow_all_meetings(person)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert len(reminders(person)) == 1

    moved = (
        DEMO_FILE.read_text(encoding="utf-8")
        .replace("start = 2027-03-18T10:00:00", "start = 2027-03-18T14:00:00")
        .replace("end = 2027-03-18T16:00:00", "end = 2027-03-18T18:00:00")
    )
    await operator_import(moved, settings, tmp_path, monkeypatch)

    await dispatch(bot)
    notices = [m.text or "" for m in person.messages() if (m.text or "").startswith("Geändert")]
    assert len(notices) == 1
    assert "14:00" in notices[0]
    due = rows(
        settings.database,
        "SELECT due_at FROM reminders WHERE event_id = ? AND lead = '1d'",
        KARLSRUHE,
    )
    # Reminded already, but the meeting moved: the 1-day reminder comes again, at the new time.
    assert due == [("2027-03-17T13:00:00+00:00",)]


async def test_stopp_then_nothing_more(bot: BotApp, person: Person, clock: ManualClock) -> None:
    """/stopp asks, unsubscribes from everything, offers a way back; nothing arrives after."""
    await follow_all_meetings(person)
    (question,) = await person.say("/stopp")
    await person.press("Ja", question)
    assert "Rückgängig" in str(person.messages()[-1].reply_markup)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert reminders(person) == []
    (panel,) = await person.say("/abo")
    assert "✅" not in str(panel.reply_markup)


async def test_stopp_can_be_undone(bot: BotApp, person: Person, clock: ManualClock) -> None:
    """The way back restores the subscriptions and their reminders."""
    await follow_all_meetings(person)
    (question,) = await person.say("/stopp")
    await person.press("Ja", question)
    await person.press("Rückgängig")
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert len(reminders(person)) == 1


async def test_blocked_person_gets_nothing_until_back(
    bot: BotApp, sandbox: Sandbox, person: Person, clock: ManualClock, settings: Settings
) -> None:
    """A person who blocks the bot is recorded and skipped; /start brings them back.

    What came due while they had blocked the bot is not sent late; later reminders are.
    """
    await follow_all_meetings(person)
    sandbox.set_bot_blocked(person.user_id)
    await sandbox.wait_idle(person.user_id, quiet=0.2)
    status = "SELECT status FROM subscribers WHERE chat_id = ?"
    assert rows(settings.database, status, person.user_id) == [("blocked",)]
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert reminders(person) == []
    sandbox.set_bot_blocked(person.user_id, blocked=False)
    await person.say("/start")
    assert rows(settings.database, status, person.user_id) == [("active",)]
    await dispatch(bot)
    assert reminders(person) == []
    clock.set(TWO_HOURS_BEFORE)
    await dispatch(bot)
    (text,) = reminders(person)
    assert text.startswith("Erinnerung: Heute")


async def test_403_on_send_marks_blocked(
    bot: BotApp, sandbox: Sandbox, person: Person, clock: ManualClock, settings: Settings
) -> None:
    """A 403 when a reminder is sent marks the person blocked; nothing is retried."""
    await follow_all_meetings(person)
    sandbox.inject_fault(person.user_id, "blocked")
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert rows(
        settings.database, "SELECT status FROM subscribers WHERE chat_id = ?", person.user_id
    ) == [("blocked",)]
    sends = [c for c in sandbox.calls if c.method == "sendMessage" and c.chat_id == person.user_id]
    await dispatch(bot)
    assert [
        c for c in sandbox.calls if c.method == "sendMessage" and c.chat_id == person.user_id
    ] == sends


async def test_late_subscription_gets_no_stale_reminder(
    bot: BotApp, person: Person, clock: ManualClock
) -> None:
    """Subscribing after the 1-day lead passed brings only the 2-hour reminder."""
    clock.set(ONE_DAY_BEFORE + timedelta(hours=1))
    await follow_all_meetings(person)
    await dispatch(bot)
    assert reminders(person) == []
    clock.set(TWO_HOURS_BEFORE)
    await dispatch(bot)
    (text,) = reminders(person)
    assert text.startswith("Erinnerung: Heute")


async def test_weekly_preview_on_monday(bot: BotApp, person: Person, clock: ManualClock) -> None:
    """Monday 08:00: one preview of the week's meetings the person follows; once."""
    await follow_all_meetings(person)
    (panel,) = await person.say("/abo")
    await person.press("Wochenvorschau", panel)
    clock.set(datetime(2027, 3, 15, 8, 0, tzinfo=BERLIN))  # Monday of the Karlsruhe week
    assert bot.job_queue is not None
    (job,) = bot.job_queue.get_jobs_by_name(JOB_WEEKLY)
    await job.run(bot)
    await job.run(bot)
    previews = [
        m.text or "" for m in person.messages() if (m.text or "").startswith("Ihre Wochenvorschau")
    ]
    assert len(previews) == 1
    assert "18. März 2027" in previews[0]


async def test_free_text_subscription(bot: BotApp, person: Person, settings: Settings) -> None:
    """ "Ich möchte Erinnerungen für cyberLAGO" offers a one-tap subscription."""
    replies = await person.say("ich möchte Erinnerungen für cyberLAGO")
    await person.press("cyberLAGO", replies[-1])
    assert rows(
        settings.database,
        "SELECT topic, target FROM subscriptions WHERE chat_id = ?",
        person.user_id,
    ) == [("network", "cyberlago")]


SPECIAL_EVENTS = """\
schema_version = 2
language = "de"
timezone = "Europe/Berlin"

[[events]]
id = "test-dst-sonntag"
fictional = true
kind = "network_meeting"
title = "Treffen am Tag der Zeitumstellung"
description = "Erfundener Testtermin."
status = "planned"
date = 2027-03-28
start = 2027-03-28T12:00:00
city = "Ulm"

[[events]]
id = "test-fruehstueck"
fictional = true
kind = "network_meeting"
title = "Frühstückstreffen"
description = "Erfundener Testtermin."
status = "planned"
date = 2027-04-15
start = 2027-04-15T06:30:00
city = "Ulm"
"""


async def test_dst_day_and_quiet_hours(
    bot: BotApp,
    person: Person,
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reminders on the day the clocks change come once at the right local time; none at night."""
    await follow_all_meetings(person)
    await operator_import(SPECIAL_EVENTS, settings, tmp_path, monkeypatch)
    due = dict(
        rows(
            settings.database,
            "SELECT event_id || '/' || lead, due_at FROM reminders WHERE event_id LIKE 'test-%'",
        )
    )
    assert due == {
        # Saturday 12:00 CET: the wall time one calendar day before (23 hours in absolute time).
        "test-dst-sonntag/1d": "2027-03-27T11:00:00+00:00",
        # Sunday 10:00 CEST: two absolute hours before 12:00 CEST.
        "test-dst-sonntag/2h": "2027-03-28T08:00:00+00:00",
        "test-fruehstueck/1d": "2027-04-14T05:00:00+00:00",  # 06:30 is quiet: at their end
        # 04:30 is quiet and the meeting starts before they end: 15 minutes before 22:00.
        "test-fruehstueck/2h": "2027-04-14T19:45:00+00:00",
    }
    clock.set(datetime(2027, 3, 27, 12, 0, tzinfo=BERLIN))
    await dispatch(bot)
    mine = [r for r in reminders(person) if "Zeitumstellung" in r]
    assert mine == [mine[0]]
    assert mine[0].startswith("Erinnerung: Morgen, Sonntag, 28. März 2027, 12:00 Uhr")
    clock.set(datetime(2027, 3, 28, 9, 59, tzinfo=BERLIN))
    await dispatch(bot)
    assert len([r for r in reminders(person) if "Zeitumstellung" in r]) == 1
    clock.set(datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN))
    await dispatch(bot)
    await dispatch(bot)
    mine = [r for r in reminders(person) if "Zeitumstellung" in r]
    assert len(mine) == 2
    assert mine[1].startswith("Erinnerung: Heute, Sonntag, 28. März 2027, 12:00 Uhr")


async def test_a_reminder_due_before_the_next_wake_gets_its_own(
    bot: BotApp, person: Person, clock: ManualClock
) -> None:
    """A reminder due within the wake interval is not left waiting for the next tick."""
    await follow_all_meetings(person)
    clock.set(ONE_DAY_BEFORE - timedelta(seconds=2))
    await dispatch(bot)
    assert bot.job_queue is not None
    jobs = bot.job_queue.get_jobs_by_name(f"{JOB_DISPATCH}:due")
    assert jobs, "a wake of its own, at the due time"
    assert all(job.next_t is not None for job in jobs)
    clock.set(ONE_DAY_BEFORE)
    await jobs[0].run(bot)
    assert len(reminders(person)) == 1


async def test_stop_wish_in_words_is_carried_out_and_undone(
    bot: BotApp, person: Person, clock: ManualClock
) -> None:
    """A clear wish in free text stops everything as /stopp does; one tap undoes it."""
    await follow_all_meetings(person)
    (done,) = await person.say("Bitte melden Sie mich von allen Erinnerungen ab")
    assert (done.text or "").startswith("Erledigt: Sie erhalten keine Erinnerungen mehr.")
    assert "Rückgängig" in str(done.reply_markup)
    (panel,) = await person.say("/abo")
    assert "✅" not in str(panel.reply_markup)
    await person.press("Rückgängig", done)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert len(reminders(person)) == 1


async def test_stop_wish_without_subscriptions_says_so(bot: BotApp, person: Person) -> None:
    """A person who follows nothing is told so; nothing is changed."""
    (reply,) = await person.say("hör auf mir zu schreiben!!!")
    assert "nichts abonniert" in (reply.text or "")


async def test_how_to_unsubscribe_is_only_explained(bot: BotApp, person: Person) -> None:
    """'Wie melde ich mich ab?' explains and offers the button; the subscriptions stay."""
    await follow_all_meetings(person)
    (reply,) = await person.say("Wie melde ich mich ab?")
    assert "/stopp" in (reply.text or "")
    (panel,) = await person.say("/abo")
    assert "✅" in str(panel.reply_markup)
