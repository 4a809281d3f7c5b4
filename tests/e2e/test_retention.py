"""The privacy text's promise kept: the one daily purge job deletes what is too old.

The real bot polls the sandbox on a real SQLite file; the clock is the bot's ManualClock and
the job is run directly (``job.run``) instead of waiting for 03:30.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.app import JOB_PURGE, BotApp, services_of
from bot.domain.account import Purpose
from tests.conftest import BERLIN
from tests.e2e.conftest import Person
from tests.e2e.test_meetings import dispatch, follow_all_meetings

if TYPE_CHECKING:
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

# The day before the demo's spring meeting (18 March 2027, 10:00): its 1d reminder is due.
ONE_DAY_BEFORE = datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)


def count(database: Path, sql: str, *args: object) -> int:
    """Count rows with a second connection."""
    with sqlite3.connect(database) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


async def purge(app: BotApp) -> None:
    """Run the daily purge job now."""
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(JOB_PURGE)
    await job.run(app)


async def test_daily_purge_keeps_the_privacy_promise(
    bot: BotApp, person: Person, sandbox: Sandbox, clock: ManualClock, settings: Settings
) -> None:
    """Sent reminders, stopped subscribers and ended dialogs go after their time, no sooner."""
    db = settings.database
    stopper = Person(sandbox, 1002)
    await follow_all_meetings(stopper)
    await follow_all_meetings(person)
    await services_of(bot).stores.accounts.start(2002, Purpose.LINK, now=clock.now())
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    (question,) = await stopper.say("/stopp")
    await stopper.press("Ja", question)
    sent = "SELECT COUNT(*) FROM reminders WHERE chat_id = ? AND status = 'sent'"
    assert count(db, sent, person.user_id) == 1
    pending = count(db, "SELECT COUNT(*) FROM reminders WHERE status = 'pending'")
    assert count(db, "SELECT COUNT(*) FROM account_flows") == 1

    clock.advance(timedelta(days=89))
    await purge(bot)
    assert count(db, "SELECT COUNT(*) FROM account_flows") == 0, "an ended dialog: an hour"
    assert count(db, sent, person.user_id) == 1, "not yet 90 days"
    assert count(db, "SELECT COUNT(*) FROM subscribers WHERE chat_id = ?", stopper.user_id) == 1

    clock.advance(timedelta(days=90))
    await purge(bot)
    assert count(db, sent, person.user_id) == 0, "sent 90 days ago and more"
    assert count(db, "SELECT COUNT(*) FROM subscribers WHERE chat_id = ?", stopper.user_id) == 0
    assert count(db, "SELECT COUNT(*) FROM subscribers WHERE chat_id = ?", person.user_id) == 1
    still = count(db, "SELECT COUNT(*) FROM reminders WHERE status = 'pending'")
    assert 0 < still <= pending, "reminders still ahead stay"
    assert count(db, "SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", person.user_id) > 0


async def test_privacy_text_says_how_long(bot: BotApp, person: Person) -> None:
    """/datenschutz names the retention in days, the dialogs' hour and the code counters."""
    (reply,) = await person.say("/datenschutz")
    text = reply.text or ""
    assert "noch 90 Tage" in text
    assert "90 Tage, nachdem sie fällig waren oder verschickt wurden" in text
    assert "eine Stunde darüber hinaus" in text
    assert "falsche Codes je Adresse" in text
